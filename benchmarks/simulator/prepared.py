"""The simulator benchmark's month, prepared: the shared history (benchmarks/million_contacts/
cache.py) folded into the simulator's recordings (once per version of the fold), and the daily
rollup brought up to date, as the scheduler's jobs keep them (`recorded_contacts`,
`metric_rollups`): the simulator reads its recorded needs from the rollup's contacts
(analytics/needs_completed.py). The rollup is the one benchmarks.million_contacts keeps in the
same copy; it is rebuilt only when another version of the metrics' code made it (minutes at a
million contacts), else only what was appended since its last run is recomputed.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from analytics import recordings, rollups
from analytics.reader import reader_engine
from benchmarks.million_contacts import cache

ROOT = Path(__file__).resolve().parents[2]
TZ = "Europe/Copenhagen"


def _digest(*paths: str) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update((ROOT / p).read_bytes())
    return h.hexdigest()[:10]


FOLD_KEY = f"{_digest('analytics/recorded.py')}:{recordings.FOLD_VERSION}"  # the fold


def _marks(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_cache (name VARCHAR(20), k TEXT)"))
            return dict(conn.execute(text("SELECT name, k FROM bench_cache")).all())
    finally:
        engine.dispose()


def _mark(url: str, name: str, key: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM bench_cache WHERE name = :n"), {"n": name})
            conn.execute(text("INSERT INTO bench_cache VALUES (:n, :k)"), {"n": name, "k": key})
    finally:
        engine.dispose()


def prepare(database: str, contacts: int, fresh: bool) -> tuple[str, dict]:
    """Return the URL of the shared history (benchmarks/million_contacts/cache.py: loaded
    once for both benchmarks) folded into the recordings, folding it unless already done."""
    out: dict = {}
    if database == "sqlite":
        url, loaded = cache.sqlite(contacts, fresh)
    else:
        url, loaded = cache.postgres(database, contacts, fresh)
    out["load"] = "reused (cached)" if "reused" in loaded else loaded
    marks = _marks(url)
    if "reused" not in loaded:
        marks.pop("fold", None)
    writer = create_engine(url)
    try:
        if marks.get("fold") == FOLD_KEY:
            out["fold"] = "reused (cached)"
        else:
            recordings.drop_tables(writer)
            started, cpu = time.perf_counter(), time.process_time()
            done = recordings.refresh(reader_engine(writer), writer)
            out["fold"] = {
                "contacts": done["contacts"],
                "seconds": round(time.perf_counter() - started, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
            }
            _mark(url, "fold", FOLD_KEY)
        out["rollups"] = refresh_rollups(writer)
    finally:
        writer.dispose()
    print(f"  prepared: {out}", flush=True)
    return url, out


def refresh_rollups(writer: Engine) -> dict | str:
    """Bring the daily rollup up to the log's last event as the scheduler's job does; return
    what it did and how long it took (or that it was up to date)."""
    started, cpu = time.perf_counter(), time.process_time()
    done = rollups.refresh(reader_engine(writer), writer, TZ)
    if not done["rebuilt"] and not done["contacts"]:
        return "up to date (cached)"
    return {
        **done,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
