"""The Sender port over Twilio's Messages API, or over kanal's local Twilio-compatible sandbox."""

from __future__ import annotations

from router.adapters.twilio_rest import attempt, client_settings, rest_client
from router.service.ports import SendResult


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
        self.client = rest_client(account_sid, auth_token, sandbox_url=sandbox_url, timeout=timeout)
        self.from_number = from_number

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Create one message; map every failure to retry, uncertain or rejected."""
        sent = attempt(
            lambda: self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback
            )
        )
        if sent.outcome != "accepted":
            return SendResult(sent.outcome, error_code=sent.error_code, error=sent.error)
        message = sent.resource
        segments = int(message.num_segments) if message.num_segments else None
        return SendResult("accepted", provider_id=message.sid, segments=segments)


def sender_from_config(config) -> TwilioSmsSender:  # noqa: ANN001
    """Build the sender the configuration asks for: real Twilio or the local sandbox."""
    return TwilioSmsSender(**client_settings(config))
