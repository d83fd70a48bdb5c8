"""Handlers for the agent desk: claim, reply, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.domain import events as ev
from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.domain.model import Contact, Message, QueueItem
from router.service.errors import Conflict, Forbidden, NotFound
from router.service.journal import pseudonym, record
from router.service.outbox import say


@dataclass(frozen=True)
class Claimed:
    contact_id: int
    queue_item_id: int
    wait_seconds: int


@dataclass(frozen=True)
class Replied:
    message: Message
    blocked: bool


def _wait(item: QueueItem, now: datetime) -> int:
    return max(0, int((now - item.enqueued_at).total_seconds()))


def claim_next(uow, cmd: ClaimNext, now: datetime, attempts: int = 5) -> Claimed | None:
    """Assign the next waiting contact to the agent; None when the queue is empty.

    The item is locked (`SKIP LOCKED` on PostgreSQL) and handed over with a conditional
    update, so two agents never get the same contact.
    """
    for _ in range(attempts):
        with uow:
            item = uow.queue.claim_next(cmd.skills)
            if item is None:
                return None
            if not uow.queue.take(item.id, cmd.agent_id, now):
                continue
            contact = uow.contacts.get(item.contact_id, for_update=True)
            contact.state = "assigned"
            contact.agent_id = cmd.agent_id
            contact.last_activity_at = now
            wait = _wait(item, now)
            record(
                uow,
                contact,
                ev.AGENT_ASSIGNED,
                now,
                pseudonym(uow, contact),
                queue_item_id=item.id,
                agent_id=cmd.agent_id,
                wait_seconds=wait,
            )
            uow.commit()
            return Claimed(contact.id, item.id, wait)
    return None


def _owned(uow, contact_id: int, agent_id: int) -> Contact:
    contact = uow.contacts.get(contact_id, for_update=True)
    if contact is None:
        raise NotFound("No such conversation.")
    if contact.state == "closed":
        raise Conflict("This conversation is closed.")
    if contact.agent_id != agent_id:
        raise Forbidden("This conversation is assigned to someone else. Claim it first.")
    return contact


def reply(uow, cmd: AgentReply, now: datetime) -> Replied:
    """Send an agent's answer on the citizen's own channel (never to an opted-out number)."""
    text = cmd.text.strip()
    if not text:
        raise Conflict("The reply is empty.")
    with uow:
        contact = _owned(uow, cmd.contact_id, cmd.agent_id)
        message = say(uow, contact, "agent", text, now, agent_id=cmd.agent_id)
        item = uow.queue.open_for_contact(contact.id)
        first = item is not None and item.answered_at is None
        if first:
            item.answered_at = now
        contact.last_activity_at = now
        citizen = pseudonym(uow, contact)
        record(
            uow,
            contact,
            ev.AGENT_REPLIED,
            now,
            citizen,
            message_id=message.id,
            agent_id=cmd.agent_id,
            first=first,
        )
        blocked = message.delivery_status == "blocked"
        if blocked:
            record(
                uow,
                contact,
                ev.MESSAGE_BLOCKED,
                now,
                citizen,
                message_id=message.id,
                why="opted_out",
            )
        uow.commit()
        return Replied(message, blocked)


def resolve(uow, cmd: Resolve, now: datetime) -> None:
    """Close a contact with its wrap-up code."""
    with uow:
        contact = _owned(uow, cmd.contact_id, cmd.agent_id)
        contact.state = "closed"
        contact.closed_at = now
        contact.wrap_up = cmd.wrap_up
        item = uow.queue.open_for_contact(contact.id)
        if item is not None:
            item.state = "done"
            item.closed_at = now
        citizen = pseudonym(uow, contact)
        record(
            uow,
            contact,
            ev.RESOLVED,
            now,
            citizen,
            by="agent",
            agent_id=cmd.agent_id,
            wrap_up=cmd.wrap_up,
            completed=cmd.completed,
            digital=contact.channel in ev.DIGITAL_CHANNELS,
        )
        record(uow, contact, ev.CLOSED, now, citizen, why="resolved")
        uow.commit()
