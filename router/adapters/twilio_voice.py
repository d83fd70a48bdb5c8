"""The Caller port over Twilio's Calls API, or over kanal's local Twilio-compatible sandbox."""

from __future__ import annotations

from router.adapters.twilio_rest import TwilioAdapter, attempt, client_settings
from router.service.ports import CallResult

# The call's progress kanal wants to hear about (Twilio's default is "completed" only).
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioCaller(TwilioAdapter):
    """Place calls with `twilio.rest.Client.calls.create` and say whether a retry is safe."""

    def place(self, to: str, *, url: str, status_callback: str) -> CallResult:
        """Create one call; map every failure to retry, uncertain or rejected."""
        placed = attempt(
            lambda: self.client.calls.create(
                to=to,
                from_=self.from_number,
                url=url,
                status_callback=status_callback,
                status_callback_event=STATUS_EVENTS,
            )
        )
        if placed.outcome != "accepted":
            return CallResult(placed.outcome, error_code=placed.error_code, error=placed.error)
        return CallResult("accepted", call_sid=placed.resource.sid)


def caller_from_config(config) -> TwilioCaller:  # noqa: ANN001
    """Build the caller the configuration asks for: real Twilio or the local sandbox."""
    return TwilioCaller(**client_settings(config))
