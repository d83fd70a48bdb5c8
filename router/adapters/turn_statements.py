"""The statements the turn runs on every message, each repository asking for its own by name."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, func, insert, select

from router.adapters.orm import contact_events, queue_items, routing_decisions
from router.adapters.orm import contacts as contacts_table
from router.domain.model import Citizen, Consent, Contact, ContactState, Message, QueueState


# The turn's statements, built once with bound parameters: building a select costs more
# than SQLite takes to run it (coercion and the cache key on every call).
@functools.cache
def turn_statements() -> dict[str, object]:
    channel, address = bindparam("channel"), bindparam("address")
    c = contacts_table.c  # statements on the table run without the ORM's work per statement
    open_at = select(Contact).where(
        Contact.channel == channel, Contact.address == address, Contact.state != ContactState.CLOSED
    )
    return {
        "citizen_by_phone": select(Citizen).where(Citizen.phone == bindparam("phone")),
        "contact_open_on": open_at.where(
            (Contact.state != ContactState.BOT)
            | (Contact.last_activity_at >= bindparam("active_since"))
        ).order_by(Contact.id.desc()),
        "contact_stale_open_on": open_at,
        "message_by_provider_id": select(Message).where(
            Message.channel == channel, Message.provider_id == bindparam("provider_id")
        ),
        "queue_waiting_count": select(func.count())
        .select_from(queue_items)
        .where(queue_items.c.state == QueueState.WAITING),
        "consent": select(Consent).where(Consent.channel == channel, Consent.address == address),
        "message_unfinished_of": select(Message.id)
        .where(
            Message.contact_id == bindparam("contact_id"),
            Message.direction == "in",
            Message.processed.is_(False),
        )
        .order_by(Message.id),
        # Every chat request checks its session's token: four columns, no contact loaded.
        "key_on": select(c.id, c.state, c.secret_hash, c.language)
        .where(c.channel == channel, c.address == address)
        .order_by(c.id.desc())
        .limit(1),
        # Built once: a statement's cache key is computed once per object (13 µs each time).
        "insert_events": insert(contact_events),
        "insert_decisions": insert(routing_decisions),
    }
