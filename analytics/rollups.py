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
(migration 0008), written by analytics alone; the router's tables are only read.

Late events correct the rollup: each run reads the events appended since the last one and
recomputes every day they can touch — the day their contact opened; the days of the same
citizens' contacts opened within the repeat window (+ margin) either side, whose repeat
contacts, needs and deflections they can change; and the day of the contact a callback was
booked on. Consecutive days are recomputed together (a contact's figures do not depend on the
window it is read in), each run of days from the event log exactly as a report over it would
compute it, so the rollup's answer equals a full recomputation (a property test checks it).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
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

from analytics import metrics, queries
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
# What a row holds and how its figures were computed: the source of the metrics, the queries
# and this module. Another version of them (a count added, a definition changed) rebuilds.
LAYOUT = hashlib.sha256(
    b"".join(Path(m.__file__).read_bytes() for m in (metrics, queries, sys.modules[__name__]))
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
)

MARK = "daily"
# Each run also re-reads this many events before the mark: on PostgreSQL an event with a
# lower id can commit after one with a higher id, and re-reading is harmless (idempotent).
OVERLAP_EVENTS = 5_000
RUN_DAYS = 7  # consecutive days recomputed together (more: fewer reads, more memory)


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
        for table in (marks, daily, openers):  # people numbers and name codes are kept
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


def touched_days(
    conn: Connection,
    after_id: int,
    up_to_id: int,
    timezone: str,
    repeat: timedelta,
    followup: timedelta,
) -> set[date]:
    """Return the days whose contacts' figures the events (after_id, up_to_id] can change."""
    zone = ZoneInfo(timezone)
    new = E.alias("new")
    in_range = (new.c.id > after_id, new.c.id <= up_to_id)
    days: set[date] = set()
    # The day each changed contact opened.
    changed = select(new.c.contact_id).where(*in_range, new.c.contact_id.is_not(None))
    opened = select(E.c.at, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED, E.c.contact_id.in_(changed)
    )
    moments = []
    for r in conn.execute(opened):
        days.add(_day_of(r.at, zone))
        if r.citizen:
            moments.append(r.at)
    # The same citizens' contacts around them, and around citizen-only events (completions).
    bounds = conn.execute(
        select(func.min(new.c.at), func.max(new.c.at)).where(*in_range, new.c.citizen.is_not(None))
    ).one()
    moments += [m for m in bounds if m is not None]
    if moments:
        reach = _reach(repeat, followup)
        citizens = select(new.c.citizen).where(*in_range, new.c.citizen.is_not(None))
        around = select(E.c.at).where(
            E.c.type == ev.CONTACT_OPENED,
            E.c.citizen.in_(citizens),
            E.c.at >= min(moments) - reach,
            E.c.at <= max(moments) + reach,
        )
        days.update(_day_of(r.at, zone) for r in conn.execute(around))
    # The contact each callback was booked on (its later events may be on another contact).
    ids = select(new.c.data["callback_id"].as_integer()).where(
        *in_range, new.c.type.in_(CALLBACK_TYPES)
    )
    booked = E.alias("booked")
    first = select(booked.c.contact_id).where(
        booked.c.type == ev.CALLBACK_BOOKED, booked.c.data["callback_id"].as_integer().in_(ids)
    )
    booking_days = select(E.c.at).where(E.c.type == ev.CONTACT_OPENED, E.c.contact_id.in_(first))
    days.update(_day_of(r.at, zone) for r in conn.execute(booking_days))
    return days


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


def _histogram(counts: Mapping[str, int]) -> bytes | None:
    """Return a histogram of seconds as an array with one entry per contact."""
    if not counts:
        return None
    seconds = np.array([int(k) for k in counts], dtype=NUMBERS)
    return np.repeat(seconds, [counts[k] for k in counts]).astype(NUMBERS).tobytes()


def tallies(
    facts: Iterable[metrics.ContactFacts], zone: ZoneInfo
) -> dict[tuple[date, tuple[str, ...]], dict]:
    """Return the tally of each day's (opened, in the zone) contacts per group."""
    groups: dict[tuple[date, tuple[str, ...]], list[metrics.ContactFacts]] = {}
    for c in facts:
        groups.setdefault((_day_of(c.opened_at, zone), key_of(c)), []).append(c)
    return {at: metrics.tally(members) for at, members in sorted(groups.items())}


