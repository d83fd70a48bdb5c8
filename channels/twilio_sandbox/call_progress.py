"""Twilio's part in one placed call: ring, answer or not, fetch its TwiML with a signed POST
and follow it as far as the sandbox understands it, reporting each status asked for to the
call's signed `StatusCallback`."""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urljoin

import requests
from sqlalchemy import select, update

from channels.twilio_sandbox.peer import SandboxPeer
from channels.twilio_sandbox.voice_answers import answer_for
from channels.twilio_sandbox.voice_queues import bridge
from channels.twilio_signature import sign

log = logging.getLogger(__name__)

EVENTS = ("initiated", "ringing", "answered", "completed")
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


def set_call(peer: SandboxPeer, sid: str, **values) -> None:
    """Change the placed call's row."""
    with peer.engine.begin() as conn:
        conn.execute(update(peer.calls).where(peer.calls.c.sid == sid).values(**values))


def signed_post(peer: SandboxPeer, url: str, form: dict[str, str]) -> requests.Response | None:
    """POST a form signed as Twilio signs it; None when the request failed."""
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
        set_call(peer, sid, status=status)
        if call.status_callback and event in events:
            form = {**params, "CallStatus": status, "CallbackSource": "call-progress-events"}
            form.update({"Timestamp": format_datetime(datetime.now(UTC)), **extra})
            if event != "completed" or status != "completed":
                form.setdefault("SequenceNumber", str(EVENTS.index(event)))
            signed_post(peer, call.status_callback, form)

    delay = peer.callback_delay
    report("initiated", "initiated")
    time.sleep(delay)
    report("ringing", "ringing")
    time.sleep(delay)
    answer = answer_for(peer, call.to)
    if answer != "answer":
        report("completed", answer, CallDuration="0")
        return
    report("answered", "in-progress")
    twiml = call.twiml
    if call.url:
        response = signed_post(peer, call.url, {**params, "CallStatus": "in-progress"})
        if response is None or response.status_code >= 400:
            # As Twilio: the callee hears that an application error occurred, and the
            # answered call completes.
            set_call(peer, sid, said=APPLICATION_ERROR)
            time.sleep(delay)
            set_call(peer, sid, duration=1)
            report("completed", "completed", CallDuration="1")
            return
        twiml = response.text
    follow(peer, sid, twiml or "", params, call.url or "")
    time.sleep(delay)
    set_call(peer, sid, duration=1)
    report("completed", "completed", CallDuration="1")


def follow(peer: SandboxPeer, sid: str, twiml: str, params: dict[str, str], base: str) -> None:
    """Follow a call's TwiML: note what it says, and connect its `<Dial>`."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        set_call(peer, sid, said="(TwiML the sandbox cannot read)")
        return
    said = " ".join((el.text or "").strip() for el in root.iter("Say") if el.text)
    set_call(peer, sid, said=said or None)
    dial = root.find("Dial")
    if dial is None:
        return
    queue = dial.find("Queue")
    target = dial.find("Client")
    number = dial.find("Number")
    status = "completed"
    if queue is not None:
        status = bridge(peer, sid, (queue.text or "").strip(), queue.get("url"))
    elif target is not None:
        identity = (target.text or "").strip()
        if target.find("Identity") is not None:
            identity = (target.find("Identity").text or "").strip()
        set_call(peer, sid, connected_to="client:" + identity)
    elif number is not None:
        set_call(peer, sid, connected_to=(number.text or "").strip())
    set_call(peer, sid, dial_status=status)
    action = dial.get("action")
    if action:
        url = urljoin(base, action)
        if url.startswith("http"):
            signed_post(peer, url, {**params, "DialCallStatus": status})
