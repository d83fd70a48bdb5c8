"""Low satisfaction ratings for the supervisor board: the survey's answers of 1 or 2 on the
5-point scale (docs/domain.md §4: 5 is very satisfied), read from the event log
(`satisfaction_answered`), most recent first, each with the conversation it rates.

A supervisor sees the ratings of the conversations the access rule lets them open (their
teams' queues and agents; a supervisor in no team, and an admin, every one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.access import Viewer, may_open
from router.service.unit_of_work import UnitOfWork

LOW = (1, 2)  # "very dissatisfied" and "dissatisfied"
DAYS = 7  # the board looks back this far
SHOWN = 20


@dataclass(frozen=True)
class LowRating:
    contact_id: int
    score: int
    at: datetime
    channel: str | None
    need: str | None


def low_ratings(
    uow: UnitOfWork, viewer: Viewer, now: datetime, *, days: int = DAYS, shown: int = SHOWN
) -> list[LowRating]:
    """Return the low ratings of the last `days` the (scoped) viewer may open, newest first."""
    found: list[LowRating] = []
    for event in uow.events.recent(ev.SATISFACTION, now - timedelta(days=days)):
        score = (event.data or {}).get("score")
        if score not in LOW or event.contact_id is None:
            continue
        if not _theirs(uow, viewer, event.contact_id):
            continue
        found.append(LowRating(event.contact_id, score, event.at, event.channel, event.need))
        if len(found) == shown:
            break
    return found


def _theirs(uow: UnitOfWork, viewer: Viewer, contact_id: int) -> bool:
    contact = uow.contacts.get(contact_id)
    if contact is None:
        return False
    handed_to = tuple(
        e.data.get("to_queue") or e.data.get("queue") or e.data.get("skill") or ""
        for e in uow.events.for_contact(contact_id)
        if e.type in (ev.QUEUED, ev.QUEUE_ITEM_MOVED)
    )
    return may_open(viewer, assigned_to=contact.agent_id, handed_to=handed_to).allowed
