"""SMS through Twilio: the channel's settings, its sender, the inbound webhook and the
delivery status callback.

Acknowledging a webhook is the signature check, the idempotency check and one INSERT into
the inbox, then an empty TwiML `<Response/>`: Twilio waits at most 15 s, and the turn and
its replies (sent through the REST API) happen after the answer. A body longer than
Twilio's maximum (1,600 characters) cannot come from Twilio: only its beginning is kept,
and the citizen is told so.
"""

from __future__ import annotations

import hmac
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import parse_qsl, unquote

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from channels import twilio_doc as doc
from channels.twilio_signature import form_signature, twilio_signed
from router.adapters.twilio_sms import sender_from_config
from router.domain.commands import ReceiveMessage
from router.domain.segments import MAX_BODY
from router.openapi import describe
from router.service.channels import Channel
from router.service.lanes import take_in_order
from router.service.ports import Sender
from router.service.services import ChannelServices
from router.web import MAX_KEY, bound, parse_id, storable_key

log = logging.getLogger(__name__)

NAME = "sms"
# Twilio's default opt-out, opt-in and help keywords (docs/domain.md §5.5).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})
MAX_REMEMBERED_TOKENS = 10_000
INBOUND_ERROR = f"MessageSid and From are required: each 1 to {MAX_KEY} characters, without NUL."
MAX_SMS_TEXT = MAX_BODY  # Twilio's longest message body, in characters


def channel(config: Mapping, sender: Sender | None = None) -> Channel:
    """Describe SMS to the core: a phone number, consent rules, and Twilio as the way out."""
    return Channel(
        name=NAME,
        inactivity=timedelta(minutes=config["KANAL_SMS_INACTIVITY_MINUTES"]),
        verb="write",
        max_text=MAX_SMS_TEXT,
        address_is_phone=True,
        needs_consent=True,
        digital=True,
        sender=sender if sender is not None else sender_from_config(config),
        status_callback=config["KANAL_PUBLIC_URL"] + "/twilio/sms/status",
        help_text=config["KANAL_SMS_HELP_TEXT"],
    )


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


class RecentTokens:
    """Idempotency tokens this process has answered; the inbox stays the real guard."""

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


def blueprint(services: ChannelServices) -> Blueprint:
    """Return the SMS webhooks; Twilio signs them (checked), so they need no CSRF token."""
    bp = Blueprint(NAME, __name__)
    signed = twilio_signed(services.config)
    receive = describe(signed(bound(receive_sms, services, RecentTokens())), doc.RECEIVE_SMS)
    status = describe(signed(bound(delivery_status, services)), doc.DELIVERY_STATUS)
    bp.add_url_rule("/twilio/sms", "receive_sms", receive, methods=["POST"])
    bp.add_url_rule("/twilio/sms/status", "delivery_status", status, methods=["POST"])
    return bp


EMPTY_TWIML = str(MessagingResponse())  # built once: every acknowledgement answers it


def empty_twiml() -> Response:
    """Answer Twilio with nothing to send: replies go out through the REST API."""
    return Response(EMPTY_TWIML, mimetype="text/xml")


