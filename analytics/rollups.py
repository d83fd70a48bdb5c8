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

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)

from analytics import metrics, queries, rollup_contacts
from analytics.log import contact_events as E
from analytics.queries import window_facts
from router.domain import events as ev

# Named as the router's tables are (migration 0008 creates them with these names).
metadata = MetaData(
    naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}
)

KEYS = ("channel", "need", "exempt", "age_band", "language")
WAITS = ("answered_waits", "abandoned_waits", "phone_abandoned_waits")
SMALL = tuple(name for name in metrics.NAMED if name not in WAITS)
NUMBERS = "<u4"  # how the arrays are stored: little-endian unsigned 32-bit
COUNTS = "<i8"  # ... and the counts (handle seconds add up): signed 64-bit
# What a row holds and how its figures were computed: the source of the metrics (every module
# of the package), the queries and this module. Another version of them (a count added, a
# definition changed) rebuilds.
LAYOUT = hashlib.sha256(
    b"".join(
        path.read_bytes()
        for path in (
            *sorted(Path(metrics.__file__).parent.glob("*.py")),
            *(Path(m.__file__) for m in (queries, rollup_contacts, sys.modules[__name__])),
        )
    )
).hexdigest()[:16]

daily = Table(
    "metric_rollups",
    metadata,
    Column("day", Date, primary_key=True),
    *(Column(name, String(64), primary_key=True) for name in KEYS),
    Column("counts", LargeBinary, nullable=False),  # metrics.COUNTS, in order
    Column("named", LargeBinary),  # (code, count) pairs of the small named counts
    *(Column(name, LargeBinary) for name in WAITS),  # seconds, one per contact
    Column("citizens", LargeBinary),  # people numbers of identified citizens' contacts
    Column("exempt_citizens", LargeBinary),  # ... of those exempt on the day of contact
)

openers = Table(
    "metric_rollup_openers",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("citizens", LargeBinary, nullable=False),  # one people number per contact
)

people = Table(
    "metric_rollup_people",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("citizen", String(40), nullable=False, unique=True),
)

names = Table(
    "metric_rollup_names",
    metadata,
    Column("code", Integer, primary_key=True, autoincrement=False),
    Column("name", String(32), nullable=False),  # a named count of metrics.NAMED
    Column("key", String(64), nullable=False),  # a reason, a score, a cost kind...
    UniqueConstraint("name", "key"),
)

contacts = rollup_contacts.table(metadata, KEYS)

marks = Table(
    "metric_rollup_marks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("event_id", BigInteger, nullable=False),  # the last event the rollup has read
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    # What the figures were computed with: another setting means a rebuild.
    Column("timezone", String(64), nullable=False),
    Column("repeat_days", Integer, nullable=False),
    Column("followup_hours", Float, nullable=False),
    Column("layout", String(16), nullable=False),
    # Changes whenever the rollup's rows do (a cache of figures is good while it stands).
    Column("generation", String(16), nullable=False, server_default=""),
)

MARK = "daily"
# The mark's generation while an incremental run writes rows (a generation is otherwise 16 hex
# digits): the rows are then part old, part new.
PENDING = "pending"
# Each run also re-reads this many events before the mark: on PostgreSQL an event with a
# lower id can commit after one with a higher id, and re-reading is harmless (idempotent).
OVERLAP_EVENTS = 5_000
RUN_DAYS = 10  # consecutive days recomputed together (more: fewer reads, more memory)


def create_tables(engine: Engine) -> None:
    """Create the rollup tables if they are missing (a database made by `create_all`, as in
    the tests; deployments get them from migration 0008)."""
    metadata.create_all(engine, checkfirst=True)


def drop_tables(engine: Engine) -> None:
    """Drop the rollup tables (a test's clean-up)."""
    metadata.drop_all(engine, checkfirst=True)


def clear(engine: Engine) -> None:
    """Empty the rollup (the next refresh rebuilds it from the event log)."""
    with engine.begin() as conn:
        for table in (marks, daily, openers, contacts):  # people numbers, name codes are kept
            if engine.dialect.has_table(conn, table.name):
                conn.execute(delete(table))


def _day_of(at: datetime, zone: ZoneInfo) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).date()


def _reach(repeat: timedelta, followup: timedelta) -> timedelta:
    """Return how far from a changed contact another contact's figures can change."""
    return max(repeat + metrics.LINK_MARGIN, followup)


