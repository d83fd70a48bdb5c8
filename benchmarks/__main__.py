"""Run every benchmark in turn: `python -m benchmarks [NAME ...]` (what `make bench` runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "__main__.py").exists())


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available())}")
        return 2
    failed = 0
    for name in names:
        print(f"== benchmarks.{name}", flush=True)
        failed |= subprocess.call([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
