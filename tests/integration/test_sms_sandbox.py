"""The local Twilio-compatible sandbox answers like Twilio, and is absent with real credentials."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException

from router import create_app
from router.adapters.twilio_sms import TwilioSmsSender, sender_from_config
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot
from tests.integration import sms_support
from tests.integration.sms_support import ACCOUNT, AGENCY, TOKEN, new_number, wait_for

live = sms_support.live  # the running kanal these tests text


def basic(sid: str, token: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()}


def test_the_twilio_library_sends_through_the_sandbox(live):
    number = new_number()
    client = TwilioSmsSender(ACCOUNT, TOKEN, AGENCY, sandbox_url=live.base_url + "/sandbox/twilio")
    message = client.client.messages.create(to=number, from_=AGENCY, body="Hej! " + "x" * 200)
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "2"  # a string, as Twilio sends it
    fetched = client.client.messages(message.sid).fetch()
    assert fetched.body == "Hej! " + "x" * 200
    row = wait_for(lambda: live.outbox(number), what="the outbox row")[0]
    assert set(row) == {"sid", "to", "from", "body", "status", "segments", "at"}
    assert (row["to"], row["from"], row["segments"]) == (number, AGENCY, 2)
    wait_for(lambda: live.outbox(number)[0]["status"] == "delivered", what="delivered")


def test_the_sender_asks_the_provider_whether_it_took_a_message(live):
    """What a dispatcher asks about a claim whose process stopped: Twilio's list, newest first."""
    number, other = new_number(), new_number()
    sender = TwilioSmsSender(ACCOUNT, TOKEN, AGENCY, sandbox_url=live.base_url + "/sandbox/twilio")
    before = datetime.now(UTC) - timedelta(seconds=2)
    assert sender.find_sent(number, "Your callback is booked.", before) is None
    taken = sender.send(number, "Your callback is booked.")
    sender.send(other, "Something else.")
    found = sender.find_sent(number, "Your callback is booked.", before)
    assert (found.outcome, found.provider_id) == ("accepted", taken.provider_id)
    assert sender.find_sent(number, "Another text.", before) is None
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert sender.find_sent(number, "Your callback is booked.", later) is None, "older: not it"
    wrong = TwilioSmsSender(ACCOUNT, "wrong", AGENCY, sandbox_url=live.base_url + "/sandbox/twilio")
    assert wrong.find_sent(number, "Your callback is booked.", before).outcome == "uncertain"


@pytest.mark.parametrize(
    ("to", "code"),
    [("12345", 21211), ("+15005550001", 21211), ("+15005550004", 21610), ("+15005550002", 21612)],
)
def test_refusals_carry_twilios_error_codes(live, to, code):
    client = TwilioSmsSender(ACCOUNT, TOKEN, AGENCY, sandbox_url=live.base_url + "/sandbox/twilio")
    with pytest.raises(TwilioRestException) as refused:
        client.client.messages.create(to=to, from_=AGENCY, body="hello")
    assert (refused.value.status, refused.value.code) == (400, code)
    result = client.send(to, "hello")
    assert (result.outcome, result.error_code) == ("rejected", str(code))


def test_a_body_over_1600_characters_is_refused(client, app):
    url = f"/sandbox/twilio/2010-04-01/Accounts/{app.config['TWILIO_ACCOUNT_SID']}/Messages.json"
    headers = basic(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"])
    form = {"To": "+4520000009", "From": AGENCY, "Body": "x" * 1601}
    response = client.post(url, data=form, headers=headers)
    assert response.status_code == 400
    assert response.json["code"] == 21617


def test_wrong_credentials_are_refused_like_twilio(client, app):
    url = f"/sandbox/twilio/2010-04-01/Accounts/{app.config['TWILIO_ACCOUNT_SID']}/Messages.json"
    form = {"To": "+4520000009", "From": AGENCY, "Body": "hello"}
    response = client.post(url, data=form, headers=basic(app.config["TWILIO_ACCOUNT_SID"], "nope"))
    assert (response.status_code, response.json["code"]) == (401, 20003)


def test_the_outbox_page_lists_messages_in_a_table(live):
    number = new_number()
    live.text(number, "When is my payment?")
    wait_for(lambda: live.outbox(number), what="a reply")
    page = live.app.test_client().get("/sandbox/outbox", query_string={"to": number})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<caption>1 message to " + number in html
    assert "payment_date" in html


def test_the_sandbox_is_absent_with_real_credentials(app_config):
    config = {
        **app_config,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "a-real-token",
        "KANAL_TWILIO_SANDBOX": False,
    }
    app = create_app(config, bot=ScriptedBot())
    try:
        client = app.test_client()
        assert client.get("/sandbox/outbox").status_code == 404
        assert client.get("/sandbox/outbox.json").status_code == 404
        sender = sender_from_config(app.config)
        assert sender.client.http_client.base_url is None  # Twilio's own API, not a sandbox
        assert client.post("/twilio/sms").status_code == 403  # the webhook is still there
    finally:
        kanal_of(app).close()


def test_sandbox_mode_is_the_default_without_an_account_sid(app):
    assert app.config["KANAL_TWILIO_SANDBOX"] is True
    assert app.test_client().get("/sandbox/outbox.json").status_code == 200
