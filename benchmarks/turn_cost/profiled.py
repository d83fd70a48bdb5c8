"""Where the CPU of one turn goes, by function: cProfile over a run of turns, summed per turn.

Kept in turn_cost.json (`profile`) beside the counts, so the figure that bounds the SMS turn
rate comes with the functions that make it up.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable

# Our own code, and the libraries a turn spends its time in.
OWN = ("/router/", "/channels/")


def _name(func: tuple[str, int, str]) -> str:
    path, line, name = func
    for marker in ("/site-packages/", "/router/", "/channels/", "/benchmarks/"):
        if marker in path:
            path = marker.strip("/") + "/" + path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def _part(func: tuple[str, int, str]) -> str:
    """Which part of the stack a function belongs to (its own code, not what it calls)."""
    path, _line, name = func
    if "sqlalchemy/orm/" in path:
        return "SQLAlchemy ORM (session, flush, loading, attributes)"
    if "sqlalchemy/" in path:
        return "SQLAlchemy Core (statements, compiled cache, execution, events)"
    if "sqlite3" in name or "psycopg" in path or "psycopg" in name:
        return "database driver (sqlite3 / psycopg) and the database's own work"
    if "/router/" in path or "/channels/" in path:
        return "kanal's own code (router, channels)"
    if "lingua" in name or "lingua" in path:
        return "language identification (lingua)"
    return "Python and other libraries"


def profile(run: Callable[[int], None], turns: int, first: int = 0, top: int = 25) -> dict:
    """Run `turns` turns under cProfile; return CPU per turn and the functions that take it
    (cumulative: the function and what it calls; own: the function's own code), in ms per turn."""
    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.enable()
    for i in range(first, first + turns):
        run(i)
    profiler.disable()
    cpu = time.process_time() - cpu
    stats = pstats.Stats(profiler).stats  # func -> (calls, primitive, own, cumulative, callers)

    def rows(key: int, keep: Callable[[str], bool]) -> list[dict]:
        ranked = sorted(stats.items(), key=lambda kv: kv[1][key], reverse=True)
        out = []
        for func, (calls, _prim, own, cumulative, _callers) in ranked:
            if not keep(func[0]):
                continue
            out.append({
                "function": _name(func),
                "calls_per_turn": round(calls / turns, 2),
                "ms_per_turn": round((cumulative if key == 3 else own) / turns * 1000, 3),
            })  # fmt: skip
            if len(out) == top:
                break
        return out

    by_part: dict[str, float] = {}
    for func, (_calls, _prim, own, _cumulative, _callers) in stats.items():
        by_part[_part(func)] = by_part.get(_part(func), 0.0) + own
    total = sum(by_part.values()) or 1.0
    return {
        "turns": turns,
        "own_time_share_by_part": {
            part: round(seconds / total, 3)
            for part, seconds in sorted(by_part.items(), key=lambda kv: kv[1], reverse=True)
        },
        "cpu_ms_per_turn_profiled": round(cpu / turns * 1000, 2),
        "note": "wall time under cProfile, whose own overhead roughly doubles the figures (and "
        "other tenants' load adds to them): read them as shares of one turn",
        "cumulative_own_code": rows(3, lambda path: any(m in path for m in OWN)),
        "own_time_anywhere": rows(2, lambda path: True),
    }
