"""The SmsSender port over Twilio's REST API, or over kanal's local Twilio-compatible sandbox."""

from __future__ import annotations

import logging

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from router.service.ports import SendResult

log = logging.getLogger(__name__)
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


def _refused(exc: requests.ConnectionError) -> bool:
    """Return True when the connection was never made, so nothing can have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError) or isinstance(exc.args[0], NewConnectionError)


class TwilioSmsSender:
    """Hand SMS to Twilio with `twilio.rest.Client` and say whether a retry is safe."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        sandbox_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if http_log.level == logging.NOTSET:
            http_log.setLevel(logging.WARNING)
        if sandbox_url:
            http_client = SandboxHttpClient(sandbox_url, timeout=timeout, logger=http_log)
        else:
            http_client = TwilioHttpClient(timeout=timeout, logger=http_log)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Create one message; map every failure to retry, uncertain or rejected."""
        try:
            message = self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback
            )
        except TwilioRestException as exc:
            return self._failed(exc)
        except requests.ConnectionError as exc:
            if _refused(exc):
                return SendResult("retry", error="connection refused")
            # The request may have reached Twilio before the connection broke.
            return SendResult("uncertain", error=f"connection lost: {type(exc).__name__}")
        except requests.Timeout:
            return SendResult("uncertain", error="timed out waiting for Twilio")
        segments = int(message.num_segments) if message.num_segments else None
        return SendResult("accepted", provider_id=message.sid, segments=segments)

    @staticmethod
    def _failed(exc: TwilioRestException) -> SendResult:
        code = str(exc.code) if exc.code is not None else None
        error = f"HTTP {exc.status}: {exc.msg}"[:250]
        if exc.status == 429:
            return SendResult("retry", error_code=code, error=error)
        if exc.status >= 500:
            return SendResult("uncertain", error_code=code, error=error)
        return SendResult("rejected", error_code=code, error=error)


def sender_from_config(config) -> TwilioSmsSender:  # noqa: ANN001
    """Build the sender the configuration asks for: real Twilio or the local sandbox."""
    sandbox_url = None
    if config.get("KANAL_TWILIO_SANDBOX"):
        sandbox_url = config.get("KANAL_TWILIO_SANDBOX_URL") or (
            config["KANAL_PUBLIC_URL"].rstrip("/") + "/sandbox/twilio"
        )
    return TwilioSmsSender(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        config["TWILIO_FROM_NUMBER"],
        sandbox_url=sandbox_url,
        timeout=float(config.get("KANAL_TWILIO_TIMEOUT", 10.0)),
    )
