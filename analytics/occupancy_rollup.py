"""The daily rollup of occupancy (docs/domain.md §4.6): one row per day with the agents'
staffed and handling seconds, so a report over a month reads a month of rows.

Analytics' own table (migration 0020), written by analytics alone, beside the daily rollups
(analytics/rollups.py) and refreshed by the same scheduler job. Each run recomputes, from the
event log (`analytics.occupancy_log`), the days from the earliest one its new events can
change to today: a presence change changes the days since the agent's change before it; an
event that ends a holding (a transfer, another agent, the contact closed) changes the days
since the contact was taken; and the days since the last run (a staffed agent or a contact
still held counts up to the run's time). A change of time zone or of the code rebuilds.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Engine,
    MetaData,
    Table,
    delete,
    func,
    insert,
    select,
)

from analytics import occupancy, occupancy_log, rollup_tables
from analytics.log import contact_events as E
from analytics.rollup_tables import marks
from router.domain import events as ev

metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

daily = Table(
    "metric_rollup_occupancy",
    metadata,
    Column("day", Date, primary_key=True),
    Column("staffed_seconds", BigInteger, nullable=False),
    Column("handling_seconds", BigInteger, nullable=False),
)

MARK = "occupancy"
LAYOUT = hashlib.sha256(
    b"".join(
        Path(m.__file__).read_bytes() for m in (occupancy, occupancy_log, sys.modules[__name__])
    )
).hexdigest()[:16]
OVERLAP_EVENTS = 5_000  # as analytics.rollups: an event with a lower id can commit later


def create_tables(engine: Engine) -> None:
    """Create the table if missing (a database made by `create_all`, as in the tests)."""
    rollup_tables.create_tables(engine)  # the marks
    metadata.create_all(engine, checkfirst=True)


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _mark(conn: Connection) -> Mapping | None:
    if not conn.dialect.has_table(conn, marks.name):
        return None
    row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
    return dict(row) if row else None


def _earliest(conn: Connection, after_id: int, up_to_id: int) -> datetime | None:
    """Return the earliest moment the events (after_id, up_to_id] can change."""
    new = E.alias("new")
    in_range = (new.c.id > after_id, new.c.id <= up_to_id)
    moments: list[datetime] = []
    first_change = conn.execute(
        select(func.min(new.c.at)).where(*in_range, new.c.type == occupancy_log.PRESENCE_CHANGED)
    ).scalar()
    if first_change is not None:  # the interval each change ends began before it
        before = conn.execute(
            select(func.max(E.c.at)).where(
                E.c.type == occupancy_log.PRESENCE_CHANGED,
                E.c.at < first_change,
                E.c.at >= first_change - occupancy.LOOKBACK,
            )
        ).scalar()
        moments.append(before or first_change)
    ended = select(new.c.contact_id).where(
        *in_range, new.c.type.in_(occupancy_log.ENDS_HOLDING), new.c.contact_id.is_not(None)
    )
    taken = conn.execute(
        select(func.min(E.c.at)).where(E.c.type == ev.AGENT_ASSIGNED, E.c.contact_id.in_(ended))
    ).scalar()
    if taken is not None:
        moments.append(taken)
    return min(moments) if moments else None


def refresh(reader: Engine, writer: Engine, timezone: str, now: datetime | None = None) -> dict:
    """Bring the occupancy rollup up to the event log's last event; return what it did."""
    create_tables(writer)
    now = now or datetime.now(UTC)
    zone = ZoneInfo(timezone)
    settings = {"timezone": timezone, "repeat_days": 0, "followup_hours": 0.0, "layout": LAYOUT}
    with writer.connect() as conn:
        mark = _mark(conn)
    rebuild = mark is None or any(mark[k] != v for k, v in settings.items())
    today = now.astimezone(zone).date()
    with reader.connect() as conn:
        last = conn.execute(select(func.max(E.c.id))).scalar() or 0
        if rebuild:
            since = conn.execute(
                select(func.min(E.c.at)).where(E.c.type == occupancy_log.PRESENCE_CHANGED)
            ).scalar()
        else:
            since = _earliest(conn, max(0, mark["event_id"] - OVERLAP_EVENTS), last)
            ran = mark["refreshed_at"]
            ran = ran if ran.tzinfo else ran.replace(tzinfo=UTC)
            since = min(since, ran) if since is not None else ran
        first = since.astimezone(zone).date() if since is not None else None
        days = occupancy_log.span(first, today) if first is not None and first <= today else []
        figures = occupancy_log.days_of(conn, days, timezone, now)
    with writer.begin() as conn:
        if rebuild:
            conn.execute(delete(daily))
        elif days:
            conn.execute(delete(daily).where(daily.c.day >= days[0], daily.c.day <= days[-1]))
        rows = [
            {
                "day": d.day,
                "staffed_seconds": d.staffed_seconds,
                "handling_seconds": d.handling_seconds,
            }
            for d in figures
            if d.staffed_seconds or d.handling_seconds
        ]
        if rows:
            conn.execute(insert(daily), rows)
        conn.execute(delete(marks).where(marks.c.name == MARK))
        conn.execute(insert(marks).values(name=MARK, event_id=last, refreshed_at=now, **settings))
    return {"events_up_to": last, "days": len(days), "rebuilt": rebuild}


def usable(conn: Connection, timezone: str) -> bool:
    """Tell whether the rollup exists and was computed with this time zone and code."""
    mark = _mark(conn)
    return mark is not None and (mark["timezone"], mark["layout"]) == (timezone, LAYOUT)


def read(conn: Connection, first: date, last: date) -> list[occupancy.Day]:
    """Return the days' figures from the rollup."""
    stmt = select(daily).where(daily.c.day >= first, daily.c.day <= last)
    rows = {
        _day(r.day): (int(r.staffed_seconds), int(r.handling_seconds)) for r in conn.execute(stmt)
    }
    return occupancy.from_rows(occupancy_log.span(first, last), rows)
