"""Run every benchmark in turn, each within a time budget: `python -m benchmarks` (`make bench`).

    python -m benchmarks [NAME ...] [--full] [--budget=SECONDS] [--timeout=SECONDS] [OPTION ...]

Without --full (`make bench`) each benchmark runs at its --quick size (PLAN; written to
`<name>.quick.json`), is stopped past its own timeout, and none starts once the overall budget
(15 minutes) is spent, so that `make bench` fits in 15 minutes on a 2-core machine. --full
(`make bench-full`) runs each at its full size (a million contacts for million_contacts and
simulator), written to `<name>.json`, with the long timeouts. --timeout sets every timeout.
Other options ("-...") are passed to every benchmark run. A benchmark that fails, times out or
is left out for want of time is reported and the next one runs; a whole run's record (what ran,
how, how long, the load average before and after) goes to benchmarks/results/_run.json, and the
README's table is regenerated (benchmarks/table.py). Exit status 1 if any did not finish with 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import results, table

HERE = Path(__file__).resolve().parent
BUDGET_S = 15 * 60
STOPPING_S = 40  # kept back from the budget: stopping a benchmark takes up to 35 s (stop())


@dataclass(frozen=True)
class Plan:
    bench: tuple[str, ...]  # the options `make bench` runs it with
    timeout_s: float  # under `make bench`
    full_timeout_s: float = 3 * 3600  # under `make bench-full`


# The headlines first (webhook, turn cost, turns vs Rasa, claims, streams, dashboard,
# surge), then the others, so that a loaded machine's budget cuts the others. `make bench`
# sizes: --quick, or smaller where --quick alone outran its share of the 15 minutes at load
# ~18 on the 2-core machine; each timeout is about 1.5-2 times the time then.
PLAN = {
    "claims": Plan(("--quick",), 90),
    "turn_cost": Plan(("--quick",), 120),
    "sms_webhook": Plan(("--quick", "--burst=150", "--concurrent-conversations=32"), 360),
    "streams": Plan(("--chats=60", "--desks=6", "--seconds=8"), 240),
    "million_contacts": Plan(("--quick",), 120, 6 * 3600),
    "surge": Plan(("--quick",), 240),
    "language_id": Plan(("--quick",), 60),
    "ivr_turn": Plan(("--quick",), 120),
    "simulator": Plan(("--quick",), 90, 3 * 3600),
    "channel_shift": Plan(("--quick",), 120),
    "rasa_memory": Plan(("--conversations=200", "--only=baseline,memory"), 240),
    # The "before" (exhaustive) check is stopped after 20 s a size under --quick.
    "policy_check": Plan(("--quick",), 150, 3600),
}
NEW = Plan(("--quick",), 90)  # a benchmark not in PLAN yet


def available() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "__main__.py").exists())


def order(names: list[str]) -> list[str]:
    """PLAN's order, then any benchmark PLAN does not know yet."""
    known = [n for n in PLAN if n in names]
    return known + sorted(n for n in names if n not in PLAN)


def descendants(pid: int) -> list[int]:
    """Every process below pid (also those in sessions of their own, e.g. servers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C first (the benchmark's `finally` stops its servers), then TERM, then KILL."""
    below = descendants(process.pid)
    for sig, grace in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        for pid in [process.pid, *below]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        try:
            process.wait(timeout=grace)
            if not any(Path(f"/proc/{pid}").exists() for pid in below):
                return
        except subprocess.TimeoutExpired:
            pass


def command_for(name: str, options: list[str]) -> list[str]:
    return [sys.executable, "-m", f"benchmarks.{name}", *options]


def run_one(name: str, command: list[str], timeout: float, quick: bool) -> dict:
    print(f"== {' '.join(command[2:])} (timeout {timeout:.0f} s)", flush=True)
    before, started = os.getloadavg(), time.monotonic()
    files_before = {p: p.stat().st_mtime for p in results.result_files()}
    env = {**os.environ, results.QUICK: "1" if quick else "0"}
    process = subprocess.Popen(command, cwd=HERE.parent, start_new_session=True, env=env)
    try:
        code = process.wait(timeout=timeout)
        status = "ok" if code == 0 else f"exit {code}"
    except subprocess.TimeoutExpired:
        stop(process)
        status = f"timed out after {timeout:.0f} s"
    except KeyboardInterrupt:
        stop(process)
        raise
    wrote = [
        p.name for p in results.result_files() if files_before.get(p) != p.stat().st_mtime
    ]  # fmt: skip
    seconds = round(time.monotonic() - started, 1)
    print(f"== benchmarks.{name}: {status} in {seconds:.0f} s; wrote {wrote or 'nothing'}",
          flush=True)  # fmt: skip
    return {
        "name": name,
        "options": command[3:],
        "status": status,
        "seconds": seconds,
        "timeout_s": round(timeout),
        "load_average_before": [round(x, 2) for x in before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wrote": wrote,
        "quick": quick,
    }


def run_all(names, options, *, full=False, budget=None, timeout=None, command=command_for):
    """Run each benchmark in turn; return what became of each (nothing is raised)."""
    started, runs = time.monotonic(), []
    for name in order(names):
        plan = PLAN.get(name, NEW)
        own = [] if full else list(plan.bench)
        limit = timeout or (plan.full_timeout_s if full else plan.timeout_s)
        if budget is not None:
            left = budget - STOPPING_S - (time.monotonic() - started)
            if left < limit / 2:  # would be stopped before it could finish: say so instead
                status = f"skipped: {max(left, 0):.0f} s left of the budget, "
                status += f"its timeout {limit:.0f} s"
                runs.append({"name": name, "status": status, "seconds": 0,
                             "options": own + options})  # fmt: skip
                print(f"== benchmarks.{name}: {status}", flush=True)
                continue
            limit = min(limit, left)
        own = [a for a in own if a.split("=")[0] not in {o.split("=")[0] for o in options}]
        runs.append(run_one(name, command(name, own + options), limit, not full))
    return runs


def _value(options: list[str], key: str) -> float | None:
    return next((float(a.split("=", 1)[1]) for a in options if a.startswith(key + "=")), None)


def main(argv: list[str]) -> int:
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:first_option] or available(), argv[first_option:]
    full = "--full" in options
    budget = _value(options, "--budget") or (None if full else BUDGET_S)
    timeout = _value(options, "--timeout")
    options = [
        a for a in options if a != "--full" and not a.startswith(("--budget=", "--timeout="))
    ]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available())}")
        return 2
    runs = run_all(names, options, full=full, budget=budget, timeout=timeout)
    record = {
        "about": results.machine(quick=not full),
        "mode": "make bench-full" if full else "make bench",
        "budget_s": budget,
        "benchmarks": runs,
        "not_finished": [r["name"] for r in runs if r["status"] != "ok"],
    }
    if set(names) == set(available()):  # a whole run: the README's table says how it went
        (results.DIR / "_run.json").write_text(json.dumps(record, indent=2) + "\n")
    table.write_readme()
    print(f"\n{len(runs)} benchmarks in {record['about']['seconds']:.0f} s", flush=True)
    for r in runs:
        print(f"  {r['name']:<18} {r['status']:<40} {r['seconds']:>6.0f} s")
    return 1 if record["not_finished"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
