"""The inbound SMS webhook: signed, answered at once, handled once however often Twilio retries."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from channels.twilio_signature import sign
from tests.integration import sms_support
from tests.integration.sms_support import TOKEN, new_number, wait_for

live = sms_support.live  # the running kanal these tests text

SID = "SM" + "a" * 32


def test_a_signed_sms_is_answered_with_empty_twiml_and_the_bot_replies_by_sms(live, bot):
    number = new_number()
    response = live.text(number, "When is my pension paid?")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    replies = wait_for(lambda: live.outbox(number), what="the bot's reply in the outbox")
    assert "payment_date" in replies[0]["body"]
    assert replies[0]["from"] == "+4570000000"
    assert bot.turns and bot.turns[0][0] != number  # Rasa sees an opaque id, not the number


def test_a_forged_webhook_gets_403_and_stores_nothing(live, bot):
    number = new_number()
    form = {"MessageSid": SID, "From": number, "To": "+4570000000", "Body": "hello"}
    forged = sign(live.base_url + "/twilio/sms", form, "someone-elses-token")
    response = requests.post(
        live.base_url + "/twilio/sms", data=form, headers={"X-Twilio-Signature": forged}
    )
    unsigned = requests.post(live.base_url + "/twilio/sms", data=form)
    assert (response.status_code, unsigned.status_code) == (403, 403)
    assert live.messages(number) == []
    assert bot.turns == []


def test_a_webhook_delivered_100_times_creates_one_message_and_one_reply(live, bot):
    number = new_number()
    sid = "SM" + "b" * 32

    def deliver(i: int) -> int:
        # Twilio's retries carry the same MessageSid; half also repeat the idempotency token.
        token = "token-1" if i % 2 else f"token-{i}"
        return live.text(number, "When is my payment?", sid=sid, token=token).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(deliver, range(100)))
    assert statuses == [200] * 100
    live.settle()
    inbound = live.messages(number, "in")
    assert [m.provider_id for m in inbound] == [sid]
    assert len(bot.turns) == 1
    wait_for(lambda: live.outbox(number), what="the reply")
    assert len(live.outbox(number)) == 1


def test_messages_from_one_number_join_one_conversation(live):
    number = new_number()
    live.text(number, "hello")
    live.text(number, "When is my payment?")
    live.settle()
    contacts = {m.contact_id for m in live.messages(number, "in")}
    assert len(contacts) == 1


def test_the_citizen_is_identified_by_their_registered_number(live, add_citizen):
    number = new_number()
    add_citizen(phone=number)
    live.text(number, "When is my payment?")
    live.settle()
    contact = live.kanal.views.contact_on("sms", number)
    assert contact.citizen_id is not None


def test_a_webhook_without_a_message_sid_is_refused(live):
    form = {"From": new_number(), "Body": "hello"}
    headers = {"X-Twilio-Signature": sign(live.base_url + "/twilio/sms", form, TOKEN)}
    response = requests.post(live.base_url + "/twilio/sms", data=form, headers=headers)
    assert response.status_code == 400


def test_a_message_and_a_keyword_are_answered_alike_though_the_keyword_takes_its_turn_at_once(
    live,
):
    # A message is acknowledged before Flask (channels/sms.py, the SMS lane), a keyword by the
    # app's view: Twilio cannot tell them apart.
    number = new_number()
    message = live.text(number, "When is my payment?")
    keyword = live.text(number, "HELP")
    forged = requests.post(live.base_url + "/twilio/sms", data={"From": number, "Body": "hi"})
    assert (message.status_code, keyword.status_code, forged.status_code) == (200, 200, 403)
    assert message.text == keyword.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    for name in ("Content-Type", "X-Content-Type-Options", "X-Frame-Options"):
        assert message.headers[name] == keyword.headers[name], name
    live.settle()
    assert sorted(m.text for m in live.messages(number, "in")) == ["HELP", "When is my payment?"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("From", "+4520\x00000"),
        ("From", "+45" + "1" * 70),
        ("MessageSid", "SM\x00" + "a" * 31),
        ("MessageSid", "SM" + "a" * 70),
    ],
)
def test_a_signed_webhook_whose_sid_or_number_no_column_keeps_is_refused_saying_so(
    live, field, value
):
    """Twilio's sids are 34 characters and numbers E.164: a NUL or more than 64 characters is
    not one (a server error on PostgreSQL before, stored as sent on SQLite); nothing is kept."""
    number = new_number()
    form = {"MessageSid": SID, "From": number, "To": "+4570000000", "Body": "hello", field: value}
    headers = {"X-Twilio-Signature": sign(live.base_url + "/twilio/sms", form, TOKEN)}
    response = requests.post(live.base_url + "/twilio/sms", data=form, headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.text and "64 characters" in response.text
    assert live.messages(number) == []
    if "\x00" not in value:  # PostgreSQL cannot even be asked about a NUL
        with live.kanal.uow() as uow:
            assert uow.contacts.latest_on("sms", value) is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("MessageSid", "SM\x00" + "a" * 31),
        ("MessageSid", "SM" + "a" * 70),
        ("MessageStatus", "deliv\x00ered"),
        ("MessageStatus", "d" * 40),
        ("ErrorCode", "300\x0005"),
        ("ErrorCode", "3" * 40),
    ],
)
@pytest.mark.parametrize("query", ["", "?m=1"])
def test_a_signed_status_callback_whose_fields_no_column_keeps_is_refused_saying_so(
    live, field, value, query
):
    """A status callback with a NUL or an overlong sid, status or error code is not Twilio's
    (a server error on PostgreSQL before): 400 naming the field, on the app and the lane."""
    url = live.base_url + "/twilio/sms/status" + query
    form = {"MessageSid": SID, "MessageStatus": "delivered", field: value}
    headers = {"X-Twilio-Signature": sign(url, form, TOKEN)}
    response = requests.post(url, data=form, headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.text
