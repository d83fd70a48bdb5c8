"""An inbound SMS as Twilio sends it: its form read as a message (`inbound`, Twilio's
keywords), and the SMS webhooks' own lane in front of the web app: what Twilio sends nearly
always (a form signed with the auth token) is checked and handled without Flask's request, session,
limits and form parser, each inbound message committed to the inbox before it is
acknowledged. `kanal web`'s server hands it the signed inbound webhooks it reads itself
(`take`, router/entrypoints/web_worker.py); other servers call it as WSGI middleware.
"""

from __future__ import annotations

import hmac
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, unquote

from twilio.twiml.messaging_response import MessagingResponse

from channels.twilio_signature import form_signature
from router.domain.commands import ReceiveMessage
from router.service.services import ChannelServices
from router.web import MAX_KEY, parse_id, storable, storable_key

log = logging.getLogger(__name__)

NAME = "sms"
FORM = "application/x-www-form-urlencoded"

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


EMPTY_TWIML = str(MessagingResponse())  # built once: every acknowledgement answers it


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
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip() != FORM
        ):
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or not 0 < int(length) <= self.max_body:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # for the app, should it answer instead
        try:
            fields = self._signed_fields(environ["HTTP_X_TWILIO_SIGNATURE"], path, query, body)
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
        self, signature: str, path: str, query: str, body: bytes
    ) -> list[tuple[str, str]] | None:
        """The form's fields when Twilio signed them for this URL with the auth token, else
        None (the app then tries the port variants Twilio may sign, or answers 403)."""
        try:
            fields = form_fields(body)
        except (UnicodeDecodeError, ValueError):
            return None
        url = self.base_url + path + ("?" + query if query else "")
        expected = form_signature(self.auth_token, url, fields)
        if not hmac.compare_digest(expected.encode(), signature.encode("latin-1")):
            return None
        return fields

    def _acknowledge(self, environ: dict, fields: list[tuple[str, str]]) -> bool:
        """Acknowledge an inbound message; False to leave it to the app."""
        token = environ.get("HTTP_I_TWILIO_IDEMPOTENCY_TOKEN", "")
        return self._acknowledged(token, fields)

    def _acknowledged(self, token: str, fields: list[tuple[str, str]]) -> bool:
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

    def take(self, headers: Mapping[str, str], body: bytes, done: Callable[[bool], None]) -> bool:
        """For a server that reads the request itself (`kanal web`'s loop): a POST to
        /twilio/sms without a query, its header names in lower case. True when the lane
        takes it on: `done(True)` once its message is committed (answer with `answer_of`),
        `done(False)` should the commit fail (the app must answer it then, a 503 while the
        database is down), from whichever thread committed; maybe before this returns.
        False to leave it to the app at once, as the lane would pass it on."""
        signature = headers.get("x-twilio-signature")
        if (
            signature is None
            or "x-twilio-webhooks-signature-settings" in headers
            or headers.get("content-type", "").partition(";")[0].strip() != FORM
            or not 0 < len(body) <= self.max_body
        ):
            return False
        try:
            fields = self._signed_fields(signature, self.PATH, "", body)
            if fields is None:
                return False
            token = headers.get("i-twilio-idempotency-token", "")
            if token and token in self.tokens:
                done(True)
                return True
            cmd = inbound(_first_values(fields))
            if cmd is None or cmd.kind != "message":
                return False
        except Exception:  # the app's own path answers it
            log.debug("the SMS lane passed a webhook on", exc_info=True)
            return False
        lane = f"{NAME}:{cmd.address}"

        def committed(entry_id: int | None, error: BaseException | None) -> None:
            if error is not None:
                log.debug("the SMS lane passed a webhook on", exc_info=error)
                done(False)
                return
            if entry_id is not None and self.services.run_turn is not None:
                self.services.run_turn(entry_id, lane)
            if token:
                self.tokens.add(token)
            done(True)

        try:
            self.services.turns.accept_later(cmd, committed)
        except Exception as exc:  # not handed in: the app answers it
            committed(None, exc)
        return True

    def answer_of(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """The acknowledgement `take` calls for: status, headers and body."""
        return "200 OK", self.headers, self.answer[0]

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
        if status_problem(sid, status, error_code) is not None:
            return False  # the app answers 400, naming the field
        self.services.delivery.record_status(NAME, message_id, sid, status, error_code)
        return True


MAX_STATUS = 32  # Twilio's longest status, partially_delivered, has 19 characters
MAX_ERROR_CODE = 16  # Twilio's error codes are five digits


def status_problem(sid: str, status: str, error_code: str | None) -> str | None:
    """Say what no column keeps in a status callback (a NUL, or longer than any Twilio
    sends); None when it can be recorded."""
    if not storable_key(sid):
        return f"MessageSid must be 1 to {MAX_KEY} characters, without NUL."
    if len(status) > MAX_STATUS or not storable(status):
        return f"MessageStatus must be at most {MAX_STATUS} characters, without NUL."
    if error_code is not None and (len(error_code) > MAX_ERROR_CODE or not storable(error_code)):
        return f"ErrorCode must be at most {MAX_ERROR_CODE} characters, without NUL."
    return None


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
