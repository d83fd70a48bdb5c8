"""Exactly one active scheduler: a lock held for as long as the scheduler runs its jobs.

On PostgreSQL it is a session advisory lock on a connection of its own (advisory locks are
per database, so two kanal databases on one server never share it). A second `kanal
scheduler` waits as a hot standby, trying for the lock every few seconds; when the active
one dies, PostgreSQL sees its connection close and lets the lock go, and the standby takes
over. The holder checks its connection every few seconds: once it is gone the lock may
already be another's, so the holder stops its jobs and becomes a standby itself.

On SQLite (one machine) it is an exclusive file lock beside the database file, which the
operating system lets go when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

_KEY = "kanal:scheduler"
_TRY = text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))")
_ALIVE = text("SELECT 1")
# A connection whose server went quiet (no reset, no answer) counts as lost within seconds.
_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
}


class SchedulerLock:
    """The right to run the scheduler's jobs: at most one process holds it at a time."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self._conn: Connection | None = None
        self._file: int | None = None
        self._engine = None
        if self.url.get_backend_name() == "postgresql":
            self._engine = create_engine(self.url, poolclass=NullPool, connect_args=_KEEPALIVE)

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; return whether this process holds it now."""
        if self._engine is not None:
            return self._try_postgres()
        return self._try_file()

    def held(self) -> bool:
        """Return True while this process still holds the lock (its connection is alive)."""
        if self._engine is None:
            return self._file is not None or self._path() is None
        if self._conn is None:
            return False
        try:
            self._conn.execute(_ALIVE)
            self._conn.commit()
            return True
        except Exception:  # the server restarted or went away: the lock went with it
            log.warning("the scheduler lock's connection was lost; standing by")
            self._drop()
            return False

    def release(self) -> None:
        """Let the lock go (the process is stopping)."""
        if self._engine is not None:
            self._unlock()
            self._drop()
            self._engine.dispose()
        elif self._file is not None:
            os.close(self._file)  # closing the descriptor releases its lock
            self._file = None

    def _try_postgres(self) -> bool:
        if self._conn is not None:
            return self.held()
        try:
            conn = self._engine.connect()
        except Exception:  # the database is down: try again later
            log.warning("the scheduler lock could not reach the database")
            return False
        try:
            got = bool(conn.execute(_TRY, {"key": _KEY}).scalar())
            conn.commit()  # a session lock outlives the transaction: never idle in one
        except Exception:
            conn.invalidate()
            conn.close()
            return False
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _unlock(self) -> None:
        # Let go before closing: PostgreSQL frees a closed session's locks only once its
        # backend has ended, a moment after the client returns, and a standby trying then
        # would be refused.
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(_UNLOCK, {"key": _KEY})
                self._conn.commit()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # closing the session releases its advisory lock
            self._conn = None

    def _path(self) -> Path | None:
        database = self.url.database
        if not database or database == ":memory:":
            return None  # an in-memory database serves one process only
        return Path(database + ".scheduler.lock")

    def _try_file(self) -> bool:
        path = self._path()
        if path is None or self._file is not None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True
