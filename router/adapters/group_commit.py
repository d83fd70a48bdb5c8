"""Group commit: rows handed in by several threads at once are written in one transaction.

A database commits one transaction at a time (SQLite has one writer; PostgreSQL flushes its
log per commit), so when many requests each commit one row, the commit, not the row, is
what they queue for. Here the first thread to arrive writes (it leads); threads that arrive
while it writes wait, and the next of them to lead writes all their rows together, in one
transaction. Each thread gets its own row's result only after the transaction holding its
row has committed, and the transaction's error if it failed: nothing is answered as written
before it is. Alone, a thread writes its row at once, as it would without the group.

There is no thread of its own: the writing is done by the callers, so nothing is left
running after a fork (gunicorn's workers) and nothing waits when there is nothing to write.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Row = TypeVar("Row")
Result = TypeVar("Result")

MAX_BATCH = 128  # rows in one transaction at most: a bound on the leader's wait


class _Ticket(Generic[Row, Result]):
    """One row's place in the group: its result, or its error, once written."""

    __slots__ = ("row", "result", "error", "leads", "ready")

    def __init__(self, row: Row) -> None:
        self.row = row
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

    def _lead(self, own: _Ticket[Row, Result]) -> None:
        """Write the leader's row and the rows waiting (not those of other leaders), wake
        their threads, and hand the writing on to the oldest thread still waiting, if any."""
        with self._lock:
            batch, left = [own], []
            for ticket in self._waiting:
                if ticket is not own:
                    (left if ticket.leads or len(batch) >= self._max_batch else batch).append(
                        ticket
                    )
            self._waiting = left
        try:
            results = self._write([t.row for t in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for a batch of {len(batch)} rows")
        except BaseException as exc:  # every row of the batch failed with its transaction
            for ticket in batch:
                ticket.error = _own_copy(exc)
        else:
            for ticket, result in zip(batch, results, strict=True):
                ticket.result = result
        with self._lock:
            following = next((t for t in self._waiting if not t.leads), None)
            if following is None:
                self._leading -= 1
            else:
                following.leads = True
        for ticket in batch:
            if ticket.ready is not None:  # the leader's own thread is not waiting
                ticket.ready.set()
        if following is not None:
            following.ready.set()  # type: ignore[union-attr] - it waits


def _own_copy(exc: BaseException) -> BaseException:
    """The error for one waiting thread: raised in several threads, one instance would
    collect all their tracebacks."""
    try:
        return copy.copy(exc)
    except Exception:
        return exc
