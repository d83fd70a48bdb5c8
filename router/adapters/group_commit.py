"""Group commit: rows handed in by several threads at once are written in one transaction.

A database commits one transaction at a time (SQLite has one writer; PostgreSQL flushes its
log per commit), so when many requests each commit one row, the commit, not the row, is
what they queue for. Here the first thread to arrive writes (it leads); threads that arrive
while it writes wait, and the next of them to lead writes all their rows together, in one
transaction. Each thread gets its own row's result only after the transaction holding its
row has committed, and the transaction's error if it failed: nothing is answered as written
before it is. Alone, a thread writes its row at once, as it would without the group.

A caller that must not wait (`kanal web`'s loop, which answers Twilio once the row is
committed: router/entrypoints/web_worker.py) hands its row in with `submit_later(row, done)`
and goes on: the group's own writer thread writes it in the next batch and calls
`done(result, error)` once that batch's transaction has committed or failed. The writer is
started at the first such row in each process (so none is left running across a fork) and
leads like any caller; a waiting caller takes the writing over when the writer's batch ends.

Otherwise there is no thread of its own: the writing is done by the callers, and nothing
waits when there is nothing to write.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Row = TypeVar("Row")
Result = TypeVar("Result")
Done = Callable[[object, BaseException | None], None]

log = logging.getLogger(__name__)

MAX_BATCH = 128  # rows in one transaction at most: a bound on the leader's wait


class _Ticket(Generic[Row, Result]):
    """One row's place in the group: its result, or its error, once written."""

    __slots__ = ("row", "result", "error", "leads", "ready", "done")

    def __init__(self, row: Row, done: Done | None = None) -> None:
        self.row = row
        self.done = done  # called with (result, error) once written: nobody waits for it
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.leads = False  # handed the writing of the next batch
        self.ready: threading.Event | None = None  # made for a thread that waits


class GroupCommit(Generic[Row, Result]):
    """Write rows in batches, one transaction per batch, with `write(rows) -> results`
    (one result per row, in order; it commits before returning, or raises). `writers`:
    batches written at once (1 for SQLite's one writer; PostgreSQL overlaps commits)."""

    def __init__(
        self,
        write: Callable[[Sequence[Row]], Sequence[Result]],
        *,
        writers: int = 1,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._write = write
        self._writers = writers
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Ticket[Row, Result]] = []
        self._leading = 0  # threads writing a batch (the others queue up behind them)
        self._writer_pid = 0  # the process whose writer threads run (submit_later)
        self._owed = threading.Semaphore(0)  # batches owed by the writer threads

    def submit(self, row: Row) -> Result:
        """Return `row`'s result once the transaction that wrote it has committed."""
        ticket: _Ticket[Row, Result] = _Ticket(row)
        with self._lock:
            self._waiting.append(ticket)
            leads = ticket.leads = self._leading < self._writers
            self._leading += leads
            if not leads:
                ready = ticket.ready = threading.Event()
        if not leads:
            ready.wait()
        if ticket.leads:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def submit_later(self, row: Row, done: Done) -> None:
        """Hand `row` in without waiting for it: `done(result, None)` once the transaction
        that wrote it has committed, `done(None, error)` if it failed, called in the thread
        that wrote the batch (the group's writer, or a waiting caller that took over)."""
        ticket: _Ticket[Row, Result] = _Ticket(row, done)
        with self._lock:
            self._waiting.append(ticket)
            if self._leading >= self._writers:
                return  # a leader writes it with the next batch
            self._leading += 1
            if self._writer_pid != os.getpid():
                self._start_writers()
        self._owed.release()

    def _start_writers(self) -> None:
        """This process' writer threads (under the lock), one per batch written at once."""
        self._writer_pid = os.getpid()
        self._owed = threading.Semaphore(0)
        for n in range(self._writers):
            name = f"group-commit-{n}"
            threading.Thread(target=self._write_owed, name=name, daemon=True).start()

    def _write_owed(self) -> None:
        owed = self._owed
        while True:
            owed.acquire()
            self._lead(None)

    def _lead(self, own: _Ticket[Row, Result] | None) -> None:
        """Write the leader's row and the rows waiting (not those of other leaders), wake
        their threads, and hand the writing on to the oldest thread still waiting, if any;
        with none but rows nobody waits for (`submit_later`), write those too."""
        while True:
            batch = self._take(own)
            try:
                # Empty when another writer (PostgreSQL has two) took every waiting row.
                results = self._write([t.row for t in batch]) if batch else []
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for a batch of {len(batch)} rows")
            except BaseException as exc:  # every row of the batch failed with its transaction
                for ticket in batch:
                    ticket.error = _own_copy(exc)
            else:
                for ticket, result in zip(batch, results, strict=True):
                    ticket.result = result
            with self._lock:
                following = next((t for t in self._waiting if not t.leads and t.done is None), None)
                more = following is None and any(not t.leads for t in self._waiting)
                if following is not None:
                    following.leads = True
                elif not more:
                    self._leading -= 1
            for ticket in batch:
                if ticket.ready is not None:  # the leader's own thread is not waiting
                    ticket.ready.set()
                elif ticket.done is not None:
                    _call(ticket)
            if following is not None:
                following.ready.set()  # type: ignore[union-attr] - it waits
            if not more:
                return
            own = None

    def _take(self, own: _Ticket[Row, Result] | None) -> list[_Ticket[Row, Result]]:
        """The next batch: the leader's own row first, then the oldest waiting ones."""
        with self._lock:
            batch, left = ([own] if own is not None else []), []
            for ticket in self._waiting:
                if ticket is not own:
                    (left if ticket.leads or len(batch) >= self._max_batch else batch).append(
                        ticket
                    )
            self._waiting = left
        return batch


def _call(ticket: _Ticket) -> None:
    """Tell a row's caller how its transaction ended; its own failure stays its own."""
    try:
        ticket.done(ticket.result, ticket.error)  # type: ignore[misc]
    except Exception:
        log.exception("a group commit's caller failed on hearing its row's outcome")


def _own_copy(exc: BaseException) -> BaseException:
    """The error for one waiting thread: raised in several threads, one instance would
    collect all their tracebacks."""
    try:
        return copy.copy(exc)
    except Exception:
        return exc
