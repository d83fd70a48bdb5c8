"""Daily rollups of the channel-shift figures, so a report over a million contacts answers in
milliseconds (docs/domain.md §4.6).

`refresh` (the scheduler's `metric_rollups` job) keeps one row per day and group — channel,
need, exemption, age band, language — holding the tally of the contacts opened that day
(`metrics.tally`: counts, histograms of waits, the citizens seen). It is analytics' own table,
written by analytics alone; the router's tables are only read.

Late events correct the rollup: each run reads the events appended since the last one and
recomputes every day they can touch — the day their contact opened; the days of the same
citizens' contacts opened within the repeat window (+ margin) either side, whose repeat
contacts, needs and deflections they can change; and the day of the contact a callback was
booked on. A day is recomputed from the event log exactly as a report over that day would
compute it, so the rollup's answer equals a full recomputation (a property test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)

from analytics import metrics
from analytics.log import contact_events as E
from analytics.queries import window_facts
from router.domain import events as ev

metadata = MetaData()

KEYS = ("channel", "need", "exempt", "age_band", "language")

daily = Table(
    "metric_rollups",
    metadata,
    Column("day", Date, primary_key=True),
    *(Column(name, String(64), primary_key=True) for name in KEYS),
    Column("tally", JSON, nullable=False),
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
)

MARK = "daily"
# Each run also re-reads this many events before the mark: on PostgreSQL an event with a
# lower id can commit after one with a higher id, and re-reading is harmless (idempotent).
OVERLAP_EVENTS = 5_000


def create_tables(engine: Engine) -> None:
    """Create the rollup tables if they are missing (a database made without migrations)."""
    metadata.create_all(engine, checkfirst=True)


def _day_of(at: datetime, zone: ZoneInfo) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).date()


def _reach(repeat: timedelta, followup: timedelta) -> timedelta:
    """Return how far from a changed contact another contact's figures can change."""
    return max(repeat + metrics.LINK_MARGIN, followup)


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


CALLBACK_TYPES = (
    ev.CALLBACK_BOOKED,
    ev.CALLBACK_PLACED,
    ev.CALLBACK_ANSWERED,
    ev.CALLBACK_FAILED,
    ev.CALLBACK_CLOSED,
)


def key_of(c: metrics.ContactFacts) -> tuple[str, ...]:
    return tuple(metrics.group_of(c, name) for name in KEYS)


def day_rows(facts: list[metrics.ContactFacts], day: date) -> list[dict]:
    """Return the rollup rows of one day's contacts: one tally per group."""
    groups: dict[tuple[str, ...], list[metrics.ContactFacts]] = {}
    for c in facts:
        groups.setdefault(key_of(c), []).append(c)
    return [
        {"day": day, **dict(zip(KEYS, key, strict=True)), "tally": metrics.tally(members)}
        for key, members in sorted(groups.items())
    ]


def _window(day: date, timezone: str, repeat: timedelta, followup: timedelta) -> metrics.Window:
    return metrics.Window(day, day, timezone, repeat, followup)


def _read_mark(writer: Engine) -> Mapping | None:
    with writer.connect() as conn:
        row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
        return dict(row) if row else None


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
    tables. A change of time zone or windows rebuilds every day.
    """
    create_tables(writer)
    repeat, followup = timedelta(days=repeat_days), timedelta(hours=followup_hours)
    mark = _read_mark(writer)
    settings = {"timezone": timezone, "repeat_days": repeat_days, "followup_hours": followup_hours}
    rebuild = mark is None or any(mark[k] != v for k, v in settings.items())
    after = 0 if rebuild else max(0, mark["event_id"] - OVERLAP_EVENTS)
    if rebuild:  # readers use the events meanwhile: no mark, or one of other settings
        with writer.begin() as conn:
            conn.execute(delete(marks).where(marks.c.name == MARK))
            conn.execute(delete(daily))
    with reader.connect() as conn:
        last = conn.execute(select(func.max(E.c.id))).scalar() or 0
        days = touched_days(conn, after, last, timezone, repeat, followup) if last else set()
    recomputed = 0
    for day in sorted(days):
        with reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            facts = window_facts(conn, _window(day, timezone, repeat, followup))
        rows = day_rows(facts, day)
        with writer.begin() as conn:
            conn.execute(delete(daily).where(daily.c.day == day))
            if rows:
                conn.execute(insert(daily), rows)
        recomputed += 1
    with writer.begin() as conn:
        conn.execute(delete(marks).where(marks.c.name == MARK))
        conn.execute(
            insert(marks).values(
                name=MARK, event_id=last, refreshed_at=now or datetime.now(UTC), **settings
            )
        )
    return {"events_up_to": last, "days": recomputed, "rebuilt": rebuild}


def drop_tables(engine: Engine) -> None:
    """Drop the rollup tables (a test's clean-up; the next refresh rebuilds them)."""
    metadata.drop_all(engine, checkfirst=True)


# -- reading --------------------------------------------------------------------------------


def usable(engine: Engine, timezone: str, repeat_days: int, followup_hours: float) -> dict | None:
    """Return the rollup's mark when it exists and was computed with these settings."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, marks.name):
            return None
        row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
    if row is None:
        return None
    settings = (row["timezone"], row["repeat_days"], row["followup_hours"])
    if settings != (timezone, repeat_days, followup_hours):
        return None
    return dict(row)


def rollup_rows(
    conn: Connection,
    first: date,
    last: date,
    group_by: str,
    filters: Mapping[str, str],
    settings: metrics.Settings,
) -> tuple[list[metrics.Row], metrics.Row]:
    """Return one row per group and the total from the daily rollup of [first, last]."""
    stmt = select(daily).where(daily.c.day >= first, daily.c.day <= last)
    for name, value in filters.items():
        stmt = stmt.where(daily.c[name] == value)
    groups: dict[str, list[Mapping]] = {}
    for r in conn.execute(stmt).mappings():
        group = "all" if group_by == "none" else r[group_by]
        groups.setdefault(group, []).append(r["tally"])
    merged = {name: metrics.merge(tallies) for name, tallies in sorted(groups.items())}
    rows = [metrics.from_tally(name, t, settings) for name, t in merged.items()]
    total = merged["all"] if group_by == "none" and merged else metrics.merge(merged.values())
    return rows, metrics.from_tally("all", total, settings)
