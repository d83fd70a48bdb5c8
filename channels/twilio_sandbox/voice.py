"""The sandbox's voice: Twilio's Calls API, placed calls, and voice queues for the simulator.

A placed call (`POST …/Calls.json`) is answered by default; a number told to answer
otherwise (the control endpoint, or a magic number) ends busy, no-answer or failed. An
answered call fetches its `Url` with a signed POST as Twilio would (CallSid, CallStatus,
From, To, Direction=outbound-api, AccountSid) and its TwiML is followed as far as the
sandbox understands it: `<Dial><Queue url=U>NAME</Queue></Dial>` bridges the first caller
waiting in NAME; `<Dial><Client>` or `<Dial><Number>` records whom the call was connected
to. Status callbacks are signed and fire for the events asked for in `StatusCallbackEvent`
(initiated, ringing, answered, completed; Twilio's default is completed only); a call that
is not answered reports its busy, no-answer or failed status with the completed event.

The voice queues stand in for Twilio's `<Enqueue>`: the phone simulator puts its caller in
a queue (`POST /sandbox/voice/queues/<name>/members`), takes them out when they hang up, and
reads whether an agent's leg bridged them (`GET /sandbox/voice/calls/<CallSid>`).

How numbers answer is in voice_answers.py, a placed call's progress in call_progress.py and
the voice queues in voice_queues.py.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace

from flask import jsonify, request
from sqlalchemy import select

from channels.twilio_sandbox.api import authorised, twilio_error, valid_number
from channels.twilio_sandbox.call_progress import EVENTS, place_call
from channels.twilio_sandbox.peer import SandboxPeer, newest

# Twilio's test-credential numbers for calls, refused when the call is created.
MAGIC_ERRORS = {
    "+15005550001": (21217, "Phone number does not appear to be valid"),
    "+15005550002": (21214, "'To' phone number cannot be reached"),
    "+15005550003": (
        21215,
        "Account not authorized to call +15005550003. Perhaps you need to enable some "
        "international permissions",
    ),
    "+15005550004": (21216, "Account not allowed to call +15005550004"),
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _resource(row, account_sid: str) -> dict:
    """Return a call resource shaped like Twilio's JSON."""
    at = datetime.fromisoformat(row.at)
    base = f"/2010-04-01/Accounts/{account_sid}/Calls/{row.sid}"
    return {
        "account_sid": account_sid,
        "annotation": None,
        "answered_by": None,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": format_datetime(at),
        "date_updated": format_datetime(at),
        "direction": "outbound-api",
        "duration": None if row.duration is None else str(row.duration),
        "end_time": None,
        "forwarded_from": None,
        "from": row.from_,
        "from_formatted": row.from_,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": row.sid,
        "start_time": None,
        "status": row.status,
        "subresource_uris": {"notifications": base + "/Notifications.json"},
        "to": row.to,
        "to_formatted": row.to,
        "trunk_sid": None,
        "uri": base + ".json",
    }


def create_call(peer: SandboxPeer, account_sid: str):
    """Accept an outbound call like Twilio's Calls API, then place it."""
    if not authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    form = request.form
    to = form.get("To", "").strip()
    sender = form.get("From", "").strip()
    url = form.get("Url", "").strip()
    twiml = form.get("Twiml", "").strip()
    if not to:
        return twilio_error(400, 21201, "No 'To' number is specified")
    if to in MAGIC_ERRORS:
        code, message = MAGIC_ERRORS[to]
        return twilio_error(400, code, message)
    is_client = to.startswith(("client:", "sip:"))
    if not is_client:
        if not to.startswith("+") or not to[1:].isdigit():
            return twilio_error(400, 13223, f"Dial: Invalid phone number format: {to}")
        if not valid_number(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not sender:
        return twilio_error(400, 21213, "No 'From' number is specified")
    if not url and not twiml:
        return twilio_error(400, 21205, "Url parameter is required.")
    if url and not url.startswith(("http://", "https://")):
        return twilio_error(400, 21205, f"Url is not a valid URL: {url}")
    events = [e.strip() for e in form.getlist("StatusCallbackEvent") for e in e.split()]
    events = [e for e in events if e in EVENTS] or ["completed"]
    row = {
        "sid": "CA" + secrets.token_hex(16),
        "account_sid": account_sid,
        "to": to,
        "from_": sender,
        "url": url or None,
        "twiml": twiml or None,
        "status": "queued",
        "status_callback": form.get("StatusCallback", "").strip() or None,
        "events": " ".join(events),
        "connected_to": None,
        "dial_status": None,
        "said": None,
        "duration": None,
        "at": _now(),
    }
    with peer.engine.begin() as conn:
        conn.execute(peer.calls.insert().values(**row))
    peer.submit(place_call, peer, row["sid"])
    return jsonify(_resource(SimpleNamespace(**row), account_sid)), 201


def fetch_call(peer: SandboxPeer, account_sid: str, sid: str):
    """Return one call resource, as Twilio's fetch does."""
    if not authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    with peer.engine.connect() as conn:
        row = conn.execute(select(peer.calls).where(peer.calls.c.sid == sid)).first()
    if row is None:
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return jsonify(_resource(row, account_sid))


def call_rows(peer: SandboxPeer, to: str | None = None, limit: int = 200) -> list[dict]:
    """Return the newest placed calls (oldest first), optionally to one number."""
    return [
        {
            "sid": r.sid,
            "to": r.to,
            "from": r.from_,
            "url": r.url,
            "status": r.status,
            "said": r.said,
            "connected_to": r.connected_to,
            "dial_status": r.dial_status,
            "at": r.at,
        }
        for r in newest(peer, peer.calls, to, limit)
    ]
