"""The Caller port over Twilio's Calls API, or over kanal's local Twilio-compatible sandbox."""

from __future__ import annotations

import logging

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from router.adapters.twilio_sms import SandboxHttpClient, _refused, http_log
from router.service.ports import CallResult

log = logging.getLogger(__name__)

# The call's progress kanal wants to hear about (Twilio's default is "completed" only).
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioCaller:
    """Place calls with `twilio.rest.Client.calls.create` and say whether a retry is safe."""

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

    def place(self, to: str, *, url: str, status_callback: str) -> CallResult:
        """Create one call; map every failure to retry, uncertain or rejected."""
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.from_number,
                url=url,
                status_callback=status_callback,
                status_callback_event=STATUS_EVENTS,
            )
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code is not None else None
            error = f"HTTP {exc.status}: {exc.msg}"[:250]
            if exc.status == 429:
                return CallResult("retry", error_code=code, error=error)
            if exc.status >= 500:
                return CallResult("uncertain", error_code=code, error=error)
            return CallResult("rejected", error_code=code, error=error)
        except requests.ConnectionError as exc:
            if _refused(exc):
                return CallResult("retry", error="connection refused")
            return CallResult("uncertain", error=f"connection lost: {type(exc).__name__}")
        except requests.Timeout:
            return CallResult("uncertain", error="timed out waiting for Twilio")
        return CallResult("accepted", call_sid=call.sid)


def caller_from_config(config) -> TwilioCaller:  # noqa: ANN001
    """Build the caller the configuration asks for: real Twilio or the local sandbox."""
    sandbox_url = None
    if config.get("KANAL_TWILIO_SANDBOX"):
        sandbox_url = config.get("KANAL_TWILIO_SANDBOX_URL") or (
            config["KANAL_PUBLIC_URL"].rstrip("/") + "/sandbox/twilio"
        )
    return TwilioCaller(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        config["TWILIO_FROM_NUMBER"],
        sandbox_url=sandbox_url,
        timeout=float(config.get("KANAL_TWILIO_TIMEOUT", 10.0)),
    )
