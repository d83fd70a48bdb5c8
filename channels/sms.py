"""SMS through Twilio: the inbound webhook and the delivery status callback.

The webhook only checks, classifies and commits the message, then answers an empty TwiML
`<Response/>` at once: Twilio waits at most 15 s, and the bot turn and the replies (sent
through the REST API) happen after the answer.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from channels.base import centre
from channels.twilio_signature import twilio_signed
from router.domain.commands import ReceiveMessage
from router.service.errors import ServiceError

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__)

# Twilio's default opt-out, opt-in and help keywords (docs/domain.md §5.5).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})
MAX_REMEMBERED_TOKENS = 10_000


def keyword_kind(body: str) -> str:
    """Return opt_out, opt_in or help for a keyword-only message, else message."""
    word = body.strip().strip(".!").strip().upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return "message"


class _RecentTokens:
    """Idempotency tokens this process has answered; the database stays the real guard."""

    def __init__(self, size: int = MAX_REMEMBERED_TOKENS) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, token: str) -> bool:
        with self._lock:
            return token in self._seen

    def add(self, token: str) -> None:
        with self._lock:
            self._seen[token] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)


def init_app(app) -> None:  # noqa: ANN001
    """Register the SMS webhooks; Twilio signs them, so they need no CSRF token."""
    app.extensions["kanal.sms_tokens"] = _RecentTokens()
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)


def empty_twiml() -> Response:
    """Answer Twilio with nothing to send: replies go out through the REST API."""
    return Response(str(MessagingResponse()), mimetype="text/xml")


def _accept(cmd: ReceiveMessage):
    try:
        return centre().accept(cmd)
    except ServiceError:
        raise
    except Exception:
        # Two deliveries of one message can race to the unique provider id; the second
        # attempt finds the first one committed and reports it as a duplicate.
        log.warning("accepting an SMS failed once; trying again")
        return centre().accept(cmd)


@bp.post("/twilio/sms")
@twilio_signed
def receive_sms():
    """Commit an inbound SMS once and acknowledge it; the turn runs after the answer."""
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    number = form.get("From", "").strip()
    if not sid or not number:
        return Response("MessageSid and From are required.", status=400, mimetype="text/plain")
    tokens: _RecentTokens = current_app.extensions["kanal.sms_tokens"]
    token = request.headers.get("I-Twilio-Idempotency-Token", "")
    if token and token in tokens:
        return empty_twiml()
    body = form.get("Body", "")
    kind = keyword_kind(body)
    text = body.strip() or (
        "(a picture or file without text)" if form.get("NumMedia", "0") != "0" else ""
    )
    cmd = ReceiveMessage(
        channel="sms",
        address=number,
        text=text or "(empty message)",
        provider_id=sid,
        kind=kind,
        metadata={"to": form.get("To", ""), "segments": form.get("NumSegments", "1")},
    )
    accepted = _accept(cmd)
    if not accepted.duplicate:
        if kind == "message":
            centre().process_later(accepted.message_id)
        else:
            # Consent changes take effect before Twilio hears back; they never reach the bot.
            centre().process(accepted.message_id)
    if token:
        tokens.add(token)
    return empty_twiml()


@bp.post("/twilio/sms/status")
@twilio_signed
def delivery_status():
    """Record a delivery status callback; out-of-order ones never move a message back."""
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return Response("MessageSid and MessageStatus are required.", 400, mimetype="text/plain")
    delivery = current_app.extensions["kanal"].extras["sms"]
    delivery.record_status(
        request.args.get("m", type=int), sid, status, request.form.get("ErrorCode") or None
    )
    return Response(status=204)
