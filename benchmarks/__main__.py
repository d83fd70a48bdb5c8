"""Run every benchmark in turn: `python -m benchmarks [NAME ...] [--quick ...]` (`make bench`).

Options (anything starting with "-") are passed to every benchmark run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "__main__.py").exists())


def main(argv: list[str]) -> int:
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:first_option] or available(), argv[first_option:]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available())}")
        return 2
    failed = 0
    for name in names:
        print(f"== benchmarks.{name}", flush=True)
        command = [sys.executable, "-m", f"benchmarks.{name}", *options]
        failed = max(failed, subprocess.call(command, cwd=HERE.parent))
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
