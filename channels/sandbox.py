"""A local Twilio-compatible peer for development and tests: the Messages API and its outbox.

It stands in for Twilio itself, so it keeps its own store (an SQLite file under the instance
folder, shared by all web workers) and never touches the router's tables. Magic numbers
behave as with Twilio's test credentials: +15005550001 is invalid (21211), +15005550004 has
opted out at the carrier (21610), +15005550002 cannot be routed (21612).
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace

import phonenumbers
import requests
from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from channels import sandbox_voice
from channels.twilio_signature import sign
from router.domain.segments import MAX_BODY, count_segments
from router.web import bound

log = logging.getLogger(__name__)

API = "/twilio/2010-04-01/Accounts/<account_sid>"
CALLBACK_STATUSES = ("sending", "sent", "delivered")
MAGIC_ERRORS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
}

metadata = MetaData()
sandbox_messages = Table(
    "sandbox_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("account_sid", String(64), nullable=False),
    Column("to", String(32), nullable=False),
    Column("from_", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("segments", Integer, nullable=False),
    Column("status_callback", Text),
    Column("at", String(32), nullable=False),
)
sandbox_calls, sandbox_queue_members, sandbox_voice_answers = sandbox_voice.tables(metadata)


class SandboxPeer:
    """The sandbox's store and its status-callback sender, one per app."""

    calls = sandbox_calls
    queue_members = sandbox_queue_members
    voice_answers = sandbox_voice_answers

    def __init__(self, database_url: str, auth_token: str, callback_delay: float) -> None:
        self.engine = create_engine(database_url, connect_args={"timeout": 30})
        event.listen(self.engine, "connect", _sqlite_wal)
        self.auth_token = auth_token
        self.callback_delay = callback_delay
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        for attempt in range(5):  # several workers may start at once
            try:
                metadata.create_all(self.engine)
                break
            except OperationalError:
                time.sleep(0.1 * (attempt + 1))
        self.engine.dispose()  # hold no file open until the sandbox is used

    @classmethod
    def from_config(cls, config) -> SandboxPeer:  # noqa: ANN001
        """Build the peer kanal's configuration asks for (its store beside kanal's)."""
        url = config.get("KANAL_SANDBOX_DATABASE_URL")
        if not url:
            instance = Path(config["KANAL_INSTANCE_PATH"])
            instance.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{instance / 'twilio-sandbox.db'}"
        return cls(url, config["TWILIO_AUTH_TOKEN"], config["KANAL_SANDBOX_CALLBACK_DELAY"])

    def close(self) -> None:
        """Finish pending status callbacks and release the store."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.engine.dispose()

    def submit(self, fn, *args) -> None:  # noqa: ANN001
        """Run Twilio's side of something later, in the sandbox's own threads."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox-cb")
        self._pool.submit(_logged, fn, *args)

    def fire_callbacks(self, sid: str, params: dict[str, str], url: str) -> None:
        """Move a message through sending, sent, delivered, telling `url` each time."""
        self.submit(self._callbacks, sid, params, url)

    def _callbacks(self, sid: str, params: dict[str, str], url: str) -> None:
        for status in CALLBACK_STATUSES:
            time.sleep(self.callback_delay)
            with self.engine.begin() as conn:
                conn.execute(
                    update(sandbox_messages)
                    .where(sandbox_messages.c.sid == sid)
                    .values(status=status)
                )
            if not url:
                continue
            form = {**params, "SmsStatus": status, "MessageStatus": status}
            headers = {"X-Twilio-Signature": sign(url, form, self.auth_token)}
            try:
                requests.post(url, data=form, headers=headers, timeout=10)
            except requests.RequestException as exc:
                log.warning("sandbox status callback failed: %s", type(exc).__name__)


def _logged(fn, *args) -> None:  # noqa: ANN001
    try:
        fn(*args)
    except Exception:  # a thread's failure must show in the log, not vanish
        log.exception("sandbox background work failed")


def _sqlite_wal(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def blueprint(peer: SandboxPeer) -> Blueprint:
    """Return the sandbox's endpoints (Twilio's Messages API and the outbox) over `peer`."""
    bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", template_folder="templates")
    routes = (
        (API + "/Messages.json", create_message, "POST"),
        (API + "/Messages/<sid>.json", fetch_message, "GET"),
        ("/outbox.json", outbox_json, "GET"),
        ("/outbox", outbox_page, "GET"),
    )
    for rule, view, method in routes:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=bound(view, peer), methods=[method])
    sandbox_voice.add_routes(bp, peer, API)
    return bp


