"""Daily rollups of the channel-shift figures, so a report over a million contacts answers in
milliseconds (docs/domain.md §4.6).

`refresh` (the scheduler's `metric_rollups` job) keeps one row per day and group — channel,
need, exemption, age band, language — holding the tally of the contacts opened that day
(`metrics.tally`) as arrays of numbers, which a report reads without parsing anything: the
counts (in `metrics.COUNTS`' order), the named counts (reasons, scores, cost kinds) as pairs
of a code (`metric_rollup_names`) and a count, and one entry per contact: the queue waits in
seconds (so percentiles and any threshold stay exact) and the citizens seen, each by a number
of analytics' own (`metric_rollup_people`), so distinct citizens over any period are counted
by union. `metric_rollup_openers` keeps, per day and channel, the citizen of each contact
opened with a pseudonym: the input of the channel migration. These are analytics' own tables
(migrations 0008 and 0019), written by analytics alone; the router's tables are only read.

Each contact's share of the rows is kept too (`metric_rollup_contacts`, see
analytics/rollup_contacts.py), so the job recomputes only what new events can change: each run
reads the events appended since the last one and recomputes the contacts they touch — their
own contacts; the same citizens' contacts opened within the repeat window (+ margin) or the
follow-up window either side, whose repeat contacts, needs and deflections they can change;
and the contact a callback was booked on — then sums again the day-and-group rows those
contacts fall in, before and after. A late event still corrects its day (a repeat contact
that makes yesterday's containment false, a callback answered the next day). A contact's
figures do not depend on the window it is read in, so the rollup's answer equals a full
recomputation (a property test checks it). A first run, or another time zone, windows or
version of this code, rebuilds everything, a run of days at a time. An incremental run writes
its rows and the new mark in one transaction; one of more than BATCH contacts, in several,
with the mark's generation PENDING until the last (analytics/rollup_kept.py keeps no read of
half a run).
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from analytics import (
    contact_queries,
    metrics,
    phone_queries,
    queries,
    rollup_contacts,
    rollup_mark,
    rollup_rows,
    rollup_tables,
)
from analytics.log import contact_events as E
from analytics.queries import window_facts
from analytics.rollup_mark import PENDING, put_mark, read_mark, write_mark
from analytics.rollup_rows import begin_reading, contact_rows, day_of, loaded, stored
from analytics.rollup_tables import (
    KEYS,
    WAITS,
    clear,
    contacts,
    create_tables,
    daily,
    openers,
)
from router.domain import events as ev

# What a row holds and how its figures were computed: the source of the metrics (every module
# of the package), the queries' and the rollup's modules. Another version of them (a count
# added, a definition changed) rebuilds.
LAYOUT = hashlib.sha256(
    b"".join(
        path.read_bytes()
        for path in (
            *sorted(Path(metrics.__file__).parent.glob("*.py")),
            *(
                Path(m.__file__)
                for m in (
                    queries,
                    contact_queries,
                    phone_queries,
                    rollup_contacts,
                    rollup_tables,
                    rollup_rows,
                    rollup_mark,
                    sys.modules[__name__],
                )
            ),
        )
    )
).hexdigest()[:16]

# Each run also re-reads this many events before the mark: on PostgreSQL an event with a
# lower id can commit after one with a higher id, and re-reading is harmless (idempotent).
OVERLAP_EVENTS = 5_000
RUN_DAYS = 10  # consecutive days recomputed together (more: fewer reads, more memory)


def _reach(repeat: timedelta, followup: timedelta) -> timedelta:
    """Return how far from a changed contact another contact's figures can change."""
    return max(repeat + metrics.LINK_MARGIN, followup)


def all_days(conn: Connection, timezone: str) -> set[date]:
    """Return every day a contact opened on (a rebuild recomputes them all)."""
    zone = ZoneInfo(timezone)
    stmt = select(E.c.at).where(E.c.type == ev.CONTACT_OPENED)
    return {day_of(at, zone) for (at,) in conn.execute(stmt)}


