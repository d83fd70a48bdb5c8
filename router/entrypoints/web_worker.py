"""`kanal web`'s gunicorn worker: gthread, whose loop answers signed inbound SMS webhooks on
kept-alive connections itself, once their messages are committed.

Under gthread every request goes from the loop to a request thread and back, and an SMS
webhook held its thread while its message was committed (router/adapters/inbox.py commits
the messages of many webhooks in one transaction): at 32 connections every thread of a
worker waited at once, and they woke together to fight for the interpreter. gunicorn's
parser and Flask then took about three times as long per request as with nothing to wait
for, and a durable acknowledgement cost about half of what bare Flask serves.

Here, when a kept-alive connection becomes readable, the loop peeks at the request line;
any other route (a chat message, a page) goes to a request thread unread, as under gthread.
What may be an SMS webhook the loop reads. If it is one whole `POST /twilio/sms` of the
plainest kind (HTTP/1.1, a Content-Length body, no Expect, no Transfer-Encoding, no repeated
header, nothing after it) and the SMS lane
takes it (a form Twilio signed for this URL, not a keyword: channels/sms_lane.py `take`),
its message goes to the inbox's writer and the loop goes on to other connections; when the
batch holding it has committed, the loop writes the acknowledgement and keeps the
connection alive, as gthread would have. A request whose body is still on its way (a
client that sends the headers and the body apart) waits in the loop for the rest, a second
at most. Everything else, and a webhook whose commit failed, is handed to a request thread
as before with the bytes read so far put back in front of gunicorn's parser, which parses
it, and the app answers (a 503 while the database is down). No request thread waits for a
commit.

`gunicorn --worker-class router.entrypoints.web_worker.WebWorker` (`kanal web`).
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from router.web import SERVER_LANES

SMS_PATH = "/twilio/sms"
REQUEST_LINE = f"POST {SMS_PATH} HTTP/1.1".encode()
MAX_HEAD = 8190  # bytes of request line and headers read here at most (gunicorn's maximum)
MAX_READ = 64 * 1024 + MAX_HEAD
MORE = "more"  # plain_request: the request may be plain, but has not all arrived yet
REST_WITHIN = 1.0  # seconds the loop waits for the rest of a request; then a thread reads it
# Headers that ask more of the server than a body of known length: left to gunicorn.
LEFT_TO_GUNICORN = frozenset({"transfer-encoding", "expect", "upgrade", "http2-settings"})


def plain_request(data: bytes):  # noqa: ANN201 - a tuple, MORE or None
    """(headers in lower case, body, the request's length in bytes) when `data` is exactly
    one whole `POST /twilio/sms HTTP/1.1` with a Content-Length body and nothing unusual;
    MORE when it may become one as more arrives; None for anything else (gunicorn's parser
    reads that)."""
    line = REQUEST_LINE + b"\r\n"
    if not data.startswith(line):
        return MORE if data and line.startswith(data) else None
    end = data.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
    if end < 0:
        return MORE if len(data) < MAX_HEAD else None
    headers: dict[str, str] = {}
    for line in data[len(REQUEST_LINE) + 2 : end].decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        key = name.lower()
        if not colon or not name or name != name.strip() or key in headers:
            return None
        headers[key] = value.strip(" \t")
    length = headers.get("content-length", "")
    if (
        not length.isdigit()
        or LEFT_TO_GUNICORN.intersection(headers)
        or headers.get("connection", "keep-alive").lower() != "keep-alive"
    ):
        return None
    total = end + 4 + int(length)
    if len(data) < total:  # part of the body still on its way
        return MORE if total <= MAX_READ else None
    if len(data) > total:  # a request pipelined behind it
        return None
    return headers, data[end + 4 :], total


class WebWorker(ThreadWorker):
    """gunicorn's gthread worker whose loop acknowledges SMS webhooks (see the module)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - gunicorn's
        super().__init__(*args, **kwargs)
        self._lane: object | None = None
        self._lane_looked_up = False
        self._waiting_rest: dict[object, tuple[bytes, float]] = {}  # conn: (read, until)
        self._answered: list[tuple[object, bytes, float, bool]] = []  # (conn, read, t0, ok)
        self._answered_lock = threading.Lock()
        self._wake_owed = False
        self._date = (0, b"")

    # -- the loop ---------------------------------------------------------------------------

    def on_client_socket_readable(self, conn, client) -> None:  # noqa: ANN001 - gthread's
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_in_loop(conn, b"")

    def _rest_arrived(self, conn, client) -> None:  # noqa: ANN001
        self.poller.unregister(client)
        data, _ = self._waiting_rest.pop(conn)
        self._read_in_loop(conn, data)

    def _read_in_loop(self, conn, data: bytes) -> None:  # noqa: ANN001
        """Hand a plain signed SMS webhook to the SMS lane, wait for the rest of one, or give
        the connection to a request thread with what was read put back."""
        lane = self._sms_lane()
        if lane is None or conn.is_http2 or conn.parser.unreader.buf.getvalue():
            self._to_a_thread(conn, data)
            return
        if not data and not _may_be_sms(conn.sock):
            self._to_a_thread(conn, data)  # another route: gunicorn reads it untouched
            return
        try:
            chunk = conn.sock.recv(MAX_READ - len(data))
        except BlockingIOError:
            chunk = None  # nothing after all
        except OSError:
            chunk = b""
        if chunk == b"":  # closed, or an error: the thread meets it and closes
            self._to_a_thread(conn, data)
            return
        data += chunk or b""
        plain = plain_request(data)
        if plain == MORE:
            self._waiting_rest[conn] = (data, time.monotonic() + REST_WITHIN)
            readable = partial(self._rest_arrived, conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, readable)
            return
        if plain is None:
            self._to_a_thread(conn, data)
            return
        headers, body, _ = plain
        done = partial(self._committed, conn, data, time.monotonic())
        try:
            taken = lane.take(headers, body, done)
        except Exception:
            self.log.exception("the SMS lane failed on a webhook; a thread answers it")
            taken = False
        if not taken:
            self._to_a_thread(conn, data)

    def _to_a_thread(self, conn, data: bytes) -> None:  # noqa: ANN001
        """gthread's way: a request thread parses the request, `data` read first."""
        if data:
            conn.parser.unreader.unread(data)
        self.enqueue_req(conn)

    def murder_keepalived(self, force: bool = False) -> None:
        """gthread's, and a request whose rest has not come in time goes to a thread."""
        super().murder_keepalived(force)
        now = time.monotonic()
        late = [c for c, (_, by) in self._waiting_rest.items() if by <= now or force]
        for conn in late:
            data, _ = self._waiting_rest.pop(conn)
            self.poller.unregister(conn.sock)
            self._to_a_thread(conn, data)

    def _sms_lane(self):  # noqa: ANN202
        if not self._lane_looked_up:
            self._lane_looked_up = True
            lanes = getattr(self.wsgi, "extensions", {}).get(SERVER_LANES, {})
            self._lane = lanes.get(SMS_PATH)
        return self._lane

    def _committed(self, conn, data: bytes, started: float, ok: bool) -> None:  # noqa: ANN001
        """The lane's word on a webhook (any thread): the loop answers it on its next turn."""
        with self._answered_lock:
            self._answered.append((conn, data, started, ok))
            wake, self._wake_owed = not self._wake_owed, True
        if wake:
            self.method_queue.defer(self._answer_committed)

    def _answer_committed(self) -> None:
        """In the loop: acknowledge each committed webhook; the others go to a thread."""
        with self._answered_lock:
            answered, self._answered, self._wake_owed = self._answered, [], False
        for conn, data, started, ok in answered:
            if ok:
                self._acknowledge(conn, started)
            else:  # gunicorn reads it again, and the app answers
                self._to_a_thread(conn, data)

    def _acknowledge(self, conn, started: float) -> None:  # noqa: ANN001
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        keep = self.alive and len(self.keepalived_conns) < self.max_keepalived
        sent = False
        try:
            _send_all(conn.sock, self._response(keep))
            sent = True
        except OSError as exc:  # the client went away: Twilio sends it again, stored once
            self.log.debug("an SMS webhook's acknowledgement could not be sent: %s", exc)
            keep = False
        self._log_access(started, 200 if sent else 499)
        if not keep:
            self.nr_conns -= 1
            conn.close()
            return
        conn.set_timeout()  # kept alive, as gthread's finish_request keeps it
        self.keepalived_conns.append(conn)
        readable = partial(self.on_client_socket_readable, conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, readable)

    def _response(self, keep: bool) -> bytes:
        status, headers, body = self._lane.answer_of()  # type: ignore[union-attr]
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, util.http_date(now).encode())
        head = [
            f"HTTP/1.1 {status}".encode(),
            b"Server: gunicorn",
            b"Date: " + self._date[1],
            b"Connection: keep-alive" if keep else b"Connection: close",
            *(f"{name}: {value}".encode("latin-1") for name, value in headers),
        ]
        return b"\r\n".join(head) + b"\r\n\r\n" + body

    def _log_access(self, started: float, status: int) -> None:
        line: Callable | None = getattr(self.log, "access_line", None)
        if line is not None:
            line("POST", SMS_PATH, status, (time.monotonic() - started) * 1000)


def _may_be_sms(sock: socket.socket) -> bool:
    """Whether what has arrived may begin an SMS webhook's request line (peeked, not read):
    any other request (a chat message, a page) is left to gunicorn without a read and a
    put-back in the loop."""
    line = REQUEST_LINE + b"\r\n"
    try:
        start = sock.recv(len(line), socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return True  # nothing yet after all: the read below finds out
    except OSError:
        return True  # the read below meets the error and hands it to a thread
    return not start or line.startswith(start)


def _send_all(sock: socket.socket, data: bytes) -> None:
    """Send it all on a non-blocking socket (an acknowledgement fits its buffer nearly
    always; else wait for the rest, briefly)."""
    try:
        sent = sock.send(data)
    except BlockingIOError:
        sent = 0
    if sent < len(data):
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            sock.sendall(data[sent:])
        finally:
            sock.setblocking(False)
