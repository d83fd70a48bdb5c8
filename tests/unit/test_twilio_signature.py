"""Only requests Twilio signed reach a webhook, whatever proxy or encoding sits between."""

import logging

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from channels.twilio_signature import sign, twilio_signed
from tests.properties import search

pytestmark = pytest.mark.unit

# Twilio's official test vector (docs/domain.md §5.1).
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def make_app(public_url: str, token: str = VECTOR_TOKEN) -> Flask:
    app = Flask(__name__)
    signed = twilio_signed({"KANAL_PUBLIC_URL": public_url, "TWILIO_AUTH_TOKEN": token})

    @app.post("/myapp.php")
    @signed
    def hook():
        return "ok"

    @app.post("/twilio/sms")
    @signed
    def sms():
        return "ok"

    return app


def test_sign_reproduces_the_official_vector():
    assert sign(VECTOR_URL, VECTOR_PARAMS, VECTOR_TOKEN) == VECTOR_SIGNATURE


def test_the_official_vector_is_let_through():
    client = make_app("https://mycompany.com").test_client()
    response = client.post(
        "/myapp.php?foo=1&bar=2",
        data=VECTOR_PARAMS,
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    )
    assert response.status_code == 200


def test_a_changed_parameter_is_refused():
    client = make_app("https://mycompany.com").test_client()
    response = client.post(
        "/myapp.php?foo=1&bar=2",
        data={**VECTOR_PARAMS, "Digits": "9999"},
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    )
    assert response.status_code == 403


def test_a_changed_query_string_is_refused():
    client = make_app("https://mycompany.com").test_client()
    response = client.post(
        "/myapp.php?foo=1&bar=3",
        data=VECTOR_PARAMS,
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    )
    assert response.status_code == 403


def test_an_unsigned_request_is_refused():
    client = make_app("https://mycompany.com").test_client()
    assert client.post("/myapp.php?foo=1&bar=2", data=VECTOR_PARAMS).status_code == 403


def test_a_signature_made_with_another_token_is_refused():
    client = make_app("https://mycompany.com").test_client()
    forged = sign(VECTOR_URL, VECTOR_PARAMS, "not-our-token")
    response = client.post(
        "/myapp.php?foo=1&bar=2", data=VECTOR_PARAMS, headers={"X-Twilio-Signature": forged}
    )
    assert response.status_code == 403


def test_encoded_query_strings_are_checked_as_twilio_sent_them():
    # Werkzeug decodes %27 to ' in request.url; Twilio signed the encoded form.
    url = "https://kanal.example/twilio/sms?name=O%27Brien&note=a%20b%2Bc"
    params = {"Body": "hej", "From": "+4512345678"}
    signature = sign(url, params, VECTOR_TOKEN)
    client = make_app("https://kanal.example").test_client()
    response = client.post(
        "/twilio/sms?name=O%27Brien&note=a%20b%2Bc",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    decoded = "https://kanal.example/twilio/sms?name=O'Brien&note=a b+c"
    assert not RequestValidator(VECTOR_TOKEN).validate(decoded, params, signature)


def test_behind_a_proxy_the_public_url_is_what_counts():
    params = {"Body": "hej", "From": "+4512345678", "MessageSid": "SM" + "1" * 32}
    public = sign("https://kanal.agency.example/twilio/sms", params, VECTOR_TOKEN)
    internal = sign("http://internal:8000/twilio/sms", params, VECTOR_TOKEN)
    client = make_app("https://kanal.agency.example/").test_client()
    base = "http://internal:8000"  # what Flask sees behind the TLS proxy
    ok = client.post(
        "/twilio/sms", base_url=base, data=params, headers={"X-Twilio-Signature": public}
    )
    refused = client.post(
        "/twilio/sms", base_url=base, data=params, headers={"X-Twilio-Signature": internal}
    )
    assert (ok.status_code, refused.status_code) == (200, 403)


def test_twilio_signing_with_an_explicit_port_is_accepted():
    params = {"Body": "hej"}
    signature = sign("https://kanal.example:443/twilio/sms", params, VECTOR_TOKEN)
    client = make_app("https://kanal.example").test_client()
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_json_webhooks_are_checked_by_their_body_hash():
    body = '{"Body": "hej"}'
    validator = RequestValidator(VECTOR_TOKEN)
    query = "bodySHA256=" + validator.compute_hash(body)
    signature = sign("https://kanal.example/twilio/sms?" + query, {}, VECTOR_TOKEN)
    client = make_app("https://kanal.example").test_client()
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    assert client.post("/twilio/sms?" + query, data=body, headers=headers).status_code == 200
    tampered = client.post("/twilio/sms?" + query, data='{"Body": "hi"}', headers=headers)
    assert tampered.status_code == 403


def test_a_refusal_is_logged_without_the_body_or_the_number(caplog):
    client = make_app("https://mycompany.com").test_client()
    with caplog.at_level(logging.INFO):
        client.post(
            "/twilio/sms",
            data={"Body": "my secret question", "From": "+4512345678"},
            headers={"X-Twilio-Signature": "forged"},
        )
    assert "rejected Twilio webhook" in caplog.text
    assert "/twilio/sms" in caplog.text
    assert "my secret question" not in caplog.text
    assert "4512345678" not in caplog.text


@search(200)
@given(
    st.dictionaries(
        st.text("abcXYZ_", min_size=1, max_size=8),
        st.lists(st.text(max_size=12), min_size=1, max_size=3),
        max_size=6,
    ),
    st.sampled_from(["https://kanal.example/twilio/sms", "http://127.0.0.1:8000/x?a=%27b"]),
)
def test_the_fast_check_signs_exactly_as_twilios_validator(fields, url):
    from werkzeug.datastructures import MultiDict

    from channels.twilio_signature import _form_signature

    form = MultiDict([(k, v) for k, values in fields.items() for v in values])
    assert _form_signature("tok", url, form) == RequestValidator("tok").compute_signature(url, form)
