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
"""

from __future__ import annotations

import logging
import secrets
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace
from urllib.parse import urljoin

import requests
from flask import jsonify, request
from sqlalchemy import delete, select, update

from channels.twilio_sandbox.api import authorised, twilio_error, valid_number
from channels.twilio_sandbox.peer import SandboxPeer, newest
from channels.twilio_signature import sign

log = logging.getLogger(__name__)

ANSWERS = ("answer", "busy", "no-answer", "failed")
# Numbers that always answer one way, as Twilio's test numbers do (README, "Voice sandbox").
MAGIC_ANSWERS = {
    "+15005550010": "busy",
    "+15005550011": "no-answer",
    "+15005550012": "failed",
}
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
EVENTS = ("initiated", "ringing", "answered", "completed")
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


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


def _answer_for(peer: SandboxPeer, number: str) -> str:
    """Return how `number` answers this call (and use up a counted answer)."""
    if number in MAGIC_ANSWERS:
        return MAGIC_ANSWERS[number]
    answers = peer.voice_answers
    with peer.engine.begin() as conn:
        row = conn.execute(select(answers).where(answers.c.number == number)).first()
        if row is None:
            return "answer"
        if row.remaining is not None:
            if row.remaining <= 1:
                conn.execute(delete(answers).where(answers.c.number == number))
            else:
                conn.execute(
                    update(answers)
                    .where(answers.c.number == number)
                    .values(remaining=row.remaining - 1)
                )
        return row.answer


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


def _set(peer: SandboxPeer, sid: str, **values) -> None:
    with peer.engine.begin() as conn:
        conn.execute(update(peer.calls).where(peer.calls.c.sid == sid).values(**values))


def _signed_post(peer: SandboxPeer, url: str, form: dict[str, str]) -> requests.Response | None:
    headers = {"X-Twilio-Signature": sign(url, form, peer.auth_token)}
    try:
        return requests.post(url, data=form, headers=headers, timeout=10)
    except requests.RequestException as exc:
        log.warning("sandbox voice request failed: %s", type(exc).__name__)
        return None


def place_call(peer: SandboxPeer, sid: str) -> None:
    """Play Twilio's part in one outbound call: ring, answer or not, follow the TwiML."""
    with peer.engine.connect() as conn:
        call = conn.execute(select(peer.calls).where(peer.calls.c.sid == sid)).first()
    events = set(call.events.split())
    params = {
        "AccountSid": call.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "From": call.from_,
        "To": call.to,
        "Direction": "outbound-api",
        "Called": call.to,
        "Caller": call.from_,
    }

    def report(event: str, status: str, **extra: str) -> None:
        _set(peer, sid, status=status)
        if call.status_callback and event in events:
            form = {**params, "CallStatus": status, "CallbackSource": "call-progress-events"}
            form.update({"Timestamp": format_datetime(datetime.now(UTC)), **extra})
            if event != "completed" or status != "completed":
                form.setdefault("SequenceNumber", str(EVENTS.index(event)))
            _signed_post(peer, call.status_callback, form)

    delay = peer.callback_delay
    report("initiated", "initiated")
    time.sleep(delay)
    report("ringing", "ringing")
    time.sleep(delay)
    answer = _answer_for(peer, call.to)
    if answer != "answer":
        report("completed", answer, CallDuration="0")
        return
    report("answered", "in-progress")
    twiml = call.twiml
    if call.url:
        response = _signed_post(peer, call.url, {**params, "CallStatus": "in-progress"})
        if response is None or response.status_code >= 400:
            # As Twilio: the callee hears that an application error occurred, and the
            # answered call completes.
            _set(peer, sid, said=APPLICATION_ERROR)
            time.sleep(delay)
            _set(peer, sid, duration=1)
            report("completed", "completed", CallDuration="1")
            return
        twiml = response.text
    _follow(peer, sid, twiml or "", params, call.url or "")
    time.sleep(delay)
    _set(peer, sid, duration=1)
    report("completed", "completed", CallDuration="1")


