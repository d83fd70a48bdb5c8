"""Status callbacks that only move a reply along (`sending`, `sent`) are one UPDATE; what they
may not do (move it back, touch another provider's message) they still do not do."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from router.domain.commands import ReceiveMessage
from router.domain.model import Message
from router.service.lanes import take_in_order

pytestmark = pytest.mark.integration

NUMBER = "+4520000181"


def reply(kanal, status="queued", provider_id="SMreply"):
    """An outbound SMS the provider has taken (`queued`), as a turn leaves it."""
    with kanal.uow() as uow:
        message = uow.messages.add(
            Message(
                channel="sms", direction="out", author="bot", text="Your payment comes Friday.",
                created_at=datetime.now(UTC), address=NUMBER, processed=True,
                delivery_status=status, provider_id=provider_id,
            )
        )  # fmt: skip
        uow.commit()
        return message.id


def state(kanal, message_id):
    with kanal.uow() as uow:
        message = uow.messages.get(message_id)
        return message.delivery_status, message.provider_id


def statements(kanal):
    """The SQL statements kanal's database runs from now on (BEGIN/COMMIT aside), writes
    and reads (SQLite reads on an engine of their own)."""
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):  # noqa: ANN001
        if statement.split()[0].upper() in ("SELECT", "UPDATE", "INSERT", "DELETE"):
            seen.append(" ".join(statement.split()))

    for engine in {kanal.storage.engine, kanal.storage.read_engine}:
        event.listen(engine, "before_cursor_execute", listen)
    return seen


def test_sending_and_sent_move_a_reply_forward_in_one_update_each(kanal):
    message_id = reply(kanal)
    seen = statements(kanal)

    assert kanal.delivery.record_status("sms", message_id, "SMreply", "sending") == "sending"
    assert kanal.delivery.record_status("sms", message_id, "SMreply", "sent") == "sent"

    assert state(kanal, message_id) == ("sent", "SMreply")
    assert [s.split()[0] for s in seen[:2]] == ["UPDATE", "UPDATE"], "nothing read first"


def test_a_late_sent_never_moves_a_delivered_reply_back(kanal):
    message_id = reply(kanal)
    assert kanal.delivery.record_status("sms", message_id, "SMreply", "delivered") == "delivered"

    assert kanal.delivery.record_status("sms", message_id, "SMreply", "sent") == "delivered"
    assert kanal.delivery.record_status("sms", message_id, "SMreply", "sending") == "delivered"
    assert state(kanal, message_id) == ("delivered", "SMreply")


def test_a_report_of_another_providers_message_leaves_ours_alone(kanal):
    ours = reply(kanal)

    assert kanal.delivery.record_status("sms", ours, "SMsomeoneelse", "sent") is None
    assert state(kanal, ours) == ("queued", "SMreply")


def test_a_report_before_the_send_was_recorded_gives_the_reply_its_provider_id(kanal):
    # The callback can overtake the worker recording the provider's answer.
    message_id = reply(kanal, status="sending_local", provider_id=None)

    assert kanal.delivery.record_status("sms", message_id, "SMearly", "sent") == "sent"
    assert state(kanal, message_id) == ("sent", "SMearly")


def test_a_blocked_reply_stays_blocked(kanal):
    message_id = reply(kanal, status="blocked", provider_id=None)

    kanal.delivery.record_status("sms", message_id, "SModd", "sent")
    assert state(kanal, message_id)[0] == "blocked"


def test_delivered_is_logged_with_its_conversations_need_and_pseudonym(kanal, add_citizen):
    number = "+4520000182"
    pseudonym = add_citizen(phone=number)
    cmd = ReceiveMessage("sms", number, "When is my payment?", provider_id="SMfacts")
    take_in_order(kanal.turns, kanal.turns.accept(cmd), f"sms:{number}")
    with kanal.uow() as uow:
        contact = uow.contacts.get(uow.messages.by_provider_id("sms", "SMfacts").contact_id)
        answer = next(m for m in uow.messages.for_contact(contact.id) if m.direction == "out")
        sid = answer.provider_id or "SManswer"
    seen = statements(kanal)

    assert kanal.delivery.record_status("sms", answer.id, sid, "delivered") == "delivered"
    reads = [s for s in seen if " FROM contacts" in s or " FROM citizens" in s]

    with kanal.uow() as uow:
        logged = [
            e for e in uow.events.for_contact(contact.id)
            if e.type == "delivery_updated"
            and e.data == {"message_id": answer.id, "status": "delivered"}
        ]  # fmt: skip
    assert [(e.channel, e.citizen, e.need) for e in logged] == [("sms", pseudonym, contact.need)]
    assert contact.need, "the turn gave the conversation its need"
    assert len(reads) == 1, "the conversation's facts in one read, not contact then citizen"
