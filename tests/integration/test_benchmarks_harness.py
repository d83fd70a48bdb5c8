"""`make bench`: a hanging benchmark is stopped with its servers, the next runs; the envelope."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from benchmarks import __main__ as harness
from benchmarks import results


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.1)
    return False


def test_a_hanging_benchmark_is_stopped_with_its_server_and_the_next_one_runs(tmp_path):
    pid_file = tmp_path / "server.pid"
    hangs = (
        "import subprocess, sys, time\n"
        "server = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(server.pid))\n"
        "time.sleep(600)\n"
    )
    commands = {"hangs": [sys.executable, "-c", hangs], "passes": [sys.executable, "-c", "pass"]}
    runs = harness.run_all(["hangs", "passes"], [], timeout=5, command=lambda n, _: commands[n])
    assert [r["status"] for r in runs] == ["timed out after 5 s", "ok"]
    assert _gone(int(pid_file.read_text())), "the hanging benchmark's server is still running"


def test_a_failing_benchmark_is_reported_and_none_starts_past_the_budget():
    fails = [sys.executable, "-c", "raise SystemExit(3)"]
    runs = harness.run_all(["fails"], [], timeout=30, command=lambda n, _: fails)
    assert runs[0]["status"] == "exit 3"
    runs = harness.run_all(["a", "b"], [], budget=60, timeout=50, command=lambda n, _: fails)
    assert [r["status"] for r in runs] == ["skipped: 20 s left of the budget, its timeout 50 s"] * 2


def test_results_start_with_the_machine_and_the_headlines_then_keep_their_own(tmp_path):
    own = {
        "about": {"database": "SQLite (WAL)", "cpus": 2},
        "claimers": 16,
        "target": {"postgresql_p99_ms": 25},
        "postgresql": {
            "claims": {"p99_ms": 20.0, "double_assignments": 0},
            "baseline": {"p99_ms": 10.0},
            "ratio_p99": 2.0,
        },
    }
    written = results.write("claims", own, quick=True, to=tmp_path / "claims.quick.json")
    data = json.loads(written.read_text())
    assert list(data)[:2] == ["about", "summary"]
    about = data["about"]
    assert about["database"] == "SQLite (WAL)" and about["quick"] is True
    assert len(about["load_average_before"]) == len(about["load_average_after"]) == 3
    assert about["git_commit"] and about["python"] and about["cpu_model"] is not None
    assert about["databases"]["sqlite"]
    assert data["summary"][0]["metric"].startswith("claim p99") and data["summary"][0]["met"]
    assert {k: data[k] for k in ("claimers", "target", "postgresql")} == {
        k: own[k] for k in ("claimers", "target", "postgresql")
    }


def test_a_new_run_keeps_what_was_recorded_beside_the_figures_and_says_so(tmp_path):
    target = tmp_path / "claims.json"
    first = {"postgresql": {"ratio_p99": 3.0}, "profile_out_of_reach": {"cpu_ms": 4.4}}
    results.write("claims", first, to=target)

    results.write("claims", {"postgresql": {"ratio_p99": 2.0}}, to=target)

    data = json.loads(target.read_text())
    assert data["postgresql"] == {"ratio_p99": 2.0}  # the new run's own figures
    assert data["profile_out_of_reach"] == {"cpu_ms": 4.4}  # kept, not dropped
    assert data["about"]["kept_from_earlier_runs"] == ["profile_out_of_reach"]
