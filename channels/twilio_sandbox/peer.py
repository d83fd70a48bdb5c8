"""The sandbox's store and the peer that plays Twilio's side in its own threads.

It stands in for Twilio itself, so it keeps its own store (an SQLite file under the instance
folder, shared by all web workers) and never touches the router's tables.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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

from channels.twilio_signature import sign

log = logging.getLogger(__name__)

CALLBACK_STATUSES = ("sending", "sent", "delivered")

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


def _voice_tables(metadata):  # noqa: ANN001, ANN201
    """Define the sandbox's voice tables on its metadata: calls, queue members, answers."""
    calls = Table(
        "sandbox_calls",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("sid", String(34), nullable=False, unique=True),
        Column("account_sid", String(64), nullable=False),
        Column("to", String(64), nullable=False),
        Column("from_", String(64), nullable=False),
        Column("url", Text),
        Column("twiml", Text),
        Column("status", String(16), nullable=False),
        Column("status_callback", Text),
        Column("events", String(64), nullable=False),
        Column("connected_to", String(80)),  # whom a <Dial> reached: client:…, a number, queue
        Column("dial_status", String(16)),
        Column("said", Text),  # what the call's TwiML said, for the outbox
        Column("duration", Integer),
        Column("at", String(32), nullable=False),
    )
    members = Table(
        "sandbox_queue_members",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("call_sid", String(64), nullable=False, unique=True),
        Column("queue", String(64), nullable=False),
        Column("state", String(16), nullable=False),  # queued | bridged | left
        Column("bridged_to", String(80)),
        Column("announce_url", Text),
        Column("at", String(32), nullable=False),
    )
    answers = Table(
        "sandbox_voice_answers",
        metadata,
        Column("number", String(64), primary_key=True),
        Column("answer", String(16), nullable=False),
        Column("remaining", Integer),  # None: always; else this many calls, then answer
    )
    return calls, members, answers


sandbox_calls, sandbox_queue_members, sandbox_voice_answers = _voice_tables(metadata)


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
        # Each callback thread keeps its connection to kanal open between callbacks (a new
        # connection and a `requests` session per callback cost the sandbox and kanal's web
        # server more than the callback itself).
        self._posters = threading.local()
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
                self._poster().post(url, form, headers, timeout=10)
            except (OSError, http.client.HTTPException) as exc:
                log.warning("sandbox status callback failed: %s", type(exc).__name__)

    def _poster(self) -> CallbackConnections:
        poster = getattr(self._posters, "poster", None)
        if poster is None:
            poster = self._posters.poster = CallbackConnections()
        return poster


class CallbackConnections:
    """One thread's HTTP connections, kept open between the form posts it makes."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, str], http.client.HTTPConnection] = {}

    def post(self, url: str, form: dict[str, str], headers: dict[str, str], timeout: float) -> int:
        """POST `form` to `url`; return the status. A kept connection that fails (the server
        closed it while idle) is replaced and the post made again on a new one; a status
        callback that arrived twice moves nothing twice."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        while True:
            connection = self._connections.get(key)
            fresh = connection is None
            if fresh:
                kind = http.client.HTTPSConnection if parts.scheme == "https" else None
                connection = (kind or http.client.HTTPConnection)(parts.netloc, timeout=timeout)
                self._connections[key] = connection
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                del self._connections[key]
                if fresh:
                    raise
                continue
            if response.will_close:
                connection.close()
                del self._connections[key]
            return response.status


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


def newest(peer: SandboxPeer, table: Table, to: str | None, limit: int) -> list:
    """Return the newest rows of an outbox table (oldest first), optionally to one number."""
    stmt = select(table).order_by(table.c.id.desc()).limit(limit)
    if to:
        stmt = stmt.where(table.c.to == to)
    with peer.engine.connect() as conn:
        return list(reversed(list(conn.execute(stmt))))