def twilio_error(status: int, code: int, message: str):
    """Answer as Twilio does when it refuses a request."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


def _authorised(peer: SandboxPeer, account_sid: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    token_ok = secrets.compare_digest(password, peer.auth_token)
    return user == account_sid and token_ok


def _valid_number(number: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _resource(row, account_sid: str) -> dict:
    """Return a message resource shaped like Twilio's JSON."""
    at = datetime.fromisoformat(row.at)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": row.body,
        "date_created": format_datetime(at),
        "date_sent": None,
        "date_updated": format_datetime(at),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": row.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(row.segments),
        "price": None,
        "price_unit": "USD",
        "sid": row.sid,
        "status": row.status,
        "subresource_uris": {},
        "to": row.to,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{row.sid}.json",
    }


def create_message(peer: SandboxPeer, account_sid: str):
    """Accept an outbound SMS like Twilio's Messages API, then report its delivery."""
    if not _authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    to = request.form.get("To", "").strip()
    sender = request.form.get("From", "").strip()
    body = request.form.get("Body", "")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if to in MAGIC_ERRORS or not _valid_number(to):
        code, message = MAGIC_ERRORS.get(to, (21211, f"The 'To' number {to} is not valid."))
        return twilio_error(400, code, message)
    if not sender:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body.encode("utf-16-le")) // 2 > MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    sid = "SM" + secrets.token_hex(16)
    callback = request.form.get("StatusCallback", "")
    row = {
        "sid": sid,
        "account_sid": account_sid,
        "to": to,
        "from_": sender,
        "body": body,
        "status": "queued",
        "segments": count_segments(body).segments,
        "status_callback": callback or None,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    with peer.engine.begin() as conn:
        conn.execute(sandbox_messages.insert().values(**row))
    params = {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": to,
        "MessageSid": sid,
        "SmsSid": sid,
    }
    peer.fire_callbacks(sid, params, callback)
    return jsonify(_resource(SimpleNamespace(**row), account_sid)), 201


def fetch_message(peer: SandboxPeer, account_sid: str, sid: str):
    """Return one message resource, as Twilio's fetch does."""
    if not _authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    with peer.engine.connect() as conn:
        row = conn.execute(select(sandbox_messages).where(sandbox_messages.c.sid == sid)).first()
    if row is None:
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return jsonify(_resource(row, account_sid))


def outbox_rows(peer: SandboxPeer, to: str | None = None, limit: int = 200) -> list[dict]:
    """Return the newest sent messages (oldest first), optionally to one number."""
    return [
        {
            "sid": r.sid,
            "to": r.to,
            "from": r.from_,
            "body": r.body,
            "status": r.status,
            "segments": r.segments,
            "at": r.at,
        }
        for r in sandbox_voice.newest(peer, sandbox_messages, to, limit)
    ]


def outbox_json(peer: SandboxPeer):
    """Return what the sandbox has sent: [{sid, to, from, body, status, segments, at}].

    `?kind=calls` answers the calls placed instead:
    [{sid, to, from, url, status, said, connected_to, dial_status, at}].
    """
    limit = min(max(request.args.get("limit", 200, type=int), 1), 1000)
    to = request.args.get("to") or None
    if request.args.get("kind") == "calls":
        return jsonify(sandbox_voice.call_rows(peer, to, limit))
    return jsonify(outbox_rows(peer, to, limit))


def outbox_page(peer: SandboxPeer):
    """Show what the sandbox has sent and the calls it placed, newest last."""
    to = request.args.get("to") or None
    return render_template(
        "sandbox/outbox.html",
        rows=outbox_rows(peer, to),
        calls=sandbox_voice.call_rows(peer, to),
        to=to,
    )


def create_app(config: dict | None = None):  # noqa: ANN201
    """Serve the sandbox alone, as its own process (as Twilio is to a deployed kanal).

    kanal then points KANAL_TWILIO_SANDBOX_URL at <this server>/sandbox/twilio.
    """
    from flask import Flask

    from router.config import from_env

    settings = {**from_env(), **(config or {})}
    app = Flask(__name__)
    app.register_blueprint(blueprint(SandboxPeer.from_config(settings)))
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app