def row_of(
    day: date,
    key: tuple[str, ...],
    t: Mapping,
    numbers: Mapping[str, int],
    codes: Mapping[tuple[str, str], int],
) -> dict:
    """Return a group's rollup row of one day from its tally; `numbers` gives each
    citizen's people number, `codes` each named count's code."""
    pairs = [(codes[name, k], n) for name in SMALL for k, n in sorted(t[name].items())]
    seen = t["people"]
    return {
        "day": day,
        **dict(zip(KEYS, key, strict=True)),
        "counts": np.array([t[n] for n in metrics.COUNTS], dtype=COUNTS).tobytes(),
        "named": pack(x for pair in pairs for x in pair),
        **{name: _histogram(t[name]) for name in WAITS},
        "citizens": pack(sorted(numbers[who] for who in seen)),
        "exempt_citizens": pack(sorted(numbers[who] for who, e in seen.items() if e)),
    }


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


def _opened_by(conn: Connection, window: metrics.Window) -> list[tuple[datetime, str, str]]:
    """Return (opened at, channel, pseudonym) of the window's contacts opened with one."""
    stmt = select(E.c.at, E.c.channel, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED,
        E.c.at >= window.start,
        E.c.at < window.end,
        E.c.citizen.is_not(None),
    )
    return [(r.at, r.channel, r.citizen) for r in conn.execute(stmt)]


def recompute(reader: Engine, writer: Engine, window: metrics.Window) -> None:
    """Recompute the rollup rows of the window's days from the event log."""
    zone = ZoneInfo(window.timezone)
    with reader.connect() as conn:
        _begin(conn)
        facts = window_facts(conn, window)
        opened = _opened_by(conn, window)
    counted = tallies(facts, zone)
    seen = {who for t in counted.values() for who in t["people"]}
    numbers = people_numbers(writer, seen | {who for _at, _ch, who in opened if who})
    codes = name_codes(writer, {(n, k) for t in counted.values() for n in SMALL for k in t[n]})
    rows = [row_of(day, key, t, numbers, codes) for (day, key), t in counted.items()]
    openings: dict[tuple[date, str], list[int]] = {}
    for at, channel, who in opened:
        if who:
            openings.setdefault((_day_of(at, zone), channel), []).append(numbers[who])
    opener_rows = [
        {"day": day, "channel": channel, "citizens": pack(sorted(found))}
        for (day, channel), found in sorted(openings.items())
    ]
    with writer.begin() as conn:
        for table in (daily, openers):
            conn.execute(
                delete(table).where(table.c.day >= window.first_day, table.c.day <= window.last_day)
            )
        if rows:
            conn.execute(insert(daily), rows)
        if opener_rows:
            conn.execute(insert(openers), opener_rows)


def _read_mark(writer: Engine) -> Mapping | None:
    with writer.connect() as conn:
        row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
        return dict(row) if row else None


def _write_mark(writer: Engine, event_id: int, at: datetime, settings: Mapping) -> None:
    with writer.begin() as conn:
        conn.execute(delete(marks).where(marks.c.name == MARK))
        row = {"name": MARK, "event_id": event_id, "refreshed_at": at, **settings}
        conn.execute(insert(marks).values(**row))


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
    tables. A change of time zone or windows rebuilds every day. With nothing appended since
    the last run only the mark's time moves (the figures are as of now).
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
    if not rebuild and last <= mark["event_id"]:
        _write_mark(writer, last, now, settings)
        return {"events_up_to": last, "days": 0, "rebuilt": False}
    if rebuild:  # readers use the events meanwhile: no mark, or one of other settings
        clear(writer)
    after = 0 if rebuild else max(0, mark["event_id"] - OVERLAP_EVENTS)
    with reader.connect() as conn:
        if rebuild:
            days = all_days(conn, timezone)
        else:
            days = touched_days(conn, after, last, timezone, repeat, followup)
    for first, last_day in runs(days):
        recompute(reader, writer, metrics.Window(first, last_day, timezone, repeat, followup))
    _write_mark(writer, last, now, settings)
    return {"events_up_to": last, "days": len(days), "rebuilt": rebuild}


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
