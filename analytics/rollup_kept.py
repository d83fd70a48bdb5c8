"""Rollup figures kept between requests until the rollup job moves its mark: the periods'
rows read and joined (`period`) and the channel-migration matrices (`migration`), so a
manager's repeated or shared questions do not read the rollup again (docs/domain.md §4.6).

The key is the database and the mark's generation, which the job changes whenever it writes
rows (analytics/rollups.py), so what is kept is what a read would answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date

from sqlalchemy import Connection

from analytics.rollup_figures import Period, matrix, read

# The last few migration matrices, by the rollup's state (its mark) and the two periods: a
# matrix reads every contact of both periods, and changes only when the rollup job has read
# new events (or was rebuilt with other settings), which moves the mark.
_MATRICES: OrderedDict[tuple, dict[str, dict[str, int]]] = OrderedDict()
KEPT_MATRICES = 32


def forget() -> None:
    """Forget the migration matrices and periods kept (a benchmark's request with nothing
    cached)."""
    with _LOCK:
        _MATRICES.clear()
        _PERIODS.clear()


def _state(conn: Connection, mark: Mapping) -> tuple:
    """Return what identifies the rollup's rows: the database and the mark's generation
    (which the job changes whenever it writes rows), read position and settings."""
    found = tuple(mark.get(k) for k in ("generation", "event_id", "timezone", "layout"))
    return (conn.engine.url.render_as_string(), *found)


# The last periods read, by the rollup's state, days, filters and whether with citizens: a
# period's rows are read and joined once (a month at 1 M contacts: ~35 ms of CPU), then each
# request only sums them (its totals are kept in the period too) until the mark moves.
_PERIODS: OrderedDict[tuple, Period] = OrderedDict()
KEPT_PERIODS = 8
KEPT_BYTES = 256 * 2**20
_LOCK = threading.Lock()


def _size(period: Period) -> int:
    arrays = [period.days, period.counts, period.named_counts]
    arrays += [a for pair in period.waits.values() for a in pair]
    for pair in (period.citizens, period.exempt_citizens):
        arrays += list(pair or ())
    arrays += [codes for _, codes in period.keys.values()]
    return sum(a.nbytes for a in arrays)


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
    key = (_state(conn, mark), first, last, tuple(sorted(filters.items())), citizens)
    with _LOCK:
        found = _PERIODS.get(key)
        if found is not None:
            _PERIODS.move_to_end(key)
            return found
    found = read(conn, first, last, filters, citizens)
    with _LOCK:
        _PERIODS[key] = found
        while len(_PERIODS) > 1 and (
            len(_PERIODS) > KEPT_PERIODS or sum(map(_size, _PERIODS.values())) > KEPT_BYTES
        ):
            _PERIODS.popitem(last=False)
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
    key = (_state(conn, mark), first, second)
    found = _MATRICES.get(key)
    if found is None:
        found = _MATRICES[key] = matrix(conn, first, second)
        while len(_MATRICES) > KEPT_MATRICES:
            _MATRICES.popitem(last=False)
    else:
        _MATRICES.move_to_end(key)
    return {k: dict(v) for k, v in found.items()}