def _follow(peer: SandboxPeer, sid: str, twiml: str, params: dict[str, str], base: str) -> None:
    """Follow a call's TwiML: note what it says, and connect its `<Dial>`."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        _set(peer, sid, said="(TwiML the sandbox cannot read)")
        return
    said = " ".join((el.text or "").strip() for el in root.iter("Say") if el.text)
    _set(peer, sid, said=said or None)
    dial = root.find("Dial")
    if dial is None:
        return
    queue = dial.find("Queue")
    target = dial.find("Client")
    number = dial.find("Number")
    status = "completed"
    if queue is not None:
        status = _bridge(peer, sid, (queue.text or "").strip(), queue.get("url"))
    elif target is not None:
        identity = (target.text or "").strip()
        if target.find("Identity") is not None:
            identity = (target.find("Identity").text or "").strip()
        _set(peer, sid, connected_to="client:" + identity)
    elif number is not None:
        _set(peer, sid, connected_to=(number.text or "").strip())
    _set(peer, sid, dial_status=status)
    action = dial.get("action")
    if action:
        url = urljoin(base, action)
        if url.startswith("http"):
            _signed_post(peer, url, {**params, "DialCallStatus": status})


def _bridge(peer: SandboxPeer, sid: str, name: str, announce_url: str | None) -> str:
    """Bridge the first caller waiting in queue `name` to this call; say how the Dial ended."""
    members = peer.queue_members
    with peer.engine.connect() as conn:
        call = conn.execute(select(peer.calls).where(peer.calls.c.sid == sid)).first()
    with peer.engine.begin() as conn:
        first = conn.execute(
            select(members)
            .where(members.c.queue == name, members.c.state == "queued")
            .order_by(members.c.id)
            .limit(1)
        ).first()
        if first is None:
            conn.execute(
                update(peer.calls).where(peer.calls.c.sid == sid).values(connected_to=None)
            )
            return "no-answer"
        conn.execute(
            update(members)
            .where(members.c.id == first.id, members.c.state == "queued")
            .values(state="bridged", bridged_to=call.to, announce_url=announce_url)
        )
        conn.execute(
            update(peer.calls).where(peer.calls.c.sid == sid).values(connected_to=f"queue:{name}")
        )
    return "completed"


def set_answer(peer: SandboxPeer):
    """Tell the sandbox how a number answers calls: answer, busy, no-answer or failed.

    Form: `To`, `Answer`, and optionally `Times` (that many calls, then it answers again).
    """
    number = request.form.get("To", "").strip()
    answer = request.form.get("Answer", "").strip()
    times = request.form.get("Times", "").strip()
    if not number or answer not in ANSWERS:
        return jsonify(error=f"Give `To` and `Answer`, one of {', '.join(ANSWERS)}."), 400
    if times and (not times.isdigit() or int(times) < 1):
        return jsonify(error="`Times` must be a positive whole number."), 400
    answers = peer.voice_answers
    with peer.engine.begin() as conn:
        conn.execute(delete(answers).where(answers.c.number == number))
        if answer != "answer":
            conn.execute(
                answers.insert().values(
                    number=number, answer=answer, remaining=int(times) if times else None
                )
            )
    return jsonify(to=number, answer=answer, times=int(times) if times else None), 200


def join_queue(peer: SandboxPeer, name: str):
    """Put a caller in a voice queue (the simulator's `<Enqueue>`)."""
    sid = request.form.get("CallSid", "").strip()
    if not sid:
        return jsonify(error="`CallSid` is required."), 400
    if len(name) > 64:
        return jsonify(error="A queue name has at most 64 characters."), 400
    members = peer.queue_members
    with peer.engine.begin() as conn:
        conn.execute(delete(members).where(members.c.call_sid == sid))
        conn.execute(members.insert().values(call_sid=sid, queue=name, state="queued", at=_now()))
    return jsonify(call_sid=sid, queue=name, state="queued"), 201


def leave_queue(peer: SandboxPeer, name: str, call_sid: str):
    """Take a caller out of a queue (they hung up, or left it)."""
    members = peer.queue_members
    with peer.engine.begin() as conn:
        done = conn.execute(
            update(members)
            .where(members.c.call_sid == call_sid, members.c.queue == name)
            .values(state="left")
        )
    if done.rowcount == 0:
        return jsonify(error=f"{call_sid} is not in queue {name}."), 404
    return "", 204


def member_state(peer: SandboxPeer, call_sid: str):
    """Answer whether a queued caller still waits, was bridged to an agent, or left."""
    members = peer.queue_members
    with peer.engine.connect() as conn:
        row = conn.execute(select(members).where(members.c.call_sid == call_sid)).first()
    if row is None:
        return jsonify(error=f"No call {call_sid} has waited in a sandbox queue."), 404
    return jsonify(
        state=row.state, queue=row.queue, bridged_to=row.bridged_to, announce_url=row.announce_url
    )


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
