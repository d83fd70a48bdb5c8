"""SQLite's writers in a queue: a write transaction waits its turn, and is woken as soon as it
comes, across every kanal process on the same database file.

SQLite lets one writer in at a time. A second `BEGIN IMMEDIATE` meets SQLITE_BUSY, and
SQLite's busy handler then sleeps and tries again in steps of 1, 2, 5, 10, 15, 20, 25, 50 and
100 ms: under load a writer sleeps on long after the lock came free, and the web's p99 is
those sleeps (16 chat conversations on two web processes: p90 of the wait 50-90 ms, p99
about 700 ms, while the lock itself was held 2 ms at the median).

So each write transaction first takes its place in a queue: within a process a
`threading.Lock` (the threads of one process queue on it, and the next one runs as soon as
it is let go), then, across processes, an exclusive `flock` on a file beside the database
(`<database>-writers.lock`), which the kernel grants as soon as the other process lets go.
The place is taken before `BEGIN IMMEDIATE` and given back once the transaction has
committed, rolled back or its connection closed (a process that dies gives it back with its
file descriptors). SQLite stays the judge: anything that writes without the queue (another
program, a migration) only waits on SQLite's own busy handler, as before.

A write transaction begun by a thread that already holds its process' place (a second
connection inside the first transaction) does not queue: it waits on SQLite's busy handler
and fails after its busy timeout, as it always did, instead of waiting for itself. A place
not had within the busy timeout is given up too: the transaction then goes to SQLite, which
answers "database is locked" as it would have.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

_queues: dict[tuple[int, str], WriterQueue] = {}
_registry_lock = threading.Lock()


def queue_for(database: str) -> WriterQueue:
    """Return this process' queue for the writers of the SQLite file `database`."""
    path = os.path.realpath(database) + "-writers.lock"
    key = (os.getpid(), path)  # a forked child has its own place in the queue
    with _registry_lock:
        found = _queues.get(key)
        if found is None:
            found = _queues[key] = WriterQueue(path)
        return found


class WriterQueue:
    """One process' place in the queue of a database's writers."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._turn = threading.Lock()  # this process' threads, one after another
        self._owner: int | None = None  # the thread holding the place
        self._fd: int | None = None
        # A blocked flock cannot time out, so a helper thread waits in the kernel's queue
        # on behalf of the thread holding `_turn`, which waits for it at most `timeout`.
        self._cond = threading.Condition()
        self._asked = self._granted = False
        self._held = False  # the file lock is a thread's place (changed under `_cond`)
        self._helper: threading.Thread | None = None

    def enter(self, timeout: float) -> bool:
        """Wait for the place at most `timeout` seconds; False when not queued (nested in
        this thread, or no place in time: SQLite's own busy handler then decides)."""
        me = threading.get_ident()
        if self._owner == me:
            return False
        deadline = time.monotonic() + timeout
        if not self._turn.acquire(timeout=timeout):
            return False
        try:
            if self._lock_file(deadline):
                self._owner = me
                return True
        except OSError:  # the lock file cannot be opened: SQLite's own wait, as before
            pass
        except BaseException:  # interrupted while waiting (a signal's handler raised)
            self._turn.release()
            raise
        self._turn.release()
        return False

    def leave(self) -> None:
        """Give the place back (the transaction has ended)."""
        self._owner = None
        try:
            with self._cond:
                self._held = False
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._turn.release()

    def _lock_file(self, deadline: float) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        with self._cond:
            if self._try_lock():
                self._held = True
                return True
            if self._helper is None:
                self._helper = threading.Thread(
                    target=self._wait_in_kernel, name="kanal-sqlite-writers", daemon=True
                )
                self._helper.start()
            self._asked = True
            self._cond.notify_all()
            try:
                while not self._granted:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._asked = False  # the helper lets go of it if it comes later
                        return False
                    self._cond.wait(left)
            except BaseException:  # interrupted: nobody takes what the helper may be given
                self._asked = False
                if self._granted:
                    self._granted = False
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                raise
            self._granted = False
            self._held = True
            return True

    def _try_lock(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _wait_in_kernel(self) -> None:
        while True:
            with self._cond:
                while not self._asked:
                    self._cond.wait()
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks until the other process lets go
            # Decided under `_cond`, on the lock as it is now: the file is opened once per
            # process, so while the helper was being let in, a thread may have taken the lock
            # at once (and even given it back) after the one that asked gave up.
            with self._cond:
                if not self._try_lock():
                    continue  # lost again meanwhile: wait again if still asked
                if self._asked:
                    self._asked, self._granted = False, True
                    self._cond.notify_all()
                elif not self._held:  # asked for, then given up: pass it on
                    fcntl.flock(self._fd, fcntl.LOCK_UN)


class QueuedConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions take their place in the writers' queue
    (`take_place` before `BEGIN IMMEDIATE`) and give it back when they end."""

    writers: WriterQueue | None = None
    wait_seconds = 30.0  # at most, as SQLite's busy timeout
    queued = False

    def take_place(self) -> None:
        """Wait for this transaction's turn among the database's writers."""
        if self.writers is not None and not self.queued:
            self.queued = self.writers.enter(self.wait_seconds)

    def give_back(self) -> None:
        """Give the place back: the transaction has ended (or never began)."""
        if self.queued:
            self.queued = False
            self.writers.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_back()


class QueuedWrites:
    """A context manager for a store that writes on connections of its own (the inbox's
    batches, in SQLite's autocommit): its writes go one at a time within this process (a
    lock, which wakes the next thread at once) and take their place among every process'
    writers of `database` like a `QueuedConnection`'s transactions. Without the second, a
    batch meeting another web worker's write slept in SQLite's busy handler (1, 2, 5 and
    10 ms: the 16-18 ms p99 of the inbox's writes), holding every webhook of its process."""

    def __init__(self, database: str, wait_seconds: float = 30.0) -> None:
        self._threads = threading.Lock()
        memory = database in ("", ":memory:") or database.startswith("file::memory:")
        self._writers = None if memory else queue_for(database)
        self._wait = wait_seconds
        self._queued = False  # changed only by the thread holding `_threads`

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            self._queued = self._writers is not None and self._writers.enter(self._wait)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._queued:
                self._queued = False
                self._writers.leave()  # type: ignore[union-attr]
        finally:
            self._threads.release()
