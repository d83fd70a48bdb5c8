"""The desk API's request and response schemas, and its operations (docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from router.domain.presence import PresenceState
from router.domain.transfers import MAX_NOTE
from router.domain.wrapup import WRAP_UP_CODES, Outcome
from router.openapi import Answer, Error, FieldError, Operation
from router.web import MAX_ID

MAX_TEXT = 2000
OUTCOMES = tuple(o.value for o in Outcome)
STATUSES = tuple(s.value for s in PresenceState)
# Text a person wrote: no NUL character (PostgreSQL refuses it), something besides spaces.
TEXT = r"^[^\x00]*\S[^\x00]*$"


class ConversationPath(BaseModel):
    id: Annotated[int, Field(ge=0, le=MAX_ID)] = Field(description="The contact's id.")


class Exemption(BaseModel):
    ground: str = Field(description="The registered ground (docs/domain.md §2.5).")
    valid_from: date
    valid_until: date | None
    valid_now: bool


class Citizen(BaseModel):
    """What the desk may know of the citizen: the pseudonymous key and the register's facts
    the desk shows. Never a phone number or a name (they stay in the register)."""

    pseudonym: str
    language: str
    age_band: str | None
    exempt: bool
    exemptions: list[Exemption]


class TranscriptMessage(BaseModel):
    id: int
    author: Literal["citizen", "bot", "agent", "system"]
    direction: Literal["in", "out"]
    text: str
    at: datetime
    delivery_status: str | None = Field(description="How far an outbound message has gone.")


class Claimed(BaseModel):
    conversation_id: int
    channel: str
    queue: str | None
    wait_seconds: int
    citizen: Citizen | None = Field(description="None when the citizen is not identified.")
    transcript: list[TranscriptMessage]


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=TEXT)]


class Replied(BaseModel):
    message_id: int
    delivery_status: str | None
    sent: bool = Field(description="False when the citizen opted out of the channel (STOP).")


class Transfer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["queue"]}, {"required": ["agent"]}]},
    )
    queue: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        None, description="The queue it goes to (the agency's queues)."
    )
    agent: Annotated[str, Field(min_length=1, max_length=80)] | None = Field(
        None, description="The username of the agent it is offered to."
    )
    note: Annotated[str, Field(max_length=MAX_NOTE, pattern=r"^[^\x00]*$")] = Field(
        "", description="For the next person; kept with the transfer, not in the event log."
    )


class Transferred(BaseModel):
    conversation_id: int
    queue: str
    agent: str | None


class Resolve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wrap_up: Literal[WRAP_UP_CODES] = Field(description="What the agent did.")  # type: ignore[valid-type]
    outcome: Literal[OUTCOMES] = Field(description="How it ended for the citizen's need.")  # type: ignore[valid-type]


class Resolved(BaseModel):
    conversation_id: int
    state: Literal["closed"]


class CalledBack(BaseModel):
    conversation_id: int
    callback: Literal["calling", "booked", "failed"] = Field(
        description="calling: the citizen's phone rings (answered, they are put through to "
        "the agent); booked or failed: the call could not be placed."
    )


class SetPresence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[STATUSES]  # type: ignore[valid-type]


class PresenceNow(BaseModel):
    status: Literal[STATUSES]  # type: ignore[valid-type]
    since: datetime | None


UNAUTHORISED = Answer("No API token, or a token that is not valid, revoked or expired.", Error)
NOT_DESK = Answer("The token's user is not an agent, supervisor or admin.", Error)
REFUSED = Answer(
    "The access rule refuses it (another queue's or team's conversation, or one only the "
    "assistant had); the attempt is audited. Or the contact is someone else's.",
    Error,
)
NO_SUCH = Answer("No such contact.", Error)
BAD_BODY = Answer("The body is not as described; `field` names the culprit.", FieldError)
CONFLICT = Answer("The contact is closed, or not in a queue.", Error)
TAGS = ("desk",)

CLAIM = Operation(
    "Take the next conversation this agent may take",
    TAGS,
    description="The same rules as the desk's Take next: an offer to the agent first, else "
    "the best-ranked waiting contact of their queues, languages and channels with room "
    "(priority plus aging, oldest first). Taking work makes the agent available. The view "
    "is audited.",
    security="apiToken",
    answers={
        200: Answer("The conversation is now the agent's.", Claimed),
        204: Answer("Nothing waiting matches the agent."),
        401: UNAUTHORISED,
        403: NOT_DESK,
        409: Answer(
            "Busy: other claims at the same moment (the agent's own, from another tab, or "
            "items taken as they were looked at) kept this one from finishing; work may be "
            "waiting. Ask again after the Retry-After seconds.",
            Error,
        ),
    },
)
MESSAGES = Operation(
    "Answer the citizen on their own channel",
    TAGS,
    security="apiToken",
    path=ConversationPath,
    body=Reply,
    answers={
        201: Answer("Stored, and sent unless the citizen opted out.", Replied),
        400: BAD_BODY,
        401: UNAUTHORISED,
        403: REFUSED,
        404: NO_SUCH,
        409: CONFLICT,
        413: Answer("The body is larger than 64 KB.", Error),
    },
)
TRANSFER = Operation(
    "Transfer the conversation to another queue or agent, with a note",
    TAGS,
    description="To a queue: it waits there from now. To an agent: it is offered to them "
    "first, and goes to the queue's next agent when they do not take it in time.",
    security="apiToken",
    path=ConversationPath,
    body=Transfer,
    answers={
        200: Answer("Transferred.", Transferred),
        400: BAD_BODY,
        401: UNAUTHORISED,
        403: REFUSED,
        404: Answer("No such contact, queue or agent.", Error),
        409: CONFLICT,
        413: Answer("The body is larger than 64 KB.", Error),
    },
)
RESOLVE = Operation(
    "Close the conversation with its wrap-up code and outcome",
    TAGS,
    security="apiToken",
    path=ConversationPath,
    body=Resolve,
    answers={
        200: Answer("Closed.", Resolved),
        400: BAD_BODY,
        401: UNAUTHORISED,
        403: REFUSED,
        404: NO_SUCH,
        409: CONFLICT,
        413: Answer("The body is larger than 64 KB.", Error),
    },
)
CALL_BACK = Operation(
    "Call back now the citizen of a contact the agent took while it waited for its callback",
    TAGS,
    description="The desk's Call back now: the agent is held and the citizen's phone rings; "
    "when they answer, the call is put through to the agent.",
    security="apiToken",
    path=ConversationPath,
    answers={
        200: Answer("The call was placed, or could not be (the callback's state).", CalledBack),
        401: UNAUTHORISED,
        403: REFUSED,
        404: NO_SUCH,
        409: Answer(
            "The contact is not assigned to this agent, or no callback waits on it.", Error
        ),  # fmt: skip
    },
)
PRESENCE = Operation(
    "Say where the agent is: available, busy, away or offline",
    TAGS,
    security="apiToken",
    body=SetPresence,
    answers={
        200: Answer("The agent's presence now.", PresenceNow),
        400: BAD_BODY,
        401: UNAUTHORISED,
        403: NOT_DESK,
        409: Answer("That move is not possible (an offline agent cannot be busy).", Error),
        413: Answer("The body is larger than 64 KB.", Error),
    },
)
