"""A citizen's phone in a terminal: post a signed SMS webhook as Twilio would, print replies.

Replies are read from the sandbox's outbox (`GET /sandbox/outbox.json?to=<number>`), so this
works against a service running in sandbox mode, which `make run` is by default.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from channels.sms import keyword_kind
from channels.twilio_signature import sign
from router.domain.segments import count_segments


class SimulatorError(RuntimeError):
    """The service did not take the message; the text says what to do."""


@dataclass(frozen=True)
class TextingPhone:
    """Where the service listens, the URL Twilio signs, and the agency's credentials."""

    base_url: str
    public_url: str
    account_sid: str
    auth_token: str
    agency_number: str


def webhook_form(phone: TextingPhone, from_number: str, text: str, sid: str | None = None) -> dict:
    """Return the form fields Twilio posts for an inbound SMS."""
    sid = sid or "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "DK",
        "FromCountry": "DK",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "MessageSid": sid,
        "AccountSid": phone.account_sid,
        "From": from_number,
        "To": phone.agency_number,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": str(count_segments(text).segments),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def post_sms(phone: TextingPhone, form: dict, *, session: requests.Session | None = None):
    """Post one signed inbound-SMS webhook; return the HTTP response."""
    http = session or requests
    signed = phone.public_url.rstrip("/") + "/twilio/sms"
    headers = {
        "X-Twilio-Signature": sign(signed, form, phone.auth_token),
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        "User-Agent": "TwilioProxy/1.1 (kanal sms simulator)",
    }
    return http.post(
        phone.base_url.rstrip("/") + "/twilio/sms", data=form, headers=headers, timeout=15
    )


def outbox(phone: TextingPhone, number: str) -> list[dict]:
    """Return the sandbox's messages to `number`, oldest first."""
    url = phone.base_url.rstrip("/") + "/sandbox/outbox.json"
    response = requests.get(url, params={"to": number}, timeout=5)
    if response.status_code == 404:
        raise SimulatorError(
            "The service has no sandbox outbox: run it in sandbox mode (KANAL_TWILIO_SANDBOX=1)."
        )
    response.raise_for_status()
    return response.json()


def send_and_watch(
    phone: TextingPhone,
    from_number: str,
    text: str,
    *,
    wait: float = 20.0,
    quiet: float = 3.0,
    interval: float = 0.4,
    show: Callable[[dict], None] = lambda row: None,
) -> list[dict]:
    """Text the service and return (and show) the replies that reach `from_number`.

    Waits up to `wait` seconds for a first reply, then until `quiet` seconds pass without
    another; a STOP gets no reply, so its wait is short.
    """
    try:
        seen = {row["sid"] for row in outbox(phone, from_number)}
        response = post_sms(phone, webhook_form(phone, from_number, text))
    except requests.ConnectionError as exc:
        raise SimulatorError(
            f"Nothing answers at {phone.base_url}: start the service with `make run`."
        ) from exc
    if response.status_code == 403:
        raise SimulatorError(
            "The service refused the signature: TWILIO_AUTH_TOKEN and KANAL_PUBLIC_URL must "
            "match the running service's."
        )
    if response.status_code != 200:
        raise SimulatorError(f"The service answered HTTP {response.status_code}.")
    if keyword_kind(text) == "opt_out":
        wait = min(wait, quiet)
    replies: list[dict] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(interval)
        for row in outbox(phone, from_number):
            if row["sid"] not in seen:
                seen.add(row["sid"])
                replies.append(row)
                show(row)
                deadline = time.monotonic() + quiet  # more parts may follow
    return replies
