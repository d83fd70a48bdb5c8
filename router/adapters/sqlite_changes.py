"""Whether anything was committed to an SQLite file since last asked, for the price of one pragma.

The turn worker of `kanal worker` finds new inbox entries by reading the inbox every 50 ms
(router/entrypoints/worker.py). Each read is a SELECT through SQLAlchemy (a connection from
the pool, BEGIN, the statement, ROLLBACK): about 0.8 ms of CPU on a busy machine, 16 ms of
CPU a second in a worker with nothing to do, and a share of every answered SMS's CPU when
the turns run slower than the polls. SQLite counts the commits other connections make to a
file: `PRAGMA data_version` on one connection answers a different number after any other
connection (of this process or another) committed to it, so an unchanged number means the
read would find nothing new. A connection is kept open for asking, one per process.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from sqlalchemy.engine import URL


class Commits:
    """Tells whether any connection committed to the SQLite file since the last question."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._lock = threading.RLock()  # close() is also called while asking
        self._connection: tuple[int, sqlite3.Connection] | None = None  # (pid, connection)
        self._version: int | None = None

    def none_since_asked(self) -> bool:
        """True when nothing was committed to the file since the last call; False when
        something was, on the first call, or when it cannot be told (the file unreadable)."""
        with self._lock:
            try:
                version = self._ask()
            except sqlite3.Error:
                self.close()
                return False
            same = version == self._version
            self._version = version
            return same

    def _ask(self) -> int:
        kept = self._connection
        if kept is None or kept[0] != os.getpid():  # a forked child opens its own
            self._version = None
            connection = sqlite3.connect(self.database, check_same_thread=False)
            self._connection = kept = (os.getpid(), connection)
        return kept[1].execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        """Close the connection kept for asking (a later question opens it again)."""
        with self._lock:
            kept, self._connection = self._connection, None
            if kept is not None and kept[0] == os.getpid():
                kept[1].close()


def commits_to(url: URL) -> Commits | None:
    """The commits to the SQLite file of the engine URL `url`; None for PostgreSQL or a
    database in memory (the worker then reads the inbox on every poll)."""
    database = url.database or ""
    memory = database in ("", ":memory:") or "mode=memory" in str(url.query)
    if url.get_backend_name() != "sqlite" or memory or database.startswith("file:"):
        return None
    return Commits(database)
