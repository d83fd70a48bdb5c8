"""What kanal's Twilio adapters share: the REST client (real Twilio or the local sandbox) and
the one rule for what a failed request means.

A request that certainly never reached Twilio (429, connection refused) is safe to retry; one
that may have reached it (timeout, 5xx, a connection lost midway) must never be replayed
blindly; any other 4xx is Twilio refusing it for good.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from router.adapters.twilio_http import KeptAliveHttpClient

# The library logs each request in five INFO lines; kanal logs the outcomes that matter itself.
http_log = logging.getLogger("kanal.twilio.http")

TWILIO_API = "https://api.twilio.com"


class SandboxHttpClient(TwilioHttpClient):
    """Send the Twilio library's requests to a local Twilio-compatible endpoint."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # noqa: ANN001, ANN201
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def rest_client(
    account_sid: str, auth_token: str, *, sandbox_url: str | None = None, timeout: float = 10.0
) -> Client:
    """Return a `twilio.rest.Client` speaking to Twilio, or to the sandbox at `sandbox_url`:
    on kept-alive connections of its own (router/adapters/twilio_http.py), or through
    requests when the environment names a proxy for it."""
    if http_log.level == logging.NOTSET:
        http_log.setLevel(logging.WARNING)
    target = sandbox_url or TWILIO_API
    if requests.utils.get_environ_proxies(target):
        if sandbox_url:
            http_client = SandboxHttpClient(sandbox_url, timeout=timeout, logger=http_log)
        else:
            http_client = TwilioHttpClient(timeout=timeout, logger=http_log)
        environment_read_once(http_client.session, target)
    else:
        http_client = KeptAliveHttpClient(
            http_log, timeout=timeout, base_url=sandbox_url, rewrite_from=TWILIO_API,
            ca_bundle=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
        )  # fmt: skip
    return Client(account_sid, auth_token, http_client=http_client)


def environment_read_once(session: requests.Session, url: str) -> None:
    """Read the proxy and CA bundle the environment sets for `url` once, not per request.

    requests looks them up again for every request of a session that trusts the environment
    (every proxy variable and the no-proxy list scanned: a tenth of an SMS's send); the
    environment of a running kanal does not change, so the session keeps what it said at
    start (the Twilio library passes its own credentials, so no netrc is read either way).
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class TwilioAdapter:
    """An adapter that sends or calls from the agency's number through Twilio's REST client
    (the SMS sender, the caller): built from `client_settings`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        sandbox_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.client = rest_client(account_sid, auth_token, sandbox_url=sandbox_url, timeout=timeout)
        self.from_number = from_number


def client_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments of an adapter from kanal's configuration.

    In sandbox mode the requests go to KANAL_TWILIO_SANDBOX_URL, else to the sandbox kanal
    serves itself under its public URL.
    """
    sandbox_url = None
    if config.get("KANAL_TWILIO_SANDBOX"):
        sandbox_url = config.get("KANAL_TWILIO_SANDBOX_URL") or (
            config["KANAL_PUBLIC_URL"].rstrip("/") + "/sandbox/twilio"
        )
    return {
        "account_sid": config["TWILIO_ACCOUNT_SID"],
        "auth_token": config["TWILIO_AUTH_TOKEN"],
        "from_number": config["TWILIO_FROM_NUMBER"],
        "sandbox_url": sandbox_url,
        "timeout": float(config.get("KANAL_TWILIO_TIMEOUT", 10.0)),
    }


@dataclass(frozen=True)
class TwilioAnswer:
    """One request to Twilio: the resource it created, or what its failure means."""

    outcome: str  # "accepted", "retry", "uncertain" or "rejected" (see router.service.ports)
    resource: Any = None
    error_code: str | None = None
    error: str | None = None


def attempt(create: Callable[[], Any]) -> TwilioAnswer:
    """Run one create request; map every failure to retry, uncertain or rejected."""
    try:
        return TwilioAnswer("accepted", create())
    except TwilioRestException as exc:
        code = str(exc.code) if exc.code is not None else None
        error = f"HTTP {exc.status}: {exc.msg}"[:250]
        if exc.status == 429:
            return TwilioAnswer("retry", error_code=code, error=error)
        if exc.status >= 500:
            return TwilioAnswer("uncertain", error_code=code, error=error)
        return TwilioAnswer("rejected", error_code=code, error=error)
    except requests.ConnectionError as exc:
        if _refused(exc):
            return TwilioAnswer("retry", error="connection refused")
        # The request may have reached Twilio before the connection broke.
        return TwilioAnswer("uncertain", error=f"connection lost: {type(exc).__name__}")
    except requests.Timeout:
        return TwilioAnswer("uncertain", error="timed out waiting for Twilio")


def _refused(exc: requests.ConnectionError) -> bool:
    """Return True when the connection was never made, so nothing can have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError) or isinstance(exc.args[0], NewConnectionError)
