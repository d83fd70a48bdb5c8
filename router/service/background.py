"""What the desk shows around a conversation so nobody is asked twice (read side).

The citizen's other contacts on any channel in the last 90 days with their needs and how they
ended; the phone calls of this contact and of those (outbound ones with their outcome); and
the internal notes colleagues wrote on this contact. Everything is copied into plain objects
inside the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.model import Contact
from router.service.unit_of_work import UnitOfWork

HISTORY_DAYS = 90  # docs/domain.md: once-only, the citizen's contacts of the last 90 days
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class PastContact:
    """One earlier contact of the citizen, as an agent reads it at a glance."""

    id: int
    channel: str
    opened_at: datetime
    state: str
    need: str | None
    wrap_up: str | None = None
    outcome: str | None = None  # an agent's outcome (router/domain/wrapup.py)
    resolved_by: str | None = None  # bot | agent | system
    closed_why: str | None = None


@dataclass(frozen=True)
class CallView:
    """One phone call of the citizen's: who called whom, when, and how it ended."""

    contact_id: int
    direction: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    queue_result: str | None


@dataclass(frozen=True)
class NoteView:
    """One internal note: for colleagues, never sent to the citizen."""

    id: int
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Background:
    past: list[PastContact] = field(default_factory=list)
    calls: list[CallView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)


def background(uow: UnitOfWork, contact: Contact, now: datetime) -> Background:
    """Return the citizen's recent contacts, their calls and this contact's notes."""
    since = now - timedelta(days=HISTORY_DAYS)
    others = [
        c
        for c in uow.contacts.history(
            contact.citizen_id, contact.channel, contact.address, since, HISTORY_LIMIT + 1
        )
        if c.id != contact.id
    ][:HISTORY_LIMIT]
    past = [_past(uow, c) for c in others]
    calls = [
        CallView(c.contact_id, c.direction, c.status, c.started_at, c.ended_at, c.queue_result)
        for cid in (contact.id, *(c.id for c in others))
        for c in uow.calls.for_contact(cid)
    ]
    calls.sort(key=lambda c: c.started_at, reverse=True)
    names: dict[int, str] = {}
    notes = []
    for note in uow.notes.for_contact(contact.id):
        if note.agent_id not in names:
            user = uow.users.get(note.agent_id)
            names[note.agent_id] = (user.display_name or user.username) if user else "?"
        notes.append(NoteView(note.id, names[note.agent_id], note.text, note.at))
    return Background(past=past, calls=calls, notes=notes)


def _past(uow: UnitOfWork, contact: Contact) -> PastContact:
    resolved: dict = {}
    closed: dict = {}
    for event in uow.events.for_contact(contact.id):
        if event.type == ev.RESOLVED:
            resolved = event.data or {}
        elif event.type == ev.CLOSED:
            closed = event.data or {}
        elif event.type == ev.RETURNED:  # an abandoned chat's citizen came back: open again
            closed = {}
    return PastContact(
        id=contact.id,
        channel=contact.channel,
        opened_at=contact.opened_at,
        state=str(contact.state),
        need=contact.need,
        wrap_up=contact.wrap_up,
        outcome=resolved.get("outcome"),
        resolved_by=resolved.get("by"),
        closed_why=closed.get("why"),
    )
