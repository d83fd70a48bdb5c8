"""What fuzzing the HTTP API found: odd input answers 4xx with a clear JSON error, never 500.

On SQLite and PostgreSQL wherever the input reaches storage.
"""

from __future__ import annotations

import json

import pytest
import requests

from channels.sms import MAX_SMS_TEXT
from channels.twilio_signature import sign
from channels.webchat_session import identity_token
from router.entrypoints.auth import create_token, create_user
from router.entrypoints.bootstrap import kanal_of
from router.web import MAX_ID
from tests.conftest import SECRET
from tests.integration import sms_support
from tests.integration.sms_support import ACCOUNT, TOKEN, new_number, wait_for
from tests.integration.test_desk import queued_chat, sign_in

pytestmark = pytest.mark.integration

live = sms_support.live  # the running kanal the SMS tests text

TOO_BIG = [str(MAX_ID + 1), str(2**64), "9" * 40]


def open_chat(client):
    started = client.post("/api/v1/chat/sessions").get_json()
    return started["session_id"], {"Authorization": f"Bearer {started['token']}"}


def post_raw(client, url, raw: str, headers=None):
    """POST a JSON text as it is (json= would re-encode what the test means to send)."""
    return client.post(url, data=raw, content_type="application/json", headers=headers or {})


# -- JSON bodies ------------------------------------------------------------------------------

# 5,000 brackets: 10 KB, far under the body limit, far past what Python's parser recurses.
DEEP = "[" * 5000 + "]" * 5000


def test_a_json_body_nested_too_deeply_is_a_400_on_every_json_route(client, kanal):
    create_user(kanal.uow, "admin1", "correct horse", "admin")
    admin = {"Authorization": f"Bearer {create_token(kanal.uow, 'api', 'admin1')}"}
    sid, chat = open_chat(client)
    for url, headers, body in (
        ("/api/v1/chat/sessions", {}, DEEP),
        (f"/api/v1/chat/sessions/{sid}/messages", chat, DEEP),
        (f"/api/v1/chat/sessions/{sid}/messages", chat, '{"text": ' + DEEP + "}"),
        (f"/api/v1/chat/sessions/{sid}/survey", chat, DEEP),
        ("/api/v1/desk/presence", admin, DEEP),
        ("/api/v1/events/digital-completion", admin, DEEP),
    ):
        response = post_raw(client, url, body, headers)  # answered 500 (RecursionError)
        assert response.status_code == 400, (url, response.status_code)
        assert "must be a JSON object" in response.get_json()["error"], url


# -- a. identities ----------------------------------------------------------------------------


@pytest.mark.parametrize("identity", ["é.x", "é.é", "x.é", "\ud800.x", "a\x00.b"])
def test_an_identity_that_is_not_ascii_is_not_signed_not_a_server_error(client, identity):
    response = client.post("/api/v1/chat/sessions", json={"identity": identity})
    assert response.status_code == 400
    assert "not signed" in response.get_json()["error"]


def test_a_signed_identity_still_opens_a_session_for_the_citizen(client, kanal, add_citizen):
    pseudonym = add_citizen()
    response = client.post(
        "/api/v1/chat/sessions", json={"identity": identity_token(SECRET, pseudonym)}
    )
    assert response.status_code == 201
    contact = kanal.views.contact_on("webchat", response.get_json()["session_id"])
    assert contact.citizen_id is not None


# -- b. text that no database stores ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        r'{"text": "x\ud800y"}',
        r'{"text": "\udfff"}',
        r'{"text": "nul \u0000 inside"}',
        r'{"text": "fine", "client_id": "c\ud800"}',
        r'{"text": "fine", "client_id": "c\u0000"}',
    ],
)
def test_chat_text_that_is_not_valid_unicode_is_refused_and_never_stored(client, kanal, raw):
    sid, auth = open_chat(client)
    response = post_raw(client, f"/api/v1/chat/sessions/{sid}/messages", raw, auth)
    assert response.status_code == 400
    assert "valid Unicode" in response.get_json()["error"]
    listed = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth)
    assert listed.status_code == 200
    assert listed.get_json()["messages"] == []


def test_text_with_astral_characters_is_stored_as_sent(client):
    sid, auth = open_chat(client)
    text = "Hvornår kommer min pension? 👵🏻"
    response = client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["messages"][0]["text"] == text


# -- c. ids and cursors past 64 bits ----------------------------------------------------------


@pytest.mark.parametrize("after", [*TOO_BIG, "-1", "+1", "1.5", "1e3", "٣", "x"])
def test_a_chat_cursor_that_is_not_a_64_bit_message_id_is_refused(client, after):
    sid, auth = open_chat(client)
    for what in ("messages", "stream"):
        response = client.get(
            f"/api/v1/chat/sessions/{sid}/{what}", query_string={"after": after}, headers=auth
        )
        assert response.status_code == 400, (what, after)
        assert "`after`" in response.get_json()["error"]


