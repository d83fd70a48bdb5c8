"""What a turn hands from one stage to the next and leaves behind, and the parts of the service
a turn uses (`router/service/turn.py` runs the turn)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from router.domain.model import Contact, InboxEntry, Message
from router.policy import Decision, PolicyContext
from router.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TurnDecision:
    """One policy decision of a turn, with the stage it was taken at and what it saw."""

    stage: str  # before_bot | after_bot
    decision: Decision
    context: PolicyContext


@dataclass(frozen=True)
class Booked:
    """A callback the turn booked: its durable job is written once the turn has committed."""

    callback_id: int
    at: datetime  # when the job first runs


class CallbackJobs(Protocol):
    """The callbacks service (router/service/callbacks.py) as the turn uses it."""

    def schedule(self, callback_id: int, at: datetime) -> None: ...


class SurveyReplies(Protocol):
    """The satisfaction survey (router/service/survey.py) as the turn uses it."""

    def take_reply(
        self, uow: UnitOfWork, entry: InboxEntry, now: datetime
    ) -> TurnResult | None: ...


@dataclass(frozen=True)
class TurnResult:
    """What a turn left behind: the contact's state and the messages it produced."""

    contact_id: int
    state: str
    message_id: int | None = None
    replies: tuple[Message, ...] = ()
    decision: Decision | None = None
    message: Message | None = None  # the citizen's message, as filed
    language: str | None = None  # the conversation's language, once known
    # Whether the bot understood the message (None: the bot was not asked).
    understood: bool | None = None
    # The links the bot's answer carried, before a channel that cannot show them named the
    # website instead (the phone offers to text them).
    links: tuple[str, ...] = ()
    need: str | None = None  # the contact's need as now known
    # Callbacks the turn booked, whose jobs are written after its commit.
    booked: tuple[Booked, ...] = ()

    def transcript(self) -> tuple[Message, ...]:
        """Return the citizen's message and what the turn answered, in order."""
        return ((self.message,) if self.message else ()) + self.replies


class LeftBehind(Exception):
    """The citizen's contact holds messages whose turn stopped halfway (a process died at
    the bot): they are finished before a later message takes its turn."""

    def __init__(self, message_ids: list[int]) -> None:
        super().__init__(f"turns left behind: {message_ids}")
        self.message_ids = message_ids


@dataclass(frozen=True)
class AtBot:
    """What transaction 1 hands to the bot call and to transaction 2."""

    message_id: int
    contact_id: int
    text: str
    bot_sender: str
    language: str
    citizen_id: int | None
    first: TurnDecision
    cut: bool = False  # the message was longer than the channel takes and was cut


# Answers a message in the turn's first transaction before any contact is found for it
# (a reply to something the agency sent): (uow, entry, now) -> the turn's result, or None.
Answerer = Callable[[UnitOfWork, InboxEntry, datetime], "TurnResult | None"]
# A channel's part of a turn's finishing transaction: (uow, contact, result, now, pseudonym).
Finisher = Callable[[UnitOfWork, Contact, "TurnResult", datetime, str | None], None]
