"""A window's contacts, complete, from the append-only `contact_events` log.

Read only. The contacts' own facts come from analytics/contact_queries.py (one `ContactFacts`
per contact), the phone's from analytics/phone_queries.py (callbacks, digital completions);
here they are put together with the satisfaction answers and the links to the same citizens'
contacts before and after (repeat contacts, needs continued; the statement over the later
contacts also says which entered the queue: another assisted contact after a deflection).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from analytics.contact_queries import citizens_in, contact_facts
from analytics.log import contact_events as E
from analytics.metrics.deflection import deflections_completed
from analytics.metrics.facts import CallbackFacts, Completion, ContactFacts
from analytics.metrics.repeat_contact import LINK_MARGIN, linked
from analytics.metrics.window import Window
from analytics.phone_queries import callbacks, completions
from router.domain import events as ev


def satisfaction(conn: Connection, since: datetime, ids=None) -> dict[int, int]:
    """Return the last satisfaction answer (1-5) per contact (of the contacts `ids`, when
    given), given since `since`."""
    stmt = (
        select(E.c.contact_id, E.c.data["score"].as_integer().label("score"))
        .where(E.c.type == ev.SATISFACTION, E.c.at >= since)
        .order_by(E.c.id)
    )
    if ids is not None:
        stmt = stmt.where(E.c.contact_id.in_(ids))
    return {r.contact_id: r.score for r in conn.execute(stmt) if r.score in range(1, 6)}


# Contacts opened this long before the window are read for the links of its contacts (a
# contact that continues one opened earlier still is not a new need).
LOOK_BACK_MARGIN = LINK_MARGIN


def window_facts(conn: Connection, window: Window, now: datetime | None = None, ids=None):
    """Return the facts of the window's contacts (only of the contacts `ids` among them, when
    given), complete: their callbacks, satisfaction answers, completed deflections and links
    to the same citizens' contacts on the same need before and after (repeat contacts, needs
    continued). A contact's facts are the same whichever window or ids it is read with."""
    cohort = contact_facts(conn, window.start, window.end, ids=ids)
    if not cohort:
        return []
    final = window.final_after()
    booked: dict[int, list[CallbackFacts]] = {}
    for contact_id, cb in callbacks(conn, window.start, final, window.repeat_window).values():
        booked.setdefault(contact_id, []).append(cb)
    scores = satisfaction(conn, window.start, ids)
    cohort = [
        replace(
            c, callbacks=tuple(booked.get(c.contact_id, ())), satisfaction=scores.get(c.contact_id)
        )
        if c.contact_id in booked or c.contact_id in scores
        else c
        for c in cohort
    ]
    citizens = citizens_in(window, ids)
    look_back = window.start - window.repeat_window - LOOK_BACK_MARGIN
    ends = [c.ended_at for c in cohort if c.ended_at is not None]
    accepted = [c.deflection_accepted_at for c in cohort if c.deflection_accepted_at]
    # Bounds are inclusive, hence the extra second.
    until = max(ends, default=window.end) + window.repeat_window + timedelta(seconds=1)
    done: list[Completion] = []
    if accepted:
        followup_until = max(accepted) + window.followup_window + timedelta(seconds=1)
        done = completions(conn, min(accepted), followup_until)
        until = max(until, followup_until)
    if ids is None:
        earlier = contact_facts(conn, look_back, window.start, citizens)
        later = contact_facts(conn, window.end, until, citizens)
    else:  # the same citizens' other contacts, in the window too
        in_cohort = {c.contact_id for c in cohort}
        around = contact_facts(conn, look_back, until, citizens)
        earlier = [c for c in around if c.contact_id not in in_cohort]
        later = [c for c in earlier if c.opened_at >= window.start]
    if done:
        others = [c for c in (*cohort, *later) if c.assisted]
        deflected = deflections_completed(cohort, done, others, window.followup_window)
        cohort = [
            replace(c, deflection_completed=True) if c.contact_id in deflected else c
            for c in cohort
        ]
    if ids is not None:
        return linked(cohort, earlier, window.repeat_window)
    return linked(cohort, [*earlier, *later], window.repeat_window)


def report_facts(
    conn: Connection, window: Window
) -> tuple[list[ContactFacts], frozenset[int], frozenset[int]]:
    """Return the window's contacts, complete (`window_facts`), in the shape
    `metrics.channel_shift` takes (repeats and deflections are marked on the contacts)."""
    return window_facts(conn, window), frozenset(), frozenset()


def decisions(conn: Connection, window: Window) -> dict[int, list[tuple[str, str]]]:
    """Return, per contact opened in the window, its policy decisions in order: (rule id,
    action) of each decision_made event."""
    opened = select(E.c.contact_id).where(
        E.c.type == ev.CONTACT_OPENED, E.c.at >= window.start, E.c.at < window.end
    )
    stmt = (
        select(
            E.c.contact_id,
            E.c.data["rule_id"].as_string().label("rule_id"),
            E.c.data["action"].as_string().label("action"),
        )
        .where(
            E.c.type == ev.DECISION_MADE,
            E.c.at >= window.start,
            E.c.contact_id.in_(opened),
        )
        .order_by(E.c.id)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for r in conn.execute(stmt):
        found.setdefault(r.contact_id, []).append((r.rule_id or "", r.action or ""))
    return found
