"""A read-only way into the router's database that never holds off its writers."""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from sqlalchemy import Engine, create_engine, event


def _sqlite_reader(url) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        # WAL lets this reader and the router's writer work side by side (the router's engine
        # sets it too, but a report may be the first to open a fresh database file).
        # On a fresh file another connection switches or writes to right now, SQLite says
        # "locked" at once: the router's engine makes it WAL, and a reader reads either way.
        with suppress(sqlite3.OperationalError):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA query_only=ON")  # analytics never writes the router's tables
        cur.close()
        dbapi_conn.isolation_level = None  # SQLAlchemy, not the driver, begins transactions

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        # A deferred BEGIN reads one WAL snapshot beside the writer; the router's engine
        # begins IMMEDIATE (the write lock), which would stall citizens' messages while a
        # report reads.
        conn.exec_driver_sql("BEGIN DEFERRED")

    return engine


def reader_engine(engine: Engine) -> Engine:
    """Return the engine analytics reads with: the router's own, or on SQLite a reader of
    its own that never takes the write lock."""
    if engine.dialect.name != "sqlite":
        return engine
    return _sqlite_reader(engine.url)
