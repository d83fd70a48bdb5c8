"""Occupancy's facts from the event log (read only): agents' presence changes and the
contacts they held (analytics/occupancy.py computes the figures; docs/domain.md §4.2).

Two statements, each found by type and time (the `type, at` index): the `presence_changed`
events from `LOOKBACK` before the window (an agent's state when it starts) to its end, and
the `agent_assigned` events of the same span with the events that end a holding on the same
contacts (`queued`, `agent_assigned`, `contact_closed`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from analytics import occupancy
from analytics.log import contact_events as E
from router.domain import events as ev

PRESENCE_CHANGED = "presence_changed"  # router/domain/presence.py: {"agent_id", "from", "to"}
ENDS_HOLDING = (ev.QUEUED, ev.AGENT_ASSIGNED, ev.CLOSED)


def presence_changes(
    conn: Connection, start: datetime, end: datetime
) -> list[occupancy.PresenceChange]:
    """Return the presence changes from LOOKBACK before `start` to `end`."""
    stmt = (
        select(
            E.c.at,
            E.c.data["agent_id"].as_integer().label("agent_id"),
            E.c.data["to"].as_string().label("to"),
        )
        .where(
            E.c.type == PRESENCE_CHANGED,
            E.c.at >= start - occupancy.LOOKBACK,
            E.c.at < end,
        )
        .order_by(E.c.at, E.c.id)
    )
    return [
        occupancy.PresenceChange(r.agent_id, r.at, r.to)
        for r in conn.execute(stmt)
        if r.agent_id is not None
    ]


def holdings(conn: Connection, start: datetime, end: datetime) -> list[occupancy.Holding]:
    """Return the contacts agents took from LOOKBACK before `start` to `end`, each with when
    the agent stopped holding it (None: still held)."""
    taken = select(E.c.contact_id).where(
        E.c.type == ev.AGENT_ASSIGNED,
        E.c.at >= start - occupancy.LOOKBACK,
        E.c.at < end,
    )
    stmt = (
        select(
            E.c.contact_id,
            E.c.type,
            E.c.at,
            E.c.data["agent_id"].as_integer().label("agent_id"),
        )
        .where(E.c.contact_id.in_(taken), E.c.type.in_(ENDS_HOLDING))
        .order_by(E.c.contact_id, E.c.at, E.c.id)
    )
    out: list[occupancy.Holding] = []
    held: tuple[int, int, datetime] | None = None  # (contact, agent, since)
    for r in conn.execute(stmt):
        if held is not None and held[0] == r.contact_id:
            out.append(occupancy.Holding(held[1], held[2], r.at))
            held = None
        elif held is not None:  # the previous contact was still held
            out.append(occupancy.Holding(held[1], held[2], None))
            held = None
        if r.type == ev.AGENT_ASSIGNED and r.agent_id is not None:
            held = (r.contact_id, r.agent_id, r.at)
    if held is not None:
        out.append(occupancy.Holding(held[1], held[2], None))
    return out


def days_of(
    conn: Connection, days: list[date], timezone: str, now: datetime
) -> list[occupancy.Day]:
    """Return the days' occupancy figures computed from the event log."""
    if not days:
        return []
    zone = ZoneInfo(timezone)
    start = occupancy.day_bounds(min(days), zone)[0]
    end = min(occupancy.day_bounds(max(days), zone)[1], max(now, start))
    changes = presence_changes(conn, start, end)
    # No agent's presence in the log (a log from before presence was recorded, or a
    # benchmark's): nobody was staffed, and the assignments need not be read.
    held = holdings(conn, start, end) if changes else []
    return occupancy.by_day(days, zone, changes, held, now)


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
