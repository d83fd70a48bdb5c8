"""A turn's replies on their way out: sent once, retried only when they certainly did not go."""

import pytest

from router.domain import events as ev
from router.domain.commands import ReceiveMessage
from router.service.errors import Conflict
from router.service.ports import BotTurn, SendResult
from tests.fakes import RecordingSender, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000003"


def ask(kanal, text="When is my pension paid?", sid="SM1"):
    result = kanal.turns.receive(ReceiveMessage("sms", NUMBER, text, provider_id=sid))
    return result, result.replies[0].id


def status_of(kanal, contact_id, message_id):
    return next(m for m in kanal.messages(contact_id) if m.id == message_id)


def test_a_refusal_safe_to_repeat_is_sent_again_after_a_pause():
    kanal = fake_kanal(sender=RecordingSender("retry"))
    result, reply_id = ask(kanal)
    message = status_of(kanal, result.contact_id, reply_id)
    assert message.delivery_status == "retry"
    assert kanal.delivery.dispatch_due() == 0  # not yet: it waits its back-off
    kanal.clock.advance(seconds=31)
    assert kanal.delivery.dispatch_due() == 1
    assert status_of(kanal, result.contact_id, reply_id).delivery_status == "queued"
    assert len(kanal.sender.sent) == 2


def test_a_send_that_may_have_gone_out_is_never_sent_again_by_itself():
    kanal = fake_kanal(sender=RecordingSender("uncertain"))
    result, reply_id = ask(kanal)
    assert status_of(kanal, result.contact_id, reply_id).delivery_status == "review"
    kanal.clock.advance(hours=1)
    assert kanal.delivery.dispatch_due() == 0
    assert len(kanal.sender.sent) == 1


def test_a_person_can_settle_a_doubtful_send_by_sending_it_again():
    kanal = fake_kanal(sender=RecordingSender("uncertain"))
    result, reply_id = ask(kanal)
    agent = kanal.add_agent()
    kanal.desk.settle_review(result.contact_id, reply_id, resend=True, by=agent)
    # (settle_review answers "sending_local", the state before the send: see the report)
    assert status_of(kanal, result.contact_id, reply_id).delivery_status == "queued"
    assert len(kanal.sender.sent) == 2
    with pytest.raises(Conflict):
        kanal.desk.settle_review(result.contact_id, reply_id, resend=True, by=agent)


def test_a_person_can_settle_a_doubtful_send_as_received():
    kanal = fake_kanal(sender=RecordingSender("uncertain"))
    result, reply_id = ask(kanal)
    assert kanal.desk.settle_review(result.contact_id, reply_id, resend=False, by=1) == "sent"
    assert len(kanal.sender.sent) == 1


def test_a_sender_that_crashes_leaves_the_reply_for_review_not_for_a_blind_resend():
    kanal = fake_kanal(sender=RecordingSender(RuntimeError("adapter bug")))
    result, reply_id = ask(kanal)
    message = status_of(kanal, result.contact_id, reply_id)
    assert message.delivery_status == "review"
    assert "RuntimeError" in message.last_error


def test_a_carrier_opt_out_stops_later_messages():
    kanal = fake_kanal(sender=RecordingSender(SendResult("rejected", error_code="21610")))
    result, reply_id = ask(kanal)
    assert status_of(kanal, result.contact_id, reply_id).delivery_status == "failed"
    assert kanal.consent("sms", NUMBER) is False
    later = kanal.turns.receive(ReceiveMessage("sms", NUMBER, "pension?", provider_id="SM2"))
    assert later.replies[0].delivery_status == "blocked"
    assert len(kanal.sender.sent) == 1


def test_status_callbacks_move_a_message_forward_only():
    kanal = fake_kanal()
    result, reply_id = ask(kanal)
    provider_id = status_of(kanal, result.contact_id, reply_id).provider_id
    record = kanal.delivery.record_status
    assert record("sms", reply_id, provider_id, "delivered") == "delivered"
    assert record("sms", reply_id, provider_id, "sent") == "delivered"
    assert record("sms", None, provider_id, "read") == "read"  # found by the provider's id
    assert record("sms", None, "SMunknown", "delivered") is None
    statuses = [
        e.data["status"] for e in kanal.events(result.contact_id) if e.type == ev.DELIVERY_UPDATED
    ]
    assert statuses == ["queued", "delivered", "read"]


def test_a_long_reply_is_split_into_messages_that_each_leave_once():
    class Verbose:
        def turn(self, conversation_id, text, *, language=None, wait=None):
            return BotTurn(True, ("word " * 400,), "payment_date", 0.9)

        def status(self):
            return {"state": "up"}

    kanal = fake_kanal(bot=Verbose())
    result = kanal.turns.receive(ReceiveMessage("sms", NUMBER, "pension", provider_id="SM1"))
    out = kanal.messages(result.contact_id, "out")
    assert len(out) > 1
    assert len(kanal.sender.sent) == len(out)
    assert {m.delivery_status for m in out} == {"queued"}
    assert " ".join(kanal.sender.bodies()).split() == ["word"] * 400
