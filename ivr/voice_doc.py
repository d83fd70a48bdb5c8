"""What the phone's webhooks carry and answer, for the API document (ivr/voice.py, legs.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from channels.twilio_doc import FORGED, SIGNED, TAGS, TWIML, plain
from router.openapi import Answer, Operation
from router.web import MAX_ID

Id = Annotated[int, Field(ge=0, le=MAX_ID)]


class TwilioVoice(BaseModel):
    """The form of Twilio's voice requests (the fields kanal reads)."""

    CallSid: str
    AccountSid: str | None = None
    From: str | None = None
    To: str | None = None
    CallStatus: str | None = None
    Direction: str | None = None
    SpeechResult: str | None = None
    Confidence: str | None = None
    Digits: str | None = None
    QueueResult: str | None = None
    QueueTime: str | None = None
    QueuePosition: str | None = None
    CallDuration: str | None = None


class TwilioCallStatus(BaseModel):
    CallSid: str
    CallStatus: str = Field(examples=["initiated", "ringing", "in-progress", "completed", "busy",
                                      "no-answer", "failed", "canceled"])  # fmt: skip
    From: str | None = None
    To: str | None = None
    Direction: str | None = Field(None, examples=["outbound-api"])
    AccountSid: str | None = None


class CallState(BaseModel):
    """The call's state, in the query of the URLs kanal hands Twilio (which Twilio signs)."""

    c: Id | None = Field(None, description="The call's contact id.")
    l: str | None = Field(None, description="The call's language (`da`, `en`, ...).")  # noqa: E741
    k: str | None = Field(None, description="1 when the caller's number is in the register.")
    t: Id | None = Field(None, description="Re-prompts after not being understood.")
    s: Id | None = Field(None, description="Prompts met by silence.")
    n: Id | None = Field(None, description="Inputs so far (makes each turn's id unique).")


class Language(BaseModel):
    l: str | None = Field(None, description="The caller's language.")  # noqa: E741


class ContactPath(BaseModel):
    contact_id: Id


class CallbackPath(BaseModel):
    callback_id: Id


class CallStatusQuery(BaseModel):
    callback: Id | None = Field(None, description="The callback whose call this is.")
    contact: Id | None = Field(None, description="The contact whose agent leg this is.")


_NOT_FOUND = {404: plain("No such URL (an id past 64 bits names nothing).")}


def step(summary: str, description: str, query: type[BaseModel] | None = CallState,
         path: type[BaseModel] | None = None, ended: bool = False) -> Operation:  # fmt: skip
    """Return the operation of one of the call flow's webhooks."""
    answers = {
        200: TWIML,
        400: plain("A required field is missing or the URL's call state is malformed."),
        403: FORGED,
    }
    if ended:
        answers = {204: Answer("Recorded."), **{k: v for k, v in answers.items() if k != 200}}
    if path is not None:
        answers.update(_NOT_FOUND)
    return Operation(
        summary, TAGS, description="Signed by Twilio. " + description, security=SIGNED,
        query=query, path=path, body=TwilioVoice,
        body_media="application/x-www-form-urlencoded", answers=answers,
    )  # fmt: skip


INCOMING = step(
    "Incoming call",
    "The caller is identified by number from the register and greeted in their language (or "
    "asked to choose one of KANAL_VOICE_LANGUAGES); the answer gathers speech and keys.",
    query=None,
)
STEPS = {
    "language": step("Call step: language chosen",
                     "Digits pick one of the offered languages; 0 asks for a person."),
    "heard": step("Call step: what the caller said or pressed",
                  "SpeechResult (with Confidence) or Digits go through the turn (policy and "
                  "bot); a keypad digit stands for a need; 0 or a person word reaches a person; "
                  "low confidence or silence is asked again once, then a person."),
    "more": step("Call step: anything else?",
                 "After a self-service answer: another question, no (goodbye) or a person."),
    "offer": step("Call step: the digital route offered",
                  "1 or yes texts the link through the SMS channel (never to a number that sent "
                  "STOP); 2, no or 0 reaches a person."),
    "rating": step("Call step: the keypad rating",
                   "After a self-service answer, for the share of calls surveyed "
                   "(KANAL_SURVEY_SHARE, with voice in KANAL_SURVEY_CHANNELS): Digits 1-5 record "
                   "the caller's satisfaction (5 very satisfied); anything else says goodbye."),
    "pending": step("Call step: a callback booked before",
                    "A caller with a callback still to be made hears when it calls: 1 keeps it "
                    "(goodbye), 2 cancels it, anything else goes on to the question; 0 reaches "
                    "a person."),
    "wait-choice": step("Queue: callback chosen",
                        "1 books a callback (the caller keeps their place) and leaves the "
                        "queue."),
}  # fmt: skip
WAIT = step("Queue wait URL", "Position and estimated wait from kanal's queue; after "
            "KANAL_VOICE_CALLBACK_OFFER_SECONDS, press 1 for a callback.")  # fmt: skip
QUEUED = step(
    "Enqueue action: how the wait ended",
    "QueueResult bridged, leave, hangup (abandoned), queue-full, error, system-error.",
)
STATUS = step(
    "Call status callback",
    "How the call ended: completed, busy, no-answer, failed, canceled; a caller who hung up "
    "while waiting abandoned the queue.",
    query=None,
    ended=True,
)
AGENT_LEG = step("Agent leg", "TwiML for the agent's leg: <Dial><Queue> the contact's own "
                 "queue `contact-<id>`.", query=None, path=ContactPath)  # fmt: skip
CONNECTING = step("Said before the adviser is bridged",
                  "\"You are now connected to an adviser\" in the caller's language (`l`).",
                  query=Language)  # fmt: skip
CALLBACK_ANSWERED = Operation(
    "A citizen answered a callback",
    TAGS,
    description="Signed by Twilio: the `Url` of a callback call kanal placed. Says who is "
    "calling in the citizen's language, assigns the contact to the agent held for the callback "
    "and connects the call to them (`<Dial><Client>`); a callback no longer waiting for this "
    "call apologises and hangs up.",
    security=SIGNED,
    path=CallbackPath,
    body=TwilioCallStatus,
    body_media="application/x-www-form-urlencoded",
    answers={
        200: Answer("TwiML: `<Say>` then `<Dial>`.", {"type": "string"}, "text/xml"),
        400: plain("CallSid is missing."),
        403: FORGED,
        404: plain("No such callback."),
    },  # fmt: skip
)
CALL_STATUS = Operation(
    "Outbound call status callback",
    TAGS,
    description="Signed by Twilio. Status callbacks of the calls kanal places: callbacks "
    "(`?callback=<id>`: busy, no-answer, failed or canceled ends the attempt; it is retried or "
    "the callback lands on the desk's failed list) and the desk's agent legs (`?contact=<id>`). "
    "Callbacks may arrive out of order; a status of an older call is ignored.",
    security=SIGNED,
    query=CallStatusQuery,
    body=TwilioCallStatus,
    body_media="application/x-www-form-urlencoded",
    answers={
        204: Answer("Recorded."),
        400: plain("CallSid or CallStatus is missing, or `callback`/`contact` is not an id."),
        403: FORGED,
        404: plain("No such callback."),
    },  # fmt: skip
)
