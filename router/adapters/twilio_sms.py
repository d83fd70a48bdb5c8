"""The Sender port over Twilio's Messages API, or over kanal's local Twilio-compatible sandbox."""

from __future__ import annotations

from datetime import datetime

import requests
from twilio.base.exceptions import TwilioException

from router.adapters.twilio_rest import TwilioAdapter, attempt, client_settings
from router.service.ports import SendResult

# How many of a number's newest messages are read when asking whether one went.
LOOKUP_PAGE = 50


class TwilioSmsSender(TwilioAdapter):
    """Hand SMS to Twilio with `twilio.rest.Client` and say whether a retry is safe."""

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

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """Ask Twilio whether it took `body` for `to` since `since` (newest first, one page).

        None only when the page reaches back before `since` without it: a full page of
        newer messages, or a failed request, answers "uncertain".
        """
        try:  # a read: any failure only means it cannot be known now
            page = self.client.messages.list(to=to, from_=self.from_number, limit=LOOKUP_PAGE)
        except (TwilioException, requests.RequestException) as exc:
            return SendResult("uncertain", error=f"could not ask Twilio: {exc}"[:250])
        newer = [m for m in page if m.date_created is None or m.date_created >= since]
        for message in newer:
            if message.body == body:
                segments = int(message.num_segments) if message.num_segments else None
                return SendResult("accepted", provider_id=message.sid, segments=segments)
        if len(newer) >= LOOKUP_PAGE:
            return SendResult("uncertain", error="more messages to this number than one page")
        return None


def sender_from_config(config) -> TwilioSmsSender:  # noqa: ANN001
    """Build the sender the configuration asks for: real Twilio or the local sandbox."""
    return TwilioSmsSender(**client_settings(config))
