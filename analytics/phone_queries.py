"""The phone's facts from the `contact_events` log: callbacks and digital completions, each
one small statement over one kind of event found by its type and time (the `type, at`
index)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from analytics.log import contact_events as E
from analytics.metrics.facts import CallbackFacts, Completion
from router.domain import events as ev

CALLBACK_EVENTS = (
    ev.CALLBACK_BOOKED,
    ev.CALLBACK_PLACED,
    ev.CALLBACK_ANSWERED,
    ev.CALLBACK_FAILED,
    ev.CALLBACK_CLOSED,
)


def callbacks(
    conn: Connection, since: datetime, until: datetime, horizon: timedelta
) -> dict[int, tuple[int, CallbackFacts]]:
    """Return each callback booked in [since, until): the contact it was first booked on,
    and what became of it (its later events may be on a contact opened to call back) by
    `horizon` after it was booked. The upper bound makes a past window's figures stop
    changing, and the same for one callback whatever the window."""
    stmt = (
        select(
            E.c.id,
            E.c.type,
            E.c.contact_id,
            E.c.data["callback_id"].as_integer().label("callback_id"),
            E.c.data["reason"].as_string().label("reason"),
            E.c.data["status"].as_string().label("status"),
            E.c.data["by"].as_string().label("by"),
            E.c.at,
        )
        .where(E.c.type.in_(CALLBACK_EVENTS), E.c.at >= since, E.c.at < until + horizon)
        .order_by(E.c.id)
    )
    found: dict[int, tuple[int, CallbackFacts]] = {}
    booked_at: dict[int, datetime] = {}
    for r in conn.execute(stmt):
        if r.callback_id is None:
            continue
        if r.callback_id not in found:
            if r.type != ev.CALLBACK_BOOKED or r.at >= until:
                continue  # booked before `since` or after `until`: not this window's
            found[r.callback_id] = (r.contact_id, CallbackFacts(r.callback_id, reason=r.reason))
            booked_at[r.callback_id] = r.at
            continue
        if r.at >= booked_at[r.callback_id] + horizon:
            continue
        contact_id, cb = found[r.callback_id]
        if r.type == ev.CALLBACK_BOOKED:  # staff "call again": a new round, not a new callback
            cb = replace(cb, failed=False, failure_status=None)
        elif r.type == ev.CALLBACK_PLACED:
            cb = replace(cb, calls=cb.calls + 1)
        elif r.type == ev.CALLBACK_ANSWERED:
            cb = replace(cb, answered=True)
        elif r.type == ev.CALLBACK_FAILED:
            cb = replace(cb, failed=True, failure_status=r.status)
        elif r.type == ev.CALLBACK_CLOSED and r.by == "system":
            cb = replace(cb, settled=True)
        found[r.callback_id] = (contact_id, cb)
    return found


def completions(conn: Connection, since: datetime, until: datetime) -> list[Completion]:
    """Return the digital completions the agency's self-service reported in [since, until)."""
    stmt = select(E.c.at, E.c.need, E.c.citizen, E.c.contact_id).where(
        E.c.type == ev.DIGITAL_COMPLETED, E.c.at >= since, E.c.at < until
    )
    return [Completion(r.at, r.need, r.citizen, r.contact_id) for r in conn.execute(stmt)]
