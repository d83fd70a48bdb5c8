"""Rollup figures kept between requests until the rollup job moves its mark: the periods'
rows read and joined (`period`) and the channel-migration matrices (`migration`), so a
manager's repeated or shared questions do not read the rollup again (docs/domain.md §4.6).

A figure is kept with the rollup's state it was read in: the database and the mark (its
generation, which the job changes whenever it writes rows; its read position and settings).
The mark is read again in the transaction the rows are read in, so the state kept is the one
of the rows read. An incremental run writes its rows in several transactions and marks the
generation pending until it is done (analytics.rollup_mark.PENDING): a read then may hold half
the run's rows, so it is not kept, and a figure kept from before the run answers instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection

from analytics import rollup_mark
from analytics.rollup_figures import Period, matrix, read

T = TypeVar("T")

# The last periods read, by question (days, filters, whether with citizens), each with the
# state it was read in: a period's rows are read and joined once (a month at 1 M contacts:
# ~35 ms of CPU), then each request only sums them (its totals are kept in the period too)
# until the mark moves.
_PERIODS: OrderedDict[tuple, tuple[tuple, Period]] = OrderedDict()
KEPT_PERIODS = 8
KEPT_BYTES = 256 * 2**20
# The last few migration matrices, by the two periods: a matrix reads every contact of both
# periods, and changes only when the rollup job has read new events (or was rebuilt with
# other settings), which moves the mark.
_MATRICES: OrderedDict[tuple, tuple[tuple, dict[str, dict[str, int]]]] = OrderedDict()
KEPT_MATRICES = 32
_LOCK = threading.Lock()


def forget() -> None:
    """Forget the migration matrices and periods kept (a benchmark's request with nothing
    cached)."""
    with _LOCK:
        _MATRICES.clear()
        _PERIODS.clear()


def _state(conn: Connection, mark: Mapping) -> tuple:
    """Return what identifies the rollup's rows but the generation: the database, the mark's
    read position and settings (a pending mark keeps those of the run before it)."""
    found = tuple(mark.get(k) for k in ("event_id", "timezone", "layout"))
    return (conn.engine.url.render_as_string(), *found)


def _size(period: Period) -> int:
    arrays = [period.days, period.counts, period.named_counts]
    arrays += [a for pair in period.waits.values() for a in pair]
    for pair in (period.citizens, period.exempt_citizens):
        arrays += list(pair or ())
    arrays += [codes for _, codes in period.keys.values()]
    return sum(a.nbytes for a in arrays)


def _kept(
    kept: OrderedDict, question: tuple, conn: Connection, mark: Mapping, compute: Callable[[], T]
) -> tuple[T, tuple | None]:
    """Return the figure kept for `question` in the rollup's state, else `compute()` (read
    in `conn`), with the state to keep that read under (None: not to be kept, its rows may be
    of two generations).

    The mark is read in `conn`'s transaction, before the rows: a generation written since the
    caller read `mark` is the one the rows are read in. While the job writes rows (pending)
    or rebuilds (no mark), the figure kept from the caller's `mark` answers, if any.
    """
    now = rollup_mark.current_mark(conn)
    whole = now is not None and now["generation"] != rollup_mark.PENDING
    seen = now if whole else mark
    state = (_state(conn, seen), seen["generation"])
    with _LOCK:
        found = kept.get(question)
        if found is not None and found[0] == state:
            kept.move_to_end(question)
            return found[1], None
    return compute(), state if whole else None


def _keep(kept: OrderedDict, question: tuple, state: tuple, found: object, full) -> None:  # noqa: ANN001
    """Keep `found` for `question` in `state`, replacing what an older state left; forget the
    least recently used while `full()`."""
    with _LOCK:
        kept[question] = (state, found)
        kept.move_to_end(question)
        while len(kept) > 1 and full():
            kept.popitem(last=False)


def period(
    conn: Connection,
    first: date,
    last: date,
    filters: Mapping[str, str],
    citizens: bool,
    mark: Mapping,
) -> Period:
    """Return `read(conn, first, last, filters, citizens)`, kept until the rollup's `mark`
    moves (the last KEPT_PERIODS, within KEPT_BYTES)."""
    where = (conn.engine.url.render_as_string(), first, last)
    question = (*where, tuple(sorted(filters.items())), citizens)
    found, state = _kept(
        _PERIODS, question, conn, mark, lambda: read(conn, first, last, filters, citizens)
    )
    if state is not None:
        _keep(
            _PERIODS,
            question,
            state,
            found,
            lambda: (
                len(_PERIODS) > KEPT_PERIODS
                or sum(_size(p) for _, p in _PERIODS.values()) > KEPT_BYTES
            ),
        )
    return found


def migration(
    conn: Connection,
    first: tuple[date, date],
    second: tuple[date, date],
    mark: Mapping | None = None,
) -> dict[str, dict[str, int]]:
    """Return the channel-migration matrix (metrics.channel_migration) from the rollup; with
    the rollup's `mark`, kept until the mark moves."""
    if mark is None:
        return matrix(conn, first, second)
    question = (conn.engine.url.render_as_string(), first, second)
    found, state = _kept(_MATRICES, question, conn, mark, lambda: matrix(conn, first, second))
    if state is not None:
        _keep(_MATRICES, question, state, found, lambda: len(_MATRICES) > KEPT_MATRICES)
    return {k: dict(v) for k, v in found.items()}
