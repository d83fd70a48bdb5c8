"""Handing a contact to people: the assisted queue, callbacks and closing."""

from __future__ import annotations

from datetime import datetime

from router.domain import events as ev
from router.domain.model import Contact, QueueItem
from router.service.journal import pseudonym, record


def enqueue(uow, contact: Contact, skill: str, priority: int, now: datetime, citizen: str | None):
    """Put a contact in the assisted queue (once) and record it."""
    item = uow.queue.open_for_contact(contact.id)
    if item is None:
        item = uow.queue.add(
            QueueItem(contact_id=contact.id, skill=skill, priority=priority, enqueued_at=now)
        )
        record(
            uow,
            contact,
            ev.QUEUED,
            now,
            citizen,
            queue_item_id=item.id,
            skill=skill,
            priority=priority,
        )
    contact.state = "queued" if item.state == "waiting" else contact.state
    return item


def estimated_wait_seconds(uow, average_handle_seconds: int) -> int:
    """Estimate the wait of a new arrival from the queue's length."""
    return uow.queue.waiting_count() * average_handle_seconds


def close_inactive(uow, contact: Contact, now: datetime) -> None:
    """Close a contact the citizen left; a bot conversation that ends so was contained."""
    citizen = pseudonym(uow, contact)
    was = contact.state
    contact.state = "closed"
    contact.closed_at = now
    if was == "bot":
        record(
            uow,
            contact,
            ev.RESOLVED,
            now,
            citizen,
            by="bot",
            wrap_up="self_service",
            completed=contact.need is not None,
            digital=contact.channel in ev.DIGITAL_CHANNELS,
        )
    else:
        item = uow.queue.open_for_contact(contact.id)
        if item is not None and item.state == "waiting":
            item.state = "abandoned"
            item.closed_at = now
    record(uow, contact, ev.CLOSED, now, citizen, why="inactivity", state_before=was)


def close_by_bot(uow, contact: Contact, now: datetime, citizen: str | None, rule_id: str) -> None:
    """Close a conversation the bot finished without a person."""
    contact.state = "closed"
    contact.closed_at = now
    record(
        uow,
        contact,
        ev.RESOLVED,
        now,
        citizen,
        by="bot",
        wrap_up="self_service",
        completed=contact.need is not None,
        digital=contact.channel in ev.DIGITAL_CHANNELS,
    )
    record(uow, contact, ev.CLOSED, now, citizen, why=rule_id)
