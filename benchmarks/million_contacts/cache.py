"""Loaded histories kept between benchmark runs, so a run need not load a million contacts.

A history is loaded once per database kind, size and version of `history.py` (its SHA-256
names the copy), then reused: a SQLite file under the cache folder, a PostgreSQL database
named after it. A copy counts only once its load finished: the load's figures are written
beside it (`<name>.<database>.json`) after the last row, and a reused copy is migrated to
the newest schema first. `--fresh` (or removing the folder) loads again.

The folder is `KANAL_BENCH_CACHE`, else `~/.cache/kanal-bench`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.million_contacts.history import History
from benchmarks.million_contacts.load import load
from router.adapters.migrate import upgrade

HISTORY = Path(__file__).resolve().parent / "history.py"


def folder() -> Path:
    where = os.environ.get("KANAL_BENCH_CACHE") or Path.home() / ".cache" / "kanal-bench"
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path


def name(contacts: int) -> str:
    """Return the copy's name: its size and the history's version."""
    version = hashlib.sha256(HISTORY.read_bytes()).hexdigest()[:10]
    return f"kanal_bench_million_{contacts}_{version}"


def _marker(contacts: int, database: str) -> Path:
    return folder() / f"{name(contacts)}.{database}.json"


def _loaded(contacts: int, database: str, fresh: bool) -> dict | None:
    marker = _marker(contacts, database)
    if fresh or not marker.exists():
        return None
    return json.loads(marker.read_text())


def _finish(contacts: int, database: str, loaded: dict) -> dict:
    _marker(contacts, database).write_text(json.dumps(loaded) + "\n")
    return loaded


def sqlite(contacts: int, fresh: bool = False) -> tuple[str, dict]:
    """Return the URL of a SQLite copy of the history and how it was loaded (or reused)."""
    path = folder() / f"{name(contacts)}.db"
    url = f"sqlite:///{path}"
    found = _loaded(contacts, "sqlite", fresh)
    if found is not None and path.exists():
        upgrade(url)
        return url, {**found, "reused": str(path)}
    _marker(contacts, "sqlite").unlink(missing_ok=True)
    for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        old.unlink(missing_ok=True)
    return url, _finish(contacts, "sqlite", load(url, History(contacts).rows()))


def postgres(admin: str, contacts: int, fresh: bool = False) -> tuple[str, dict]:
    """Return the URL of a PostgreSQL copy of the history (a database of its own) and how
    it was loaded (or reused); `admin` is a URL of a database to create it from."""
    database = name(contacts)
    url = admin.rsplit("/", 1)[0] + "/" + database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).first()
            found = _loaded(contacts, "postgresql", fresh)
            if exists and found is not None:
                upgrade(url)
                return url, {**found, "reused": database}
            _marker(contacts, "postgresql").unlink(missing_ok=True)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        engine.dispose()
    return url, _finish(contacts, "postgresql", load(url, History(contacts).rows()))