def inbound(form: Mapping[str, str]) -> ReceiveMessage | None:
    """Return the message an inbound webhook's form carries; None without a MessageSid or a
    From that storage keeps (`storable_key`)."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    number = form.get("From", "").strip()
    if not storable_key(sid or "") or not storable_key(number):
        return None
    # PostgreSQL's text refuses NUL characters; no real SMS carries them.
    body = form.get("Body", "").replace("\x00", "")
    text = body.strip() or (
        "(a picture or file without text)" if form.get("NumMedia", "0") != "0" else ""
    )
    return ReceiveMessage(
        channel=NAME,
        address=number,
        text=text or "(empty message)",
        provider_id=sid,
        kind=keyword_kind(body),
    )


def receive_sms(services: ChannelServices, tokens: RecentTokens):
    """Commit an inbound SMS to the inbox once and acknowledge it; the turn runs after."""
    cmd = inbound(request.form)
    if cmd is None:
        return Response(INBOUND_ERROR, status=400, mimetype="text/plain")
    token = request.headers.get("I-Twilio-Idempotency-Token", "")
    if token and token in tokens:
        return empty_twiml()
    entry_id = services.turns.accept(cmd)
    if entry_id is not None:
        if cmd.kind != "message":
            # Consent changes take effect before Twilio hears back; they never reach the bot.
            # Taken in the citizen's lane, after the messages they sent before it.
            take_in_order(services.turns, entry_id, f"{NAME}:{cmd.address}")
        elif services.run_turn is not None:
            services.run_turn(entry_id, f"{NAME}:{cmd.address}")
    if token:
        tokens.add(token)
    return empty_twiml()


def delivery_status(services: ChannelServices):
    """Record a delivery status callback; out-of-order ones never move a message back."""
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return Response("MessageSid and MessageStatus are required.", 400, mimetype="text/plain")
    try:
        # kanal signs `m` into the callback URL; a value past 64 bits was never one of ours.
        message_id = parse_id(request.args.get("m"))
    except ValueError:
        return Response("`m` must be a message id.", 400, mimetype="text/plain")
    services.delivery.record_status(
        NAME, message_id, sid, status, request.form.get("ErrorCode") or None
    )
    return Response(status=204)


class AcknowledgingLane:
    """The SMS webhooks' own WSGI lane in front of the web app. What Twilio sends nearly
    always (a form signed with the auth token) is checked and handled here, without Flask's
    request, session, limits and form parser: an inbound message that is not a keyword is
    committed to the inbox and acknowledged (an acknowledgement costs about a sixth), a
    delivery status callback is recorded. Anything else (a bad signature, a keyword, a
    missing field, a database error) goes on to the app's `receive_sms` or
    `delivery_status` unchanged, with the body it sent.

    `headers`: the headers every response of the app carries (security.response_headers).
    """

    PATH, STATUS_PATH = "/twilio/sms", "/twilio/sms/status"

    def __init__(self, app, services: ChannelServices, headers: Mapping[str, str]) -> None:  # noqa: ANN001 - a WSGI app
        self.app = app
        self.services = services
        self.base_url = str(services.config["KANAL_PUBLIC_URL"]).rstrip("/")
        self.auth_token = str(services.config["TWILIO_AUTH_TOKEN"])
        self.max_body = int(services.config.get("MAX_CONTENT_LENGTH") or 64 * 1024)
        self.tokens = RecentTokens()
        body = EMPTY_TWIML.encode()
        self.answer = [body]
        common = [
            (name, value) for name, value in headers.items() if name.lower() != "content-type"
        ]
        self.headers = [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *common,
        ]
        self.status_headers = common

    def __call__(self, environ: dict, start_response):  # noqa: ANN204
        path, query = environ.get("PATH_INFO"), environ.get("QUERY_STRING", "")
        if (
            path not in (self.PATH, self.STATUS_PATH)
            or (path == self.PATH and query)
            or environ.get("REQUEST_METHOD") != "POST"
            or "HTTP_X_TWILIO_SIGNATURE" not in environ
            or "HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS" in environ
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip()
            != "application/x-www-form-urlencoded"
        ):
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or not 0 < int(length) <= self.max_body:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # for the app, should it answer instead
        try:
            fields = self._signed_fields(environ, path, query, body)
            if fields is None:
                answered = False
            elif path == self.PATH:
                answered = self._acknowledge(environ, fields)
            else:
                answered = self._record_status(query, fields)
        except Exception:  # the app's own path answers it (a 503 while the database is down)
            log.debug("the SMS lane passed a webhook on", exc_info=True)
            answered = False
        if not answered:
            return self.app(environ, start_response)
        if path == self.STATUS_PATH:
            start_response("204 NO CONTENT", self.status_headers)
            return []
        start_response("200 OK", self.headers)
        return self.answer

    def _signed_fields(
        self, environ: dict, path: str, query: str, body: bytes
    ) -> list[tuple[str, str]] | None:
        """The form's fields when Twilio signed them for this URL with the auth token, else
        None (the app then tries the port variants Twilio may sign, or answers 403)."""
        try:
            fields = form_fields(body)
        except (UnicodeDecodeError, ValueError):
            return None
        url = self.base_url + path + ("?" + query if query else "")
        expected = form_signature(self.auth_token, url, fields)
        signature = environ["HTTP_X_TWILIO_SIGNATURE"]
        if not hmac.compare_digest(expected.encode(), signature.encode("latin-1")):
            return None
        return fields

    def _acknowledge(self, environ: dict, fields: list[tuple[str, str]]) -> bool:
        """Acknowledge an inbound message; False to leave it to the app."""
        token = environ.get("HTTP_I_TWILIO_IDEMPOTENCY_TOKEN", "")
        if token and token in self.tokens:
            return True
        cmd = inbound(_first_values(fields))
        if cmd is None or cmd.kind != "message":
            return False
        entry_id = self.services.turns.accept(cmd)
        if entry_id is not None and self.services.run_turn is not None:
            self.services.run_turn(entry_id, f"{NAME}:{cmd.address}")
        if token:
            self.tokens.add(token)
        return True

    def _record_status(self, query: str, fields: list[tuple[str, str]]) -> bool:
        """Record a status callback to kanal's own URL (`?m=<message id>`); False to leave
        anything else to the app."""
        args = parse_qsl(query, keep_blank_values=True)
        if len(args) != 1 or args[0][0] != "m":
            return False
        message_id = parse_id(args[0][1])  # ValueError: the app answers 400
        form = _first_values(fields)
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or not status:
            return False
        error_code = form.get("ErrorCode") or None
        self.services.delivery.record_status(NAME, message_id, sid, status, error_code)
        return True


def form_fields(body: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of an urlencoded form, as `parse_qsl(body.decode("ascii"),
    keep_blank_values=True, errors="strict")` gives them, in a third of its time: a field
    without `%` or `+` (most of Twilio's) is taken as it is. UnicodeDecodeError for a body
    that is not ASCII or an escape that is not UTF-8."""
    fields = []
    for piece in body.decode("ascii").split("&"):
        if piece:
            name, _, value = piece.partition("=")
            fields.append((_unquoted(name), _unquoted(value)))
    return fields


def _unquoted(part: str) -> str:
    """`unquote_plus(part, errors="strict")`, without its calls where there is nothing to do."""
    if "+" in part:
        part = part.replace("+", " ")
    return unquote(part, errors="strict") if "%" in part else part


def _first_values(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Each field's first value, as `request.form.get` gives it."""
    form: dict[str, str] = {}
    for name, value in fields:
        form.setdefault(name, value)
    return form


def wsgi_lane(app, services: ChannelServices, headers: Mapping[str, str]) -> AcknowledgingLane:  # noqa: ANN001
    """Put the acknowledging lane in front of the web app `app` (a WSGI callable)."""
    return AcknowledgingLane(app, services, headers)
