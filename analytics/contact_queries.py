"""SQL over the append-only `contact_events` log: one `ContactFacts` per contact.

Read only. Each contact's events are folded (grouped by contact id) into flags and the ids of
the events whose data matter; those events are joined back in the same statement. Repeat
contacts are found with a second, lighter statement over the same citizens' later contacts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, or_, select

from analytics.log import contact_events as E
from analytics.metrics.facts import PHONE, ContactFacts
from analytics.metrics.repeat_contact import repeated
from analytics.metrics.window import Window
from router.domain import events as ev


def _opened(opened_from: datetime, opened_before: datetime, citizens=None, ids=None):
    """Return a select of the contacts opened in [opened_from, opened_before) (by the
    citizens `citizens` selects, when given; only the contacts `ids`, when given)."""
    stmt = select(E.c.contact_id, E.c.at.label("opened_at"), E.c.channel, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED, E.c.at >= opened_from, E.c.at < opened_before
    )
    if citizens is not None:
        stmt = stmt.where(E.c.citizen.in_(citizens))
    if ids is not None:
        stmt = stmt.where(E.c.contact_id.in_(ids))
    return stmt


def _folded(opened, full: bool, assisted: bool = False):
    """Return one row per opened contact with its events folded into flags and event ids."""
    opened = opened.subquery("opened")
    # A contact ends with its last close, unless its citizen came back after it (a web chat
    # abandoned in the queue and returned to: contact_returned): then it is open again.
    last_closed = func.max(case((E.c.type == ev.CLOSED, E.c.id)))
    last_returned = func.max(case((E.c.type == ev.RETURNED, E.c.id)))
    closed = or_(last_returned.is_(None), last_closed > last_returned)
    columns = [
        opened.c.contact_id,
        opened.c.opened_at,
        opened.c.channel,
        func.max(E.c.citizen).label("citizen"),
        case((closed, func.max(case((E.c.type == ev.CLOSED, E.c.at))))).label("ended_at"),
        # The need is learnt during the conversation: the last event naming one wins.
        func.max(case((E.c.need.is_not(None), E.c.id))).label("need_id"),
    ]
    if assisted and not full:
        columns.append(func.max(case((E.c.type == ev.QUEUED, 1), else_=0)).label("assisted"))
    if full:
        abandoned = E.c.data["status"].as_string() == "abandoned"
        bot_turn = E.c.type.in_((ev.BOT_ANSWERED, ev.BOT_FAILED))
        columns += [
            func.max(case((bot_turn, 1), else_=0)).label("bot"),
            # When it first entered the queue; none: not assisted.
            func.min(case((E.c.type == ev.QUEUED, E.c.at))).label("queued_at"),
            func.min(case((E.c.type == ev.HANDED_OFF, E.c.id))).label("handoff_id"),
            func.min(case((E.c.type == ev.CITIZEN_IDENTIFIED, E.c.id))).label("identified_id"),
            func.min(case((E.c.type == ev.RESOLVED, E.c.id))).label("resolved_id"),
            func.min(case((E.c.type == ev.CONTACT_OPENED, E.c.id))).label("opened_id"),
            func.max(case((E.c.type == ev.DEFLECTION_OFFERED, 1), else_=0)).label("offered"),
            func.min(case((E.c.type == ev.DEFLECTION_ACCEPTED, E.c.at))).label("accepted_at"),
            func.min(case((E.c.type == ev.CALL_ENDED, E.c.at))).label("call_ended_at"),
            # The status is read on call_ended events only (no join back: one scan fewer).
            func.max(case((E.c.type == ev.CALL_ENDED, case((abandoned, 1), else_=0)))).label(
                "abandoned"
            ),
            func.min(case((E.c.type == ev.FOLLOWUP_ACCEPTED, E.c.at))).label("callback_asked_at"),
            func.sum(case((bot_turn, 1), else_=0)).label("bot_turns"),
            func.max(case((bot_turn, E.c.id))).label("last_bot_id"),
            func.max(case((E.c.type == ev.BOT_ANSWERED, E.c.id))).label("last_answer_id"),
            func.min(case((E.c.type == ev.AGENT_ASSIGNED, E.c.at))).label("assigned_at"),
            func.sum(case((E.c.type == ev.QUEUED, 1), else_=0)).label("queued_count"),
            case((closed, last_closed)).label("closed_id"),
            func.max(case((E.c.type == ev.DECISION_MADE, E.c.id))).label("decision_id"),
        ]
    return (
        select(*columns)
        .join(E, E.c.contact_id == opened.c.contact_id)
        .group_by(opened.c.contact_id, opened.c.opened_at, opened.c.channel)
        .subquery("folded")
    )


def contact_facts(
    conn: Connection, opened_from: datetime, opened_before: datetime, citizens=None, ids=None
) -> list[ContactFacts]:
    """Return the facts of every contact opened in [opened_from, opened_before) (by the
    citizens `citizens` selects, when given; of the contacts `ids`, when given)."""
    f = _folded(_opened(opened_from, opened_before, citizens, ids), full=True)
    need, handoff, identified, resolved, opened, closed, decision = (
        E.alias(n) for n in ("n", "h", "i", "r", "o", "c", "d")
    )
    # JSON fields are read in SQL (JSON_EXTRACT on SQLite, ->> on PostgreSQL): decoding every
    # event's data in Python would cost more than the query itself.
    stmt = (
        select(
            f,
            need.c.need,
            handoff.c.data["rule_id"].as_string().label("handoff_rule"),
            identified.c.data["exempt"].as_boolean().label("exempt"),
            identified.c.data["age_band"].as_string().label("age_band"),
            resolved.c.data["completed"].as_boolean().label("completed"),
            resolved.c.data["digital"].as_boolean().label("digital"),
            # A contact opened to call back about another one.
            opened.c.data["reopens"].as_integer().label("reopens"),
            resolved.c.data["by"].as_string().label("resolved_by"),
            resolved.c.data["wrap_up"].as_string().label("wrap_up"),
            resolved.c.data["outcome"].as_string().label("outcome"),
            closed.c.data["state_before"].as_string().label("state_before"),
            closed.c.data["language"].as_string().label("language"),
            decision.c.data["profile"].as_string().label("profile"),
        )
        .outerjoin(need, need.c.id == f.c.need_id)
        .outerjoin(handoff, handoff.c.id == f.c.handoff_id)
        .outerjoin(identified, identified.c.id == f.c.identified_id)
        .outerjoin(resolved, resolved.c.id == f.c.resolved_id)
        .outerjoin(opened, opened.c.id == f.c.opened_id)
        .outerjoin(closed, closed.c.id == f.c.closed_id)
        .outerjoin(decision, decision.c.id == f.c.decision_id)
        .order_by(f.c.contact_id)
    )
    rows = conn.execute(stmt).all()
    again = [r.contact_id for r in rows if r.assigned_at is not None and r.queued_count > 1]
    waits = _requeued_waits(conn, again) if again else {}
    return [_facts(r, waits.get(r.contact_id)) for r in rows]


def _requeued_waits(conn: Connection, ids: list[int]) -> dict[int, timedelta]:
    """Return, for contacts queued again after an agent took them (a transfer), the time they
    waited in a queue with no agent after the first agent took them: not handling time."""
    stmt = (
        select(E.c.contact_id, E.c.type, E.c.at)
        .where(E.c.contact_id.in_(ids))
        .where(E.c.type.in_((ev.QUEUED, ev.AGENT_ASSIGNED, ev.CLOSED)))
        .order_by(E.c.contact_id, E.c.id)
    )
    out: dict[int, timedelta] = {}
    held: dict[int, bool] = {}
    since: dict[int, datetime] = {}
    for contact_id, kind, at in conn.execute(stmt):
        if kind == ev.AGENT_ASSIGNED:
            held[contact_id] = True
        elif contact_id in held and contact_id not in since and kind == ev.QUEUED:
            since[contact_id] = at  # back in a queue after an agent held it
            continue
        if contact_id in since and kind != ev.QUEUED:
            start = since.pop(contact_id)
            out[contact_id] = out.get(contact_id, timedelta(0)) + max(at - start, timedelta(0))
    return out


def _facts(r, requeued: timedelta | None = None) -> ContactFacts:
    resolved = r.resolved_id is not None
    digital = r.digital
    if digital is None:  # events written before `digital` was recorded
        digital = r.channel in ev.DIGITAL_CHANNELS
    identified = r.identified_id is not None
    return ContactFacts(
        contact_id=r.contact_id,
        channel=r.channel,
        opened_at=r.opened_at,
        citizen=r.citizen,
        need=r.need,
        identified=identified,
        exempt=bool(r.exempt) if identified else None,
        age_band=r.age_band,
        bot=bool(r.bot),
        handed_off=r.handoff_id is not None,
        handoff_rule=r.handoff_rule,
        assisted=r.queued_at is not None,
        ended_at=r.ended_at,
        completed=resolved and bool(r.completed),
        digital=resolved and bool(digital),
        deflection_offered=bool(r.offered),
        deflection_accepted_at=r.accepted_at,
        queued_at=r.queued_at,
        abandoned=bool(r.abandoned),
        call_ended_at=r.call_ended_at,
        reopens=r.reopens,
        followup_accepted_at=r.callback_asked_at,
        language=r.language,
        profile=r.profile,
        bot_turns=int(r.bot_turns or 0),
        bot_answered_last=r.last_bot_id is not None and r.last_bot_id == r.last_answer_id,
        resolved=resolved,
        resolved_by=r.resolved_by,
        wrap_up=r.wrap_up,
        outcome=r.outcome,
        assigned_at=r.assigned_at,
        requeued=requeued or timedelta(0),
        left_queue=r.state_before == "queued" and r.channel != PHONE,
    )


def citizens_in(window: Window, ids=None):
    """The citizens who opened a contact in the window (of those contacts, with `ids`), as a
    subquery on an alias of the event log, so that it is not correlated with the outer query."""
    o = E.alias("o")
    citizens = select(o.c.citizen).where(
        o.c.type == ev.CONTACT_OPENED,
        o.c.at >= window.start,
        o.c.at < window.end,
        o.c.citizen.is_not(None),
    )
    return citizens if ids is None else citizens.where(o.c.contact_id.in_(ids))


def later_contacts(
    conn: Connection, window: Window, until: datetime, assisted: bool = False
) -> list[ContactFacts]:
    """Return the contacts, opened from the window's start until `until`, of the citizens
    who opened a contact in the window: the candidates for repeat contacts (and, with
    `assisted`, for another assisted contact after a deflection)."""
    opened = _opened(window.start, until).where(E.c.citizen.in_(citizens_in(window)))
    f = _folded(opened, full=False, assisted=assisted)
    need = E.alias("n")
    stmt = select(f, need.c.need).join(need, need.c.id == f.c.need_id)
    return [
        ContactFacts(
            contact_id=r.contact_id,
            channel=r.channel,
            opened_at=r.opened_at,
            citizen=r.citizen,
            need=r.need,
            ended_at=r.ended_at,
            assisted=bool(r.assisted) if assisted else False,
        )
        for r in conn.execute(stmt)
    ]


def cohort_and_repeats(
    conn: Connection, window: Window
) -> tuple[list[ContactFacts], frozenset[int]]:
    """Return the contacts opened in the window and the ids of those followed by a repeat."""
    cohort = contact_facts(conn, window.start, window.end)
    ends = [c.ended_at for c in cohort if c.ended_at is not None and c.citizen and c.need]
    if not ends:
        return cohort, frozenset()
    # Followers can open up to the repeat window after the latest end, past the window;
    # the bound is inclusive, hence the extra second.
    until = max(ends) + window.repeat_window + timedelta(seconds=1)
    followers = later_contacts(conn, window, until)
    in_cohort = {c.contact_id for c in cohort}
    return cohort, repeated(followers, window.repeat_window) & in_cohort
