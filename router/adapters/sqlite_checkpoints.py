"""SQLite's WAL checkpoints in a thread of their own, not in the request whose commit came next.

In WAL mode a commit appends its pages to `<database>-wal`; a checkpoint copies them back
into the database file and syncs both files. SQLite runs one inside the commit that leaves
more than `wal_autocheckpoint` pages (1,000 by default) in the WAL, and that commit's caller
waits for it: 25-115 ms on these disks, about one commit in a hundred under the webhook load,
and with group commit every webhook of the batch (and every writer queued behind it) waits
too. That was the acknowledgement's p99.

So each process runs a `Checkpointer` per database file it writes: told by every commit
that the WAL grew (`wrote`, an attribute read and an event), it runs a PASSIVE checkpoint
at most every CHECKPOINT_EVERY seconds (PASSIVE never waits for or blocks a reader or a
writer; what a reader still needs is copied the next time), and stops after IDLE_SECONDS
without a write, to be started again by the next one (a forked process gets its own).

The WAL stays bounded: kanal's connections checkpoint by themselves only past
WAL_BOUND_PAGES (db.py), not turned off. SQLite starts the WAL file over only once it has
been copied completely, which writes arriving during a checkpoint in another thread can
postpone for as long as they keep coming; past the bound the next commit checkpoints as
before, with the writers queued behind it (sqlite_writers), so that checkpoint completes and
the WAL starts over. It copies only what came since the thread's last checkpoint, and
comes once per WAL_BOUND_PAGES pages instead of once per 1,000. A process that writes
without a checkpointer (another program) only leaves the WAL to that bound too.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 0.2  # seconds between the checkpoints of a process while it writes
IDLE_SECONDS = 10.0  # the thread stops after this long without a write
# A commit that leaves more pages than this in the WAL checkpoints by itself (SQLite's
# wal_autocheckpoint; its default is 1,000): the WAL's bound, ~40 MB at 4 KiB pages.
WAL_BOUND_PAGES = 10_000

_checkpointers: dict[tuple[int, str], Checkpointer] = {}
_registry_lock = threading.Lock()


def checkpointer_for(database: str) -> Checkpointer | None:
    """This process' checkpointer of the SQLite file `database`; None for a database in
    memory (no WAL)."""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    path = os.path.realpath(database)
    key = (os.getpid(), path)
    with _registry_lock:
        found = _checkpointers.get(key)
        if found is None:
            found = _checkpointers[key] = Checkpointer(path)
        return found


def on_commit(database: str) -> Callable[..., None]:
    """A function to call after each commit on `database` (any arguments: SQLAlchemy's
    "commit" event passes the connection): it tells the checkpointer of the process calling
    it (looked up again in a forked child)."""
    found: list = [None, None]  # pid, checkpointer

    def wrote(*_event: object) -> None:
        pid = os.getpid()
        if found[0] != pid:
            found[:] = pid, checkpointer_for(database)
        if found[1] is not None:
            found[1].wrote()

    return wrote


class Checkpointer:
    """PASSIVE checkpoints of one database file, in a thread of this process while it writes."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.checkpoints = 0  # run so far (tests, logs)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wrote(self) -> None:
        """A transaction on the file has committed (or may have): checkpoint soon."""
        if self._thread is None:
            self._start()
        if not self._wake.is_set():
            self._wake.set()

    def running(self) -> bool:
        return self._thread is not None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="kanal-sqlite-checkpoints", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            while self._wake.wait(IDLE_SECONDS):
                time.sleep(CHECKPOINT_EVERY)  # the writes of that time make one copy
                self._wake.clear()
                self._checkpoint()
        finally:
            with self._lock:
                self._thread = None
            if self._wake.is_set():  # a write came while it stopped: it has no thread now
                self._start()

    def _checkpoint(self) -> None:
        """One PASSIVE checkpoint, on a connection opened for it (an idle thread holds no
        file open; `mode=rw`: a file removed meanwhile is not made again)."""
        try:
            connection = sqlite3.connect(
                f"file:{quote(self.database)}?mode=rw", uri=True, isolation_level=None
            )
        except sqlite3.Error as exc:
            log.debug("no WAL checkpoint of %s: %s", self.database, exc)
            return
        try:
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the next one tries again; the bound holds meanwhile
            log.warning("a WAL checkpoint of %s failed: %s", self.database, exc)
            return
        finally:
            connection.close()
        self.checkpoints += 1
        log.debug("WAL checkpoint of %s: %s of %s frames (busy %s)", self.database, copied,
                  frames, busy)  # fmt: skip
