"""How each contact of a period completed a need, as the report counts it (docs/domain.md §4.4):
the policy simulator's recorded completed needs and digital take-up.

The report's facts of a whole month (`analytics.queries.window_facts`: every contact, the same
citizens' contacts around them, completed deflections) cost minutes and gigabytes at a million
contacts. The daily rollup already holds each contact's share of the report
(`metric_rollup_contacts`, analytics/rollup_contacts.py): its tally's counts say whether and how
the contact completed a need (`completed_digital`, `completed_assisted_digital`,
`completed_other`: `metrics.need_completion`, the one rule). Where the scheduler keeps a rollup
computed with the simulation's time zone and windows, the period's contacts are read from it,
and the contacts that events since its mark can change are read from the log as the report
reads them: the rollup job's own rule (`rollup_contacts.touched`, re-reading OVERLAP_EVENTS
before the mark), so the answer is the report's over the log as it is now. Without such a
rollup (or far behind it), the whole period is read from the log.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, select

from analytics import metrics, rollups
from analytics.log import contact_events as E
from analytics.queries import window_facts
from analytics.rollup_contacts import PAIRS, touched
from analytics.rollup_mark import current_mark
from analytics.rollup_rows import day_of
from analytics.rollup_tables import contacts as C_TABLE

# Events re-read before the rollup's mark (an event with a lower id can commit after it).
OVERLAP_EVENTS = rollups.OVERLAP_EVENTS
# Past this many contacts the events since the mark can change, the period is read from the log
# (the rollup is being built, or its job has not run for long).
MAX_TOUCHED = 20_000
KINDS = ("digital", "assisted_digital", "other")


def need_completions(conn: Connection, window: metrics.Window) -> dict[int, str | None]:
    """Return how the window's contacts completed a need as the report counts them: digital,
    assisted_digital or other, by contact id (absent or None: no need completed, or one
    completed before and counted there)."""
    found = _from_rollup(conn, window)
    if found is not None:
        return found
    return {c.contact_id: metrics.need_completion(c) for c in window_facts(conn, window)}


def _fits(mark: dict | None, window: metrics.Window) -> bool:
    return mark is not None and (
        mark["timezone"],
        timedelta(days=mark["repeat_days"]),
        timedelta(hours=mark["followup_hours"]),
        mark["layout"],
    ) == (window.timezone, window.repeat_window, window.followup_window, rollups.LAYOUT)


def _from_rollup(conn: Connection, window: metrics.Window) -> dict[int, str | None] | None:
    """Return the window's completions read from the rollup, those of the contacts touched
    since its mark from the log; None when no rollup fits. A mark PENDING (an incremental
    run writing) is read too: a row it has not rewritten yet is of a contact no event since
    the mark changes, or one recomputed here."""
    mark = current_mark(conn)
    if not _fits(mark, window):
        return None
    last = conn.execute(select(func.max(E.c.id))).scalar() or 0
    if mark["event_id"] > last:  # a rollup of another log (restored from an older backup)
        return None
    after = max(0, mark["event_id"] - OVERLAP_EVENTS)
    reach = rollups._reach(window.repeat_window, window.followup_window)  # the job's own
    changed = touched(conn, after, last, reach) if last > after else {}
    if len(changed) > MAX_TOUCHED:
        return None
    found = kinds_stored(conn, window)
    tail = {i: at for i, at in changed.items() if window.start <= at < window.end}
    if tail:
        zone = ZoneInfo(window.timezone)
        first = day_of(min(tail.values()), zone)
        last_day = day_of(max(tail.values()), zone)
        narrow = replace(window, first_day=first, last_day=last_day)
        for i in tail:
            found.pop(i, None)
        for c in window_facts(conn, narrow, ids=sorted(tail)):
            found[c.contact_id] = metrics.need_completion(c)
    return found


def kinds_stored(conn: Connection, window: metrics.Window) -> dict[int, str]:
    """Return how each contact of the window's days that completed a need did, as the rollup's
    contacts' rows hold it (their tallies' `completed_*` counts)."""
    stmt = select(C_TABLE.c.contact_id, C_TABLE.c.figures).where(
        C_TABLE.c.day >= window.first_day,
        C_TABLE.c.day <= window.last_day,
        C_TABLE.c.figures.is_not(None),
    )
    rows = conn.execute(stmt).all()
    if not rows:
        return {}
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    width = np.dtype(PAIRS).itemsize * 2
    sizes = np.fromiter((len(r[1]) // width for r in rows), dtype=np.int64, count=len(rows))
    pairs = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=PAIRS).reshape(-1, 2)
    owner = np.repeat(ids, sizes)
    found: dict[int, str] = {}
    for kind in KINDS:
        slot = metrics.COUNTS.index("completed_" + kind)
        done = owner[(pairs[:, 0] == slot) & (pairs[:, 1] > 0)]
        found.update(dict.fromkeys(done.tolist(), kind))
    return found
