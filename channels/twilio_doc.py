"""What Twilio's webhooks carry and what kanal answers them, for the API document.

The forms are Twilio's (its parameters keep Twilio's spelling); every webhook is signed, and
an answer to a forged one is 403 in plain text. The SMS webhooks' operations are here; the
phone's are in `ivr/voice_doc.py`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from router.openapi import Answer, Operation
from router.web import MAX_ID

TAGS = ("twilio",)
SIGNED = "twilioSignature"
TEXT = {"type": "string"}
TWIML = Answer("TwiML; empty `<Response/>`: replies go out through the REST API.", TEXT,
               "text/xml")  # fmt: skip
FORGED = Answer(
    "The X-Twilio-Signature does not match: the request is not from Twilio.", TEXT, "text/plain"
)


def plain(description: str) -> Answer:
    """Return a plain-text answer (Twilio's webhooks answer errors in plain text)."""
    return Answer(description, TEXT, "text/plain")


class TwilioInboundSms(BaseModel):
    MessageSid: str
    From: str
    AccountSid: str | None = None
    To: str | None = None
    Body: str | None = None
    NumSegments: str | None = None
    NumMedia: str | None = None


class TwilioStatus(BaseModel):
    MessageSid: str
    MessageStatus: str = Field(
        examples=["queued", "sending", "sent", "delivered", "undelivered", "failed", "read"]
    )
    ErrorCode: str | None = None


class StatusQuery(BaseModel):
    m: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(
        None, description="The message's id, as kanal asked for the callback."
    )


RECEIVE_SMS = Operation(
    "Inbound SMS webhook",
    TAGS,
    description="Signed by Twilio. The message is committed, then answered at once; a retried "
    "delivery (same I-Twilio-Idempotency-Token or MessageSid) is handled once. Only the first "
    "1,600 characters of Body (Twilio's maximum) are kept.",
    security=SIGNED,
    body=TwilioInboundSms,
    body_media="application/x-www-form-urlencoded",
    answers={200: TWIML, 400: plain("MessageSid or From is missing."), 403: FORGED},
)
DELIVERY_STATUS = Operation(
    "Outbound SMS status callback",
    TAGS,
    description="Signed by Twilio. Callbacks may arrive out of order; a message's delivery "
    "state never moves backwards. kanal asks for it with `?m=<message id>`.",
    security=SIGNED,
    query=StatusQuery,
    body=TwilioStatus,
    body_media="application/x-www-form-urlencoded",
    answers={
        204: Answer("Recorded; an older status than the one known is ignored."),
        400: plain("MessageSid or MessageStatus is missing, or `m` is not a message id."),
        403: FORGED,
    },
)
