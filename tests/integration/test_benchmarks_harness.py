"""`make bench`: a benchmark that hangs is stopped with its servers, reported, and the next runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks import __main__ as harness


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
    runs = harness.run_all(["a", "b"], [], budget=5, command=lambda n, _: fails)
    assert [r["status"] for r in runs] == ["skipped: the overall budget was spent"] * 2
