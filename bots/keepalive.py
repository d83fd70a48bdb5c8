"""The bot client's HTTP: kept-alive connections to Rasa, at most as many as the bulkhead lets
calls through at once, and nothing more than a call needs.

`requests` spent about 1 ms of CPU on each call to Rasa (a GET of /status measured here:
requests 0.96 ms, the standard library's `http.client` 0.15 ms) in a chat turn whose whole
budget beside Rasa is a few milliseconds. So the client speaks HTTP/1.1 with `http.client`
over connections it keeps open: a call takes an idle connection (one the server has closed
meanwhile is dropped, never reused), and gives it back when the answer has been read. Calls
are bounded by the bot's bulkhead (bots/bulkhead.py), so no more than `keep` connections are
ever kept idle: the bulkhead's size.

Failures are raised as `requests`' exceptions (`Timeout`, `ConnectionError`), the ones the bot
client sorts outcomes by, and an answer has `status_code` and `json()` as a
`requests.Response` has. Like `requests` without retries, a call is never sent twice.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class HttpAnswer:
    """What the server answered: its status and body."""

    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.content = body

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return json.loads(self.content)


class _Connection(http.client.HTTPConnection):
    """An HTTP connection that sends at once: `http.client` writes the headers and the body
    in two writes, and with Nagle's algorithm on, the body would wait for the server's
    delayed ACK of the headers (40 ms on Linux), as urllib3 avoids with TCP_NODELAY too."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TlsConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class KeptAlive:
    """HTTP/1.1 calls to one server over connections kept open between calls (thread-safe)."""

    def __init__(self, base_url: str, keep: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._connection = _TlsConnection if parts.scheme == "https" else _Connection
        self.host = parts.hostname
        self.port = parts.port
        self.keep = max(1, keep)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, url: str, json: Any, timeout: float) -> HttpAnswer:  # noqa: A002 - as requests
        """POST `json` to `url`; `timeout` bounds the connect and each read, as requests'."""
        return self._call("POST", url, _dumps(json), timeout)

    def get(self, url: str, timeout: float) -> HttpAnswer:
        return self._call("GET", url, None, timeout)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _call(self, method: str, url: str, body: bytes | None, timeout: float) -> HttpAnswer:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._take(timeout)
        try:
            conn.request(method, path, body=body, headers=HEADERS if body is not None else {})
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            conn.close()
            raise requests.Timeout(f"{method} {parts.path}: timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise requests.ConnectionError(f"{method} {parts.path}: {type(exc).__name__}") from exc
        if response.will_close:
            conn.close()
        else:
            self._give(conn)
        return HttpAnswer(response.status, content)

    def _take(self, timeout: float) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connection(self.host, self.port, timeout=timeout)
            if _still_open(conn):
                conn.timeout = timeout
                conn.sock.settimeout(timeout)
                return conn
            conn.close()

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(conn)
                return
        conn.close()


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can carry another call: a socket the server has closed (or
    that has anything unasked for to read) reads as ready."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not ready


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
