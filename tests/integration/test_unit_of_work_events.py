"""The SQL unit of work keeps every aggregate it saw until the commit, with its new events."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from router.adapters.db import make_engine, make_session_factory
from router.adapters.uow import SqlUnitOfWork
from router.domain import events as ev
from router.domain.model import Contact, DeliveryState, Message

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_a_moved_message_the_handler_let_go_of_still_has_its_event_written(database_url):
    engine = make_engine(database_url)
    uow = SqlUnitOfWork(make_session_factory(engine))
    with uow:
        contact = uow.contacts.add(Contact(channel="sms", address="+4512345678", opened_at=NOW))
        message = uow.messages.add(
            Message(
                channel="sms", direction="out", author="bot", text="hello", created_at=NOW,
                contact_id=contact.id, address=contact.address,
                delivery_status=DeliveryState.PENDING,
            )
        )  # fmt: skip
        uow.commit()
        contact_id, message_id = contact.id, message.id
    del contact, message

    def block_and_let_go() -> None:
        # Loaded, moved, flushed (so the session holds it only weakly), then dropped.
        uow.messages.get(message_id).block(NOW)
        uow.session.flush()

    with uow:
        block_and_let_go()
        gc.collect()
        uow.commit()
    with uow:
        types = [e.type for e in uow.events.for_contact(contact_id)]
        status = uow.messages.get(message_id).delivery_status
    engine.dispose()
    assert status == DeliveryState.BLOCKED
    assert ev.MESSAGE_BLOCKED in types
