"""The chat API's requests and answers: the models the views check and the document shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from router.openapi import Answer, Error, FieldError, Operation
from router.web import MAX_ID

MAX_TEXT = 2000
# Text a database stores: no NUL character; a message also needs one visible character.
_STORABLE = r"^[^\x00]*$"
VISIBLE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_MESSAGE = rf"^[^\x00]*{VISIBLE}[^\x00]*$"


class StartSession(BaseModel):
    """Open a chat session, optionally for a citizen the agency's portal signed in."""

    identity: str | None = Field(
        None,
        description="A signed citizen identity from the agency's portal; empty or null: none.",
    )
    language: str | None = Field(
        None,
        description="The language the citizen chose (ISO 639-1, one the agency serves); the "
        "conversation starts in it unless the register says otherwise. Null or absent: not "
        "chosen (kanal finds the language from the register or the first message).",
    )


class Session(BaseModel):
    session_id: str
    token: str


class NewMessage(BaseModel):
    text: Annotated[str, Field(pattern=_MESSAGE, max_length=MAX_TEXT)]
    client_id: Annotated[str, Field(pattern=_STORABLE)] | None = Field(
        None, description="Makes a resent message count once."
    )


class Message(BaseModel):
    id: Annotated[int, Field(ge=0, le=MAX_ID)]
    author: Literal["citizen", "bot", "agent", "system"]
    text: str
    at: datetime


class Messages(BaseModel):
    messages: list[Message]
    state: Literal["bot", "queued", "assigned", "closed"]
    language: str | None = Field(
        description="The conversation's language (ISO 639-1) once kanal knows it."
    )


class SurveyAnswer(BaseModel):
    score: Annotated[int, Field(ge=1, le=5)] | None = Field(
        description="5 very satisfied ... 1 very dissatisfied; null declines."
    )


class SurveyOption(BaseModel):
    score: Annotated[int, Field(ge=1, le=5)]
    label: str


class Survey(BaseModel):
    state: Literal["none", "asked", "answered", "declined"]
    language: str | None = None
    question: str | None = None
    options: list[SurveyOption] | None = None
    decline: str | None = None
    thanks: str | None = None
    score: Annotated[int, Field(ge=1, le=5)] | None = None


class WidgetTexts(BaseModel):
    language: str
    texts: dict[str, str] = Field(
        description="Each English message id of the widget and its translation."
    )


class SessionPath(BaseModel):
    session_id: str


class Cursor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    after: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(
        None, description="Answer only messages with a greater id (the last id the client has)."
    )


class LanguagePath(BaseModel):
    language: str = Field(description="ISO 639-1 code (a regional tag such as da-DK is accepted).")


_TAGS = ("web chat",)
_UNAUTHORISED = {401: Answer("Missing or wrong session token.", Error),
                 404: Answer("No such chat session.", Error)}  # fmt: skip
_TOO_BIG = {413: Answer("The body is larger than 64 KB.", Error)}
_CURSOR = {400: Answer("`after` is not an integer from 0 to 2^63 - 1.", Error)}
# The stateful phase of schemathesis (and a reader) follows a new session to its routes.
_SESSION = {
    "session_id": "$response.body#/session_id",
    "header.Authorization": "Bearer {$response.body#/token}",
}
_LINKS = {
    201: {
        name: {"operationId": target, "parameters": _SESSION}
        for name, target in (
            ("PostMessage", "post_webchat_post_message"),
            ("ListMessages", "get_webchat_list_messages"),
            ("Survey", "get_webchat_survey"),
            ("AnswerSurvey", "post_webchat_answer_survey"),
        )
    }
}

START = Operation(
    "Open a chat session",
    _TAGS,
    body=StartSession,
    body_required=False,
    answers={
        201: Answer("The session and the token that guards it (shown once).", Session),
        400: Answer(
            "The body is not a JSON object, a field is not a string (or null), the identity "
            "is not signed, or the language is not one the agency serves.",
            FieldError,
        ),
        **_TOO_BIG,
    },
    links=_LINKS,
)
POST_MESSAGE = Operation(
    "Send the citizen's message; answer what the citizen should see now",
    _TAGS,
    security="chatSession",
    path=SessionPath,
    body=NewMessage,
    answers={
        200: Answer("The messages since this one and the conversation's state.", Messages),
        400: Answer(
            'Not JSON like {"text": ...}, empty text, text with a NUL character or not valid '
            "Unicode (a lone surrogate), or text over 2,000 characters (then `limit` is given).",
            FieldError,
        ),
        **_UNAUTHORISED,
        409: Answer("The conversation has ended; start a new session.", Error),
        **_TOO_BIG,
    },
)
LIST_MESSAGES = Operation(
    "Answer the messages after a cursor and the conversation's state",
    _TAGS,
    security="chatSession",
    path=SessionPath,
    query=Cursor,
    answers={
        200: Answer("Messages after the cursor, oldest first.", Messages),
        **_CURSOR,
        **_UNAUTHORISED,
    },  # fmt: skip
)
STREAM = Operation(
    "Push new messages and state changes (server-sent events)",
    _TAGS,
    description="Events `message` (data: a Message, id: its id) and `state` "
    '(data: {"state", "language"}); `Last-Event-ID` or `after` resumes. The stream ends when '
    "the conversation closes, or after 55 seconds (the client reconnects).",
    security="chatSession",
    path=SessionPath,
    query=Cursor,
    answers={
        200: Answer("An event stream.", {"type": "string"}, "text/event-stream"),
        **_CURSOR,
        **_UNAUTHORISED,
        503: Answer("Too many live streams in this process now; poll instead.", Error),
    },
)
SURVEY = Operation(
    "The satisfaction question, once the conversation has ended",
    _TAGS,
    description="Asked once, of the share of conversations the agency asks "
    "(KANAL_SURVEY_SHARE), in the conversation's language: GOV.UK's 5-point scale, very "
    "satisfied (5) first. `state` is none (not asked), asked, answered or declined "
    "(docs/domain.md §4.5).",
    security="chatSession",
    path=SessionPath,
    answers={200: Answer("The survey as it stands.", Survey), **_UNAUTHORISED},
)
ANSWER_SURVEY = Operation(
    "Answer the satisfaction question (once)",
    _TAGS,
    security="chatSession",
    path=SessionPath,
    body=SurveyAnswer,
    answers={
        200: Answer("The answer recorded, with the thanks to show.", Survey),
        400: Answer('Not JSON like {"score": 4} (1 to 5) or {"score": null}.', FieldError),
        **_UNAUTHORISED,
        409: Answer("No question is waiting: never asked, or answered already.", Error),
        **_TOO_BIG,
    },
)
TEXTS = Operation(
    "The chat widget's own words in a language the agency serves",
    _TAGS,
    path=LanguagePath,
    answers={
        200: Answer("The widget's words, by English message id.", WidgetTexts),
        404: Answer("The agency does not serve that language.", Error),
    },
)