CALLBACK_TYPES = (
    ev.CALLBACK_BOOKED,
    ev.CALLBACK_PLACED,
    ev.CALLBACK_ANSWERED,
    ev.CALLBACK_FAILED,
    ev.CALLBACK_CLOSED,
)


def all_days(conn: Connection, timezone: str) -> set[date]:
    """Return every day a contact opened on (a rebuild recomputes them all)."""
    zone = ZoneInfo(timezone)
    stmt = select(E.c.at).where(E.c.type == ev.CONTACT_OPENED)
    return {_day_of(at, zone) for (at,) in conn.execute(stmt)}


def runs(days: Iterable[date], longest: int = RUN_DAYS) -> list[tuple[date, date]]:
    """Split days into runs of consecutive days, each at most `longest` days long."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and day - out[-1][1] == timedelta(days=1) and (day - out[-1][0]).days < longest:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def key_of(c: metrics.ContactFacts) -> tuple[str, ...]:
    return tuple(metrics.group_of(c, name) for name in KEYS)


def pack(values: Iterable[int]) -> bytes | None:
    """Return numbers as stored in an array column (None for none)."""
    array = np.fromiter(values, dtype=NUMBERS)
    return array.tobytes() if array.size else None


def name_codes(writer: Engine, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return the code of each (named count, key), giving new ones the next codes."""
    with writer.begin() as conn:
        found = {(r.name, r.key): r.code for r in conn.execute(select(names))}
        new = sorted(wanted - found.keys())
        if new:
            top = max(found.values(), default=0)
            rows = [{"code": top + i, "name": n, "key": k} for i, (n, k) in enumerate(new, 1)]
            conn.execute(insert(names), rows)
            found.update(((r["name"], r["key"]), r["code"]) for r in rows)
    return found


def people_numbers(writer: Engine, pseudonyms: set[str]) -> dict[str, int]:
    """Return each pseudonym's people number, giving new ones the next numbers."""
    found: dict[str, int] = {}
    names = sorted(pseudonyms)
    with writer.begin() as conn:
        if len(names) > 20_000:  # most of them: read them all at once
            known = set(names)
            stmt = select(people.c.citizen, people.c.number)
            found.update((r.citizen, r.number) for r in conn.execute(stmt) if r.citizen in known)
        else:
            for i in range(0, len(names), 900):
                batch = names[i : i + 900]
                stmt = select(people.c.citizen, people.c.number).where(people.c.citizen.in_(batch))
                found.update((r.citizen, r.number) for r in conn.execute(stmt))
        new = [name for name in names if name not in found]
        if new:
            top = conn.execute(select(func.max(people.c.number))).scalar() or 0
            rows = [{"number": top + i, "citizen": name} for i, name in enumerate(new, 1)]
            conn.execute(insert(people), rows)
            found.update((r["citizen"], r["number"]) for r in rows)
    return found


