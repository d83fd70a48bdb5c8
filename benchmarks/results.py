"""The results envelope every benchmark writes: the machine's facts and the headline rows.

Each `benchmarks/results/<name>.json` starts with

- `about`: the machine's facts (`cpus`, `cpu_model`, `load_average_before` and `_after`,
  `python`, `git_commit`, `databases`, `when`, `quick`, `seconds`), merged under the
  benchmark's own `about` keys (the benchmark's win);
- `summary`: the headline rows, each `{metric, value, unit, target, met, baseline, ratio}`
  (benchmarks/headlines.py reads them from the benchmark's own keys, which follow unchanged).

A `--quick` run writes `<name>.quick.json`, so a smoke run never overwrites a full one.
`python -m benchmarks.results --stamp` adds the summary to files written before the envelope
(their `about` keeps only what the benchmark recorded then).
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIR = HERE / "results"
ROOT = HERE.parent
# Imported when a benchmark starts: the load average before it, and its start.
STARTED = time.monotonic()
LOAD_BEFORE = os.getloadavg()
QUICK = "KANAL_BENCH_QUICK"  # set by `make bench`: the sizes are its own, not the full ones


def path(name: str, quick: bool = False) -> Path:
    return DIR / (f"{name}.quick.json" if quick else f"{name}.json")


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def git_commit() -> str | None:
    """HEAD, "+changes" if the code differs from it (results and the README's table aside)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()  # fmt: skip

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                      ":(exclude)benchmarks/results", ":(exclude)README.md")  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if changed else "")


def postgres_version() -> str | None:
    """The PostgreSQL server the benchmarks would use (KANAL_TEST_POSTGRES_URL), if it answers."""
    url = os.environ.get("KANAL_TEST_POSTGRES_URL")
    if not url:
        return None
    try:
        import psycopg

        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(conninfo, connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 - not answering is a fact to record, not an error
        return None


def machine(quick: bool) -> dict:
    """The facts of this machine and run, taken now (the load average after the run)."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_before": [round(x, 2) for x in LOAD_BEFORE],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "databases": {"sqlite": sqlite3.sqlite_version, "postgresql": postgres_version()},
        "seconds": round(time.monotonic() - STARTED, 1),
        "argv": sys.argv[1:],
    }


def envelope(name: str, data: dict, about: dict) -> dict:
    """`about` and `summary` first, then the benchmark's own keys."""
    from benchmarks.headlines import summary

    own = data.get("about") if isinstance(data.get("about"), dict) else {}
    rest = {k: v for k, v in data.items() if k not in ("about", "summary")}
    return {"about": {**about, **own}, "summary": summary(name, data), **rest}


def write(name: str, data: dict, *, quick: bool = False, to: Path | None = None) -> Path:
    """Write a benchmark's results in the envelope; return the file written.

    Under `make bench` (QUICK set by the harness) every run is a quick one, whatever its sizes.
    """
    quick = quick or os.environ.get(QUICK) == "1"
    target = to or path(name, quick)
    target.parent.mkdir(parents=True, exist_ok=True)
    out = envelope(name, data, machine(quick))
    out["about"]["quick"] = quick
    kept = _earlier(target, out)
    if kept:  # profiles and runs recorded beside the figures, not written by this run
        out.update(kept)
        out["about"]["kept_from_earlier_runs"] = sorted(kept)
    text = json.dumps(out, indent=2, ensure_ascii=False, default=str)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def _earlier(target: Path, out: dict) -> dict:
    """The keys of the file already at `target` that this run does not write: a profile or
    an earlier run kept beside the figures (named in about.kept_from_earlier_runs)."""
    try:
        before = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(before, dict):
        return {}
    return {k: v for k, v in before.items() if k not in out}


def name_of(file: Path) -> str:
    return file.name.removesuffix(".json").removesuffix(".quick")


def stamp(file: Path) -> bool:
    """Give a file written before the envelope its summary; True if it changed."""
    data = json.loads(file.read_text(encoding="utf-8"))
    out = envelope(name_of(file), data, {"quick": file.name.endswith(".quick.json")})
    if out == data:
        return False
    file.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def result_files() -> list[Path]:
    return sorted(p for p in DIR.glob("*.json") if not p.name.startswith("_"))


if __name__ == "__main__":
    if sys.argv[1:] != ["--stamp"]:
        sys.exit("usage: python -m benchmarks.results --stamp")
    for file in result_files():
        print(("stamped " if stamp(file) else "already in the envelope ") + file.name)