def runs(days: Iterable[date], longest: int = RUN_DAYS) -> list[tuple[date, date]]:
    """Split days into runs of consecutive days, each at most `longest` days long."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and day - out[-1][1] == timedelta(days=1) and (day - out[-1][0]).days < longest:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def recompute(reader: Engine, writer: Engine, window: metrics.Window) -> int:
    """Recompute every contact of the window's days, and the days' rows, from the event log
    (a rebuild); return how many contacts."""
    zone = ZoneInfo(window.timezone)
    with reader.connect() as conn:
        begin_reading(conn)
        facts = window_facts(conn, window)
        opened = rollup_contacts.opened_in(conn, window.start, window.end)
    rows = contact_rows(writer, facts, opened, zone)
    with writer.begin() as conn:
        for table in (daily, openers, contacts):
            conn.execute(
                delete(table).where(table.c.day >= window.first_day, table.c.day <= window.last_day)
            )
        if rows:
            conn.execute(insert(contacts), [stored(r) for r in rows])
            conn.execute(insert(daily), rollup_contacts.aggregate(rows, KEYS, WAITS))
            found = rollup_contacts.openers(rows)
            if found:
                conn.execute(insert(openers), found)
    return len(rows)


BATCH = 2_000  # contacts recomputed together by an incremental run


def update(
    reader: Engine,
    writer: Engine,
    touched: Mapping[int, datetime],
    w: metrics.Window,
    finish: Callable[[Connection], None] | None = None,
):
    """Recompute the touched contacts (id → when opened) and the day-and-group rows they fall
    in, before and after; return how many contacts. `finish` runs in the last batch's
    transaction (the new mark: readers see the rows and their mark change together)."""
    zone = ZoneInfo(w.timezone)
    ordered = sorted(touched, key=lambda i: (touched[i], i))
    done = 0
    for at in range(0, len(ordered), BATCH):
        ids = ordered[at : at + BATCH]
        first, last = day_of(touched[ids[0]], zone), day_of(touched[ids[-1]], zone)
        window = replace(w, first_day=first, last_day=last)
        with reader.connect() as conn:
            begin_reading(conn)
            facts = window_facts(conn, window, ids=ids)
            opened = rollup_contacts.opened_by(conn, ids)
        rows = contact_rows(writer, facts, opened, zone)
        done += len(rows)
        with writer.begin() as conn:
            old = [
                loaded(r)
                for r in conn.execute(select(contacts).where(contacts.c.contact_id.in_(ids)))
            ]
            groups = {(r["day"], r["key"]) for r in (*old, *rows)}
            known = {r["contact_id"] for r in old}
            channels = {
                (r["day"], r["key"][0])
                for r in rows
                if r["opener"] is not None and r["contact_id"] not in known
            }
            conn.execute(delete(contacts).where(contacts.c.contact_id.in_(ids)))
            if rows:
                conn.execute(insert(contacts), [stored(r) for r in rows])
            _regroup(conn, groups)
            _reopen(conn, channels)
            if finish is not None and at + BATCH >= len(ordered):
                finish(conn)
    return done


def _same(table: Table, day: date, key: tuple[str, ...]) -> tuple:
    return (table.c.day == day, *(table.c[k] == v for k, v in zip(KEYS, key, strict=True)))


def _regroup(conn: Connection, groups: set[tuple[date, tuple[str, ...]]]) -> None:
    """Sum the day-and-group rows of `groups` again from their contacts' rows."""
    for day, key in sorted(groups):
        members = [
            loaded(r) for r in conn.execute(select(contacts).where(*_same(contacts, day, key)))
        ]
        conn.execute(delete(daily).where(*_same(daily, day, key)))
        if members:
            conn.execute(insert(daily), rollup_contacts.aggregate(members, KEYS, WAITS))