def _begin(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def contact_rows(
    writer: Engine, facts: list[metrics.ContactFacts], opened: Mapping[int, str], zone: ZoneInfo
) -> list[dict]:
    """Return the contacts' rows (analytics.rollup_contacts) of the contacts' facts; `opened`
    gives the pseudonym each was opened with."""
    seen = {c.citizen for c in facts if c.citizen and c.identified}
    numbers = people_numbers(writer, seen | set(opened.values()))
    tallies = [metrics.tally([c]) for c in facts]
    codes = name_codes(writer, {(n, k) for t in tallies for n in SMALL for k in t[n]})
    return [
        rollup_contacts.record(
            c,
            t,
            _day_of(c.opened_at, zone),
            key_of(c),
            numbers[opened[c.contact_id]] if c.contact_id in opened else None,
            numbers,
            codes,
            SMALL,
            WAITS,
        )
        for c, t in zip(facts, tallies, strict=True)
    ]


def _stored(r: Mapping) -> dict:
    return {
        **{k: r[k] for k in ("contact_id", "day", "opener", "person", "exempt_person", "figures")},
        **dict(zip(KEYS, r["key"], strict=True)),
    }


def _loaded(r) -> dict:  # noqa: ANN001
    return {
        "contact_id": r.contact_id,
        "day": r.day if isinstance(r.day, date) else date.fromisoformat(r.day),
        "key": tuple(r._mapping[k] for k in KEYS),
        "opener": r.opener,
        "person": r.person,
        "exempt_person": r.exempt_person,
        "figures": r.figures,
    }


def recompute(reader: Engine, writer: Engine, window: metrics.Window) -> int:
    """Recompute every contact of the window's days, and the days' rows, from the event log
    (a rebuild); return how many contacts."""
    zone = ZoneInfo(window.timezone)
    with reader.connect() as conn:
        _begin(conn)
        facts = window_facts(conn, window)
        opened = rollup_contacts.opened_in(conn, window.start, window.end)
    rows = contact_rows(writer, facts, opened, zone)
    with writer.begin() as conn:
        for table in (daily, openers, contacts):
            conn.execute(
                delete(table).where(table.c.day >= window.first_day, table.c.day <= window.last_day)
            )
        if rows:
            conn.execute(insert(contacts), [_stored(r) for r in rows])
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
        first, last = _day_of(touched[ids[0]], zone), _day_of(touched[ids[-1]], zone)
        window = replace(w, first_day=first, last_day=last)
        with reader.connect() as conn:
            _begin(conn)
            facts = window_facts(conn, window, ids=ids)
            opened = rollup_contacts.opened_by(conn, ids)
        rows = contact_rows(writer, facts, opened, zone)
        done += len(rows)
        with writer.begin() as conn:
            old = [
                _loaded(r)
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
                conn.execute(insert(contacts), [_stored(r) for r in rows])
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
            _loaded(r) for r in conn.execute(select(contacts).where(*_same(contacts, day, key)))
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
        members = [_loaded(r) for r in conn.execute(stmt)]
        conn.execute(delete(openers).where(openers.c.day == day, openers.c.channel == channel))
        found = rollup_contacts.openers(members)
        if found:
            conn.execute(insert(openers), found)


def current_mark(conn: Connection) -> dict | None:
    """Return the rollup's mark as this connection's transaction sees it (None: no rollup)."""
    if not conn.dialect.has_table(conn, marks.name):
        return None
    row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
    return dict(row) if row else None


def _read_mark(writer: Engine) -> Mapping | None:
    with writer.connect() as conn:
        return current_mark(conn)


def _put_mark(
    conn: Connection, event_id: int, at: datetime, settings: Mapping, generation: str
) -> None:
    conn.execute(delete(marks).where(marks.c.name == MARK))
    row = {"name": MARK, "event_id": event_id, "refreshed_at": at, **settings}
    conn.execute(insert(marks).values(**row, generation=generation))


def _write_mark(
    writer: Engine, event_id: int, at: datetime, settings: Mapping, generation: str
) -> None:
    with writer.begin() as conn:
        _put_mark(conn, event_id, at, settings, generation)


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
    mark = _read_mark(writer)
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
        _write_mark(writer, last, now, settings, mark["generation"])
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
            _begin(conn)
            found = rollup_contacts.touched(conn, after, last, _reach(repeat, followup))
        zone = ZoneInfo(timezone)
        days = {_day_of(at, zone) for at in found.values()}
        if len(found) > BATCH:
            # The rows are written in several transactions: until the last, which writes the
            # new generation, the mark says so, and a read of the rows meanwhile (part old,
            # part new) is not kept (analytics.rollup_kept).
            _write_mark(writer, mark["event_id"], mark["refreshed_at"], settings, PENDING)
        generation = secrets.token_hex(8)
        done = update(
            reader,
            writer,
            found,
            window,
            lambda conn: _put_mark(conn, last, now, settings, generation),
        )
        if found:
            return {"events_up_to": last, "days": len(days), "contacts": done, "rebuilt": False}
    _write_mark(writer, last, now, settings, secrets.token_hex(8))
    return {"events_up_to": last, "days": len(days), "contacts": done, "rebuilt": rebuild}


def usable(engine: Engine, timezone: str, repeat_days: int, followup_hours: float) -> dict | None:
    """Return the rollup's mark when it exists and was computed with these settings."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, marks.name):
            return None
        row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
    if row is None:
        return None
    settings = (row["timezone"], row["repeat_days"], row["followup_hours"], row["layout"])
    if settings != (timezone, repeat_days, followup_hours, LAYOUT):
        return None
    return dict(row)
