"""An SMS that may or may not have gone out is settled by a person, never resent blindly."""

from __future__ import annotations

import itertools

import pytest

from router import create_app
from router.domain.commands import ReceiveMessage
from router.entrypoints.bootstrap import kanal_of
from router.service.ports import SendResult
from tests.integration.test_desk import page, sign_in

SIDS = itertools.count(1)


class RecordingSender:
    """A stand-in for the SmsSender port that accepts everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to, body, *, status_callback=None):
        self.sent.append((to, body))
        return SendResult("accepted", provider_id=f"SMtest{next(SIDS)}", segments=1)


@pytest.fixture
def sender():
    return RecordingSender()


@pytest.fixture
def app(app_config, bot, sender):
    app = create_app(app_config, bot=bot, senders={"sms": sender})
    yield app
    kanal_of(app).close()


def agent_reply_in_review(app, kanal, staff):
    """Return (desk client, contact id, message id) of an agent's SMS reply left in review."""
    phone = "+4520304051"
    kanal.turns.receive(
        ReceiveMessage(channel="sms", address=phone, text="person please", provider_id="SMa")
    )
    contact_id = kanal.views.contact_on("sms", phone).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    desk.post(f"/desk/contacts/{contact_id}/reply", data={"text": "Your payment left today."})
    with kanal.uow() as uow:
        reply = [m for m in uow.messages.for_contact(contact_id) if m.author == "agent"][0]
        reply.delivery_status = "review"  # as after a Twilio timeout
        uow.commit()
    kanal.channels["sms"].sender.sent.clear()
    return desk, contact_id, reply.id


def test_the_desk_offers_a_check_for_a_message_that_may_not_have_gone_out(app, kanal, staff):
    desk, contact_id, message_id = agent_reply_in_review(app, kanal, staff)
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "NOT CONFIRMED" in html
    assert f"/messages/{message_id}/review" in html


def test_send_again_sends_it_once_more(app, kanal, staff):
    desk, contact_id, message_id = agent_reply_in_review(app, kanal, staff)
    desk.post(
        f"/desk/contacts/{contact_id}/messages/{message_id}/review", data={"action": "resend"}
    )
    sender = kanal.channels["sms"].sender
    assert sender.sent == [("+4520304051", "Your payment left today.")]
    assert kanal.views.messages(contact_id)[-1].delivery_status == "queued"
    again = desk.post(
        f"/desk/contacts/{contact_id}/messages/{message_id}/review", data={"action": "resend"}
    )
    assert "not waiting for a check" in page(desk.get(again.location))
    assert len(sender.sent) == 1


def test_they_got_it_marks_it_sent_without_sending(app, kanal, staff):
    desk, contact_id, message_id = agent_reply_in_review(app, kanal, staff)
    desk.post(
        f"/desk/contacts/{contact_id}/messages/{message_id}/review", data={"action": "confirm"}
    )
    assert kanal.channels["sms"].sender.sent == []
    assert kanal.views.messages(contact_id)[-1].delivery_status == "sent"
