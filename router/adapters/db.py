"""Engine and session factory for SQLite (embedded, WAL) or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from router.adapters import sqlite_checkpoints
from router.adapters.orm import metadata, start_mappers
from router.adapters.sqlite_checkpoints import on_commit
from router.adapters.sqlite_writers import QueuedConnection, queue_for

BUSY_SECONDS = 30  # how long a connection waits for SQLite's write lock before failing


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """Create an engine tuned for the database behind `url`.

    On SQLite every transaction takes the write lock at BEGIN (`immediate`), so two writers
    queue instead of deadlocking; a store whose transactions are single statements (the
    inbox) can leave reads lock-free. Writers to a database file queue for the lock across
    processes (router/adapters/sqlite_writers.py) instead of sleeping in SQLite's busy handler.
    """
    start_mappers()
    if url.startswith("sqlite"):
        database = make_url(url).database or ""
        queued = immediate and database not in ("", ":memory:") and "mode=memory" not in url
        busy = BUSY_SECONDS
        connect: dict = {"check_same_thread": False, "timeout": busy}
        if queued:
            connect["factory"] = QueuedConnection
        engine = create_engine(url, connect_args=connect)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
            wal(dbapi_conn, busy)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            # Checkpoints run in a thread of their own (sqlite_checkpoints); a commit only
            # checkpoints past the WAL's bound.
            cur.execute(f"PRAGMA wal_autocheckpoint={sqlite_checkpoints.WAL_BOUND_PAGES}")
            cur.close()
            if isinstance(dbapi_conn, QueuedConnection):
                dbapi_conn.writers, dbapi_conn.wait_seconds = queue_for(database), busy
            # Take the write lock at BEGIN so two writers queue instead of deadlocking.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            raw = conn.connection.dbapi_connection
            if isinstance(raw, QueuedConnection):
                raw.take_place()  # given back when the transaction commits or rolls back
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            except BaseException:
                if isinstance(raw, QueuedConnection):
                    raw.give_back()
                raise

        event.listen(engine, "commit", on_commit(database))  # checkpoints soon, apart
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def wal(dbapi_conn: sqlite3.Connection, wait_seconds: float = BUSY_SECONDS) -> None:
    """Put the SQLite file in WAL mode (a property of the file, kept once set).

    On a file not yet in WAL (a fresh one), SQLite answers the switch "database is locked" at
    once, without waiting out its busy timeout, when another connection switches it at the
    same moment or is writing: the web, the stream process's poller and a worker opening the
    file together. Try again, for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_all(engine: Engine) -> None:
    """Create every table directly (tests); deployments use Alembic migrations."""
    metadata.create_all(engine)