def _reopen(conn: Connection, channels: set[tuple[date, str]]) -> None:
    """Write the migration's rows of (day, channel) again from their contacts' rows (a
    contact's opener, day and channel never change: only new contacts add to them)."""
    for day, channel in sorted(channels):
        stmt = select(contacts).where(
            contacts.c.day == day, contacts.c.channel == channel, contacts.c.opener.is_not(None)
        )
        members = [loaded(r) for r in conn.execute(stmt)]
        conn.execute(delete(openers).where(openers.c.day == day, openers.c.channel == channel))
        found = rollup_contacts.openers(members)
        if found:
            conn.execute(insert(openers), found)


def refresh(
    reader: Engine,
    writer: Engine,
    timezone: str,
    repeat_days: int = metrics.REPEAT_WINDOW_DAYS,
    followup_hours: float = metrics.FOLLOWUP_WINDOW_HOURS,
    now: datetime | None = None,
) -> dict:
    """Bring the daily rollup up to the event log's last event; return what it did.

    `reader` reads the log (analytics' read-only engine), `writer` writes only the rollup
    tables. A change of time zone or windows rebuilds every day; else only the contacts the
    new events can change are recomputed (`rollup_contacts.touched`), with the day-and-group
    rows they fall in. With nothing appended since the last run only the mark's time moves
    (the figures are as of now).
    """
    create_tables(writer)
    now = now or datetime.now(UTC)
    repeat, followup = timedelta(days=repeat_days), timedelta(hours=followup_hours)
    mark = read_mark(writer)
    settings = {
        "timezone": timezone,
        "repeat_days": repeat_days,
        "followup_hours": followup_hours,
        "layout": LAYOUT,
    }
    rebuild = mark is None or any(mark[k] != v for k, v in settings.items())
    with reader.connect() as conn:
        last = conn.execute(select(func.max(E.c.id))).scalar() or 0
    if not rebuild and last <= mark["event_id"] and mark["generation"] != PENDING:
        write_mark(writer, last, now, settings, mark["generation"])
        return {"events_up_to": last, "days": 0, "contacts": 0, "rebuilt": False}
    if rebuild:  # readers use the events meanwhile: no mark, or one of other settings
        clear(writer)
    window = metrics.Window(date.min, date.min, timezone, repeat, followup)
    if rebuild:
        with reader.connect() as conn:
            days = all_days(conn, timezone)
        done = 0
        for first, last_day in runs(days):
            done += recompute(reader, writer, replace(window, first_day=first, last_day=last_day))
    else:
        after = max(0, mark["event_id"] - OVERLAP_EVENTS)
        with reader.connect() as conn:
            begin_reading(conn)
            found = rollup_contacts.touched(conn, after, last, _reach(repeat, followup))
        zone = ZoneInfo(timezone)
        days = {day_of(at, zone) for at in found.values()}
        if len(found) > BATCH:
            # The rows are written in several transactions: until the last, which writes the
            # new generation, the mark says so, and a read of the rows meanwhile (part old,
            # part new) is not kept (analytics.rollup_kept).
            write_mark(writer, mark["event_id"], mark["refreshed_at"], settings, PENDING)
        generation = secrets.token_hex(8)
        done = update(
            reader,
            writer,
            found,
            window,
            lambda conn: put_mark(conn, last, now, settings, generation),
        )
        if found:
            return {"events_up_to": last, "days": len(days), "contacts": done, "rebuilt": False}
    write_mark(writer, last, now, settings, secrets.token_hex(8))
    return {"events_up_to": last, "days": len(days), "contacts": done, "rebuilt": rebuild}


def usable(engine: Engine, timezone: str, repeat_days: int, followup_hours: float) -> dict | None:
    """Return the rollup's mark when it exists and was computed with these settings."""
    row = read_mark(engine)
    if row is None:
        return None
    settings = (row["timezone"], row["repeat_days"], row["followup_hours"], row["layout"])
    if settings != (timezone, repeat_days, followup_hours, LAYOUT):
        return None
    return dict(row)