def test_the_largest_64_bit_cursor_is_a_cursor(client):
    sid, auth = open_chat(client)
    response = client.get(
        f"/api/v1/chat/sessions/{sid}/messages", query_string={"after": MAX_ID}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["messages"] == []


def test_a_last_event_id_past_64_bits_is_refused(client):
    sid, auth = open_chat(client)
    response = client.get(
        f"/api/v1/chat/sessions/{sid}/stream", headers={**auth, "Last-Event-ID": TOO_BIG[1]}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("contact_id", TOO_BIG)
def test_a_desk_contact_id_past_64_bits_cannot_exist(app, staff, contact_id):
    desk = sign_in(app, staff)
    assert desk.get(f"/desk/contacts/{contact_id}").status_code == 404
    assert desk.get(f"/desk/contacts/{contact_id}/messages.json").status_code == 404
    assert desk.post(f"/desk/contacts/{contact_id}/resolve").status_code == 404
    assert desk.post(f"/desk/contacts/1/messages/{contact_id}/review").status_code == 404


def test_a_desk_cursor_past_64_bits_is_refused(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal)
    desk = sign_in(app, staff)
    url = f"/desk/contacts/{contact_id}/messages.json"
    assert desk.get(url, query_string={"after": TOO_BIG[0]}).status_code == 400
    assert desk.get(url, query_string={"after": "-1"}).status_code == 400
    assert desk.get(url, query_string={"after": "0"}).status_code == 200


def status_callback(live, m: str):
    url = f"{live.base_url}/twilio/sms/status?m={m}"
    form = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT}
    return requests.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form, TOKEN)})


@pytest.mark.parametrize("m", [*TOO_BIG, "-1"])
def test_a_signed_status_callback_with_a_message_id_past_64_bits_is_refused(live, m):
    response = status_callback(live, m)
    assert response.status_code == 400
    assert "`m`" in response.text


def test_a_signed_status_callback_for_an_unknown_message_is_still_acknowledged(live):
    assert status_callback(live, str(MAX_ID)).status_code == 204


# -- d. days outside the reports' range -------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/metrics/channel-shift", "/api/v1/metrics/export.csv"])
@pytest.mark.parametrize(
    ("first", "last", "culprit"),
    [
        ("0001-01-01", "2026-03-02", "from"),
        ("2026-03-02", "9999-12-25", "to"),
        ("1999-12-31", "2026-03-02", "from"),
        ("2026-03-02", "3000-01-01", "to"),
    ],
)
def test_a_day_outside_the_years_2000_to_2999_is_refused_by_name(
    client, manager, url, first, last, culprit
):
    response = client.get(url, query_string={"from": first, "to": last}, headers=manager)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == culprit
    assert "2000-01-01" in body["error"] and "2999-12-31" in body["error"]


def test_the_first_and_last_days_of_the_range_are_a_report(client, manager):
    query = {"from": "2000-01-01", "to": "2999-12-31"}
    response = client.get("/api/v1/metrics/channel-shift", query_string=query, headers=manager)
    assert response.status_code == 200
    assert response.get_json()["total"]["contacts"] == 0


# -- errors under /api/ are JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/chat/sessions/a%2fb/messages", 404),
        ("get", "/api/v1/no-such-thing", 404),
        ("put", "/api/v1/chat/sessions", 405),
        ("delete", "/api/v1/metrics/channel-shift", 405),
        ("post", "/api/v1/openapi.json", 405),
    ],
)
def test_errors_under_api_answer_json(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert isinstance(response.get_json()["error"], str)
    if status == 405:
        assert "Allow" in response.headers


def test_a_server_error_under_api_answers_json(app, client, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(kanal_of(app).turns, "start_chat", broken)
    response = client.post("/api/v1/chat/sessions")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert "boom" not in json.dumps(response.get_json())


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("post", f"/twilio/voice/agent/{MAX_ID + 1}", 404),
        ("post", f"/twilio/voice/callback/{2**64}", 404),
        ("post", "/twilio/voice/no-such-step", 404),
        ("get", "/twilio/sms", 405),
    ],
)
def test_errors_under_twilio_answer_plain_text_as_documented(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    if status == 405:
        assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("prefix", "mimetype"),
    [("/api/v1/metrics/channel-shift", "application/json"), ("/twilio/sms", "text/plain")],
)
def test_a_url_too_long_is_refused_414_in_the_routes_own_format(client, prefix, mimetype):
    response = client.get(prefix + "?from=" + "9" * 5000)
    assert response.status_code == 414
    assert response.mimetype == mimetype
    assert "4096" in response.get_data(as_text=True)


def test_errors_outside_api_keep_their_pages(client):
    response = client.get("/desk/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


# -- SMS longer than Twilio sends ---------------------------------------------------------------


def test_an_inbound_sms_longer_than_twilio_allows_is_stored_truncated(live):
    number = new_number()
    body = "a" * (MAX_SMS_TEXT - 1) + "bc" + "x" * 5000
    assert live.text(number, body).status_code == 200
    stored = wait_for(lambda: live.messages(number, "in"), what="the stored message")
    assert stored[0].text == "a" * (MAX_SMS_TEXT - 1) + "b"
    live.settle()


def test_an_inbound_sms_with_a_nul_character_is_stored_without_it(live):
    number = new_number()
    assert live.text(number, "when is my\x00 payment").status_code == 200
    stored = wait_for(lambda: live.messages(number, "in"), what="the stored message")
    assert stored[0].text == "when is my payment"
    live.settle()
