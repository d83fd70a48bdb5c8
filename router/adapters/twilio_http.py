"""The Twilio library's HTTP client on kept-alive `http.client` connections, without requests.

Each SMS a turn sends is one POST to Twilio's Messages API. Through the library's own client
(`TwilioHttpClient`: requests and urllib3) that POST cost about 1.1 ms of the turn worker's
CPU on a loaded machine, most of it in requests preparing the request (its runtime-checked
protocols, cookie jars, hooks and adapters), not in the HTTP itself. This client speaks the
same contract to the library (`request(...) -> twilio.http.response.Response`) on one
kept-alive connection per thread and host, and raises requests' exceptions for what went
wrong, so `twilio_rest.attempt` tells a request that never left (refused, no connection in
time: safe to retry) from one that may have reached Twilio (lost midway, no answer in time)
exactly as it did.

A kept-alive connection the server has closed while idle is noticed before it is used (it
reads as ready: the server's end of the stream) and opened again, as urllib3 does; a request
is never sent twice.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
from base64 import b64encode
from logging import Logger
from urllib.parse import urlencode, urlsplit

import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import NewConnectionError


class KeptAliveHttpClient(HttpClient):
    """Send the library's requests on kept-alive connections (one per thread and host);
    `base_url` replaces `rewrite_from` (Twilio's API) in every URL: the local sandbox."""

    def __init__(
        self,
        logger: Logger,
        *,
        timeout: float,
        base_url: str | None = None,
        rewrite_from: str = "https://api.twilio.com",
        ca_bundle: str | None = None,
    ) -> None:
        super().__init__(logger, False, timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.rewrite_from = rewrite_from
        self.ca_bundle = ca_bundle
        self._tls: ssl.SSLContext | None = None
        self._local = threading.local()

    def request(  # noqa: PLR0913 - the library's signature
        self,
        method: str,
        uri: str,
        params: dict | None = None,
        data: dict | None = None,
        headers: dict | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.base_url and uri.startswith(self.rewrite_from):
            uri = self.base_url + uri[len(self.rewrite_from) :]
        url = urlsplit(uri)
        target = url.path or "/"
        query = "&".join(q for q in (url.query, urlencode(params or {}, doseq=True)) if q)
        if query:
            target += "?" + query
        sent = dict(headers or {})
        body = None
        if data:  # as requests: no body for none or an empty form
            if sent.get("Content-Type") in ("application/json", "application/scim+json"):
                body = json.dumps(data).encode()
            else:
                body = urlencode(data, doseq=True).encode()
                sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        seconds = timeout if timeout is not None else self.timeout
        connection = self._connection(url, seconds)
        try:
            connection.request(method.upper(), target, body=body, headers=sent)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", "replace")
        except TimeoutError as exc:  # it may have reached Twilio: never replayed blindly
            self._drop(url)
            raise requests.ReadTimeout(exc) from exc
        except (OSError, http.client.HTTPException) as exc:  # lost midway: the same
            self._drop(url)
            raise requests.ConnectionError(exc) from exc
        if answer.will_close:
            self._drop(url)
        return Response(answer.status, text, dict(answer.getheaders()))

    def _connection(self, url, seconds: float | None) -> http.client.HTTPConnection:  # noqa: ANN001
        """This thread's connection to the URL's host: the kept one if the server has not
        closed it, else a new one, connected now (so a refusal is known not to have sent)."""
        key = (url.scheme, url.hostname, url.port)
        kept: dict = self._local.__dict__.setdefault("connections", {})
        connection = kept.get(key)
        if connection is not None and connection.sock is not None and not _closed(connection.sock):
            connection.timeout = seconds
            connection.sock.settimeout(seconds)
            return connection
        if connection is not None:
            connection.close()
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=seconds, context=self._tls_context()
            )
        else:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=seconds)
        try:
            connection.connect()
        except TimeoutError as exc:  # no connection in time: nothing was sent
            raise requests.ConnectTimeout(exc) from exc
        except OSError as exc:  # refused, unreachable, unknown host: nothing was sent
            raise requests.ConnectionError(NewConnectionError(None, str(exc))) from exc
        kept[key] = connection
        return connection

    def _drop(self, url) -> None:  # noqa: ANN001
        connection = self._local.__dict__.get("connections", {}).pop(
            (url.scheme, url.hostname, url.port), None
        )
        if connection is not None:
            connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            if self.ca_bundle is None:
                import certifi  # requests' own default bundle

                self.ca_bundle = certifi.where()
            self._tls = ssl.create_default_context(cafile=self.ca_bundle)
        return self._tls


def _closed(sock: socket.socket) -> bool:
    """Whether an idle kept-alive connection was closed by the server (it reads as ready)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
