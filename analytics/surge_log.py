"""Surge mode's facts from the event log (read only), for the managers' dashboard
(analytics/surge_periods.py says what each figure is).

The surge events are few (one start and one end per surge) and found by type and time (the
`type, at` index); only while a surge was on are the queue's answers, the surge rules'
decisions and the surge's callbacks read, each piece of a surge with counting statements
over the same index. A period with no surge costs one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from analytics import surge_periods as sp
from analytics.log import contact_events as E
from router.domain import events as ev


def surge_events(conn: Connection, end: datetime) -> list[sp.SurgeEvent]:
    """Return the surge events before `end`, oldest first (a start and an end a surge)."""
    stmt = (
        select(E.c.type, E.c.at, E.c.data["wait_seconds"].as_integer().label("wait"))
        .where(E.c.type.in_((sp.STARTED, sp.ENDED)), E.c.at < end)
        .order_by(E.c.at, E.c.id)
    )
    return [sp.SurgeEvent(r.type, r.at, r.wait) for r in conn.execute(stmt)]


def _within(type_: str, piece: sp.Piece):  # noqa: ANN202
    return (E.c.type == type_, E.c.at >= piece.start, E.c.at < piece.end)


def figures_of(conn: Connection, piece: sp.Piece) -> sp.WhileOn:
    """Return what happened while surge mode was on in one piece of a surge."""
    # The exact wait (events before it carry whole seconds only, rounded down).
    wait = func.coalesce(
        E.c.data["wait_exact_seconds"].as_float(), E.c.data["wait_seconds"].as_integer()
    )
    answered, total, longest = conn.execute(
        select(func.count(), func.sum(wait), func.max(wait)).where(
            *_within(ev.AGENT_ASSIGNED, piece)
        )
    ).one()
    offered = conn.scalar(
        select(func.count()).where(
            *_within(ev.DECISION_MADE, piece),
            E.c.data["action"].as_string() == "callback",
            E.c.data["surge"].as_boolean().is_(True),
        )
    )
    booked = {
        int(r.callback_id)
        for r in conn.execute(
            select(
                E.c.data["callback_id"].as_integer().label("callback_id"),
                E.c.data["reason"].as_string().label("reason"),
                E.c.data["by"].as_string().label("by"),
            ).where(*_within(ev.CALLBACK_BOOKED, piece))
        )
        if r.reason == "surge" and r.by is None and r.callback_id is not None
    }
    return sp.WhileOn(
        seconds=int((piece.end - piece.start).total_seconds()),
        answered=answered or 0,
        wait_seconds_sum=float(total or 0),
        longest_wait_seconds=None if longest is None else float(longest),
        offered=offered or 0,
        booked=booked,
    )


def made(conn: Connection, booked: set[int], now: datetime) -> set[int]:
    """Return which of these callbacks the citizen answered, by `now`."""
    if not booked:
        return set()
    callback = E.c.data["callback_id"].as_integer()
    stmt = select(callback).where(
        E.c.type == ev.CALLBACK_ANSWERED, E.c.at < now, callback.in_(sorted(booked))
    )
    return {int(c) for (c,) in conn.execute(stmt) if c is not None}


def section(conn: Connection, days: Sequence[date], timezone: str, now: datetime) -> dict:
    """The dashboard's surge section for these days (analytics/surge_periods.summary)."""
    zone = ZoneInfo(timezone)
    if not days:
        return sp.summary([], [], [], zone, now)
    # Every surge event up to now (a surge that ended after the last day ended), few. What
    # was recorded at `now` itself has happened: the cut is just after it (a surge still on,
    # read at the instant a callback was booked in it, counts that callback).
    until = now + timedelta(microseconds=1)
    pieces = sp.periods(surge_events(conn, until), until)
    cut = sp.by_day(pieces, days, zone)
    figures = [figures_of(conn, piece) for _day, _i, piece in cut]
    answered = made(conn, set().union(*(f.booked for f in figures)), until)
    for f in figures:
        f.made = f.booked & answered
    return sp.summary(pieces, cut, figures, zone, now)
