"""SQL over the append-only `contact_events` log: one `ContactFacts` per contact.

Read only. One statement folds each contact's events (grouped by contact id) into flags and
the ids of the events whose data matter; a second fetches those events' data and needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, select

from analytics.metrics import ContactFacts, Window, repeated
from router.adapters.orm import contact_events as E
from router.domain import events as ev


def _folded(opened_from: datetime, opened_before: datetime, identified_only: bool):
    """Return a select of one row per contact opened in [opened_from, opened_before)."""
    opened = select(E.c.contact_id, E.c.at.label("opened_at"), E.c.channel).where(
        E.c.type == ev.CONTACT_OPENED, E.c.at >= opened_from, E.c.at < opened_before
    )
    if identified_only:
        opened = opened.where(E.c.citizen.is_not(None))
    opened = opened.subquery("opened")
    bot_turn = E.c.type.in_((ev.BOT_ANSWERED, ev.BOT_FAILED))
    return (
        select(
            opened.c.contact_id,
            opened.c.opened_at,
            opened.c.channel,
            func.max(E.c.citizen).label("citizen"),
            func.max(case((bot_turn, 1), else_=0)).label("bot"),
            func.max(case((E.c.type == ev.QUEUED, 1), else_=0)).label("assisted"),
            func.min(case((E.c.type == ev.CLOSED, E.c.at))).label("ended_at"),
            func.min(case((E.c.type == ev.HANDED_OFF, E.c.id))).label("handoff_id"),
            func.min(case((E.c.type == ev.CITIZEN_IDENTIFIED, E.c.id))).label("identified_id"),
            func.min(case((E.c.type == ev.RESOLVED, E.c.id))).label("resolved_id"),
            # The need is learnt during the conversation: the last event naming one wins.
            func.max(case((E.c.need.is_not(None), E.c.id))).label("need_id"),
        )
        .join(E, E.c.contact_id == opened.c.contact_id)
        .group_by(opened.c.contact_id, opened.c.opened_at, opened.c.channel)
        .order_by(opened.c.contact_id)
    )


def _details(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str | None, dict]]:
    """Return (need, data) of the given events by id."""
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, tuple[str | None, dict]] = {}
    for chunk in range(0, len(wanted), 500):
        part = wanted[chunk : chunk + 500]
        for row in conn.execute(select(E.c.id, E.c.need, E.c.data).where(E.c.id.in_(part))):
            found[row.id] = (row.need, row.data or {})
    return found


def contact_facts(
    conn: Connection,
    opened_from: datetime,
    opened_before: datetime,
    *,
    identified_only: bool = False,
) -> list[ContactFacts]:
    """Return the facts of every contact opened in [opened_from, opened_before)."""
    rows = conn.execute(_folded(opened_from, opened_before, identified_only)).all()
    details = _details(
        conn,
        (i for r in rows for i in (r.handoff_id, r.identified_id, r.resolved_id, r.need_id)),
    )
    facts = []
    for r in rows:
        handoff = details.get(r.handoff_id, (None, {}))[1]
        identified = details.get(r.identified_id, (None, None))[1]
        resolution = details.get(r.resolved_id, (None, {}))[1]
        need = details.get(r.need_id, (None, {}))[0]
        digital = resolution.get("digital")
        if digital is None:  # events written before `digital` was recorded
            digital = r.channel in ev.DIGITAL_CHANNELS
        facts.append(
            ContactFacts(
                contact_id=r.contact_id,
                channel=r.channel,
                opened_at=r.opened_at,
                citizen=r.citizen,
                need=need,
                identified=identified is not None,
                exempt=bool(identified.get("exempt")) if identified is not None else None,
                age_band=identified.get("age_band") if identified is not None else None,
                bot=bool(r.bot),
                handed_off=r.handoff_id is not None,
                handoff_rule=handoff.get("rule_id"),
                assisted=bool(r.assisted),
                ended_at=r.ended_at,
                completed=bool(resolution.get("completed")),
                digital=bool(resolution) and bool(digital),
            )
        )
    return facts


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
    followers = contact_facts(conn, window.start, until, identified_only=True)
    in_cohort = {c.contact_id for c in cohort}
    return cohort, repeated(followers, window.repeat_window) & in_cohort
