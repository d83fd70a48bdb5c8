"""What the call flow asks the core to do (a `Task`: a turn, an escalation, texting the link,
booking or cancelling a callback, a rating) and what it hears back (`TurnOutcome`,
`CallbackTime`, `Texted`, `Cancelled`, `Rated`), through `perform`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ivr.call import CallbackTime, CallState


@dataclass(frozen=True)
class CallerTurn:
    """Take the caller's words (or a keypad choice said as words) through the turn."""

    text: str
    confidence: float | None = None
    input: str = "speech"  # speech | dtmf


@dataclass(frozen=True)
class NotUnderstood:
    """The phone could not understand the caller twice: the policy hands over."""

    why: str  # silence | low_confidence | unknown_key
    confidence: float | None = None  # Twilio's, for what was last heard


@dataclass(frozen=True)
class TextLink:
    """Text the caller the digital route for their need (through the SMS channel)."""


@dataclass(frozen=True)
class Book:
    """Book a callback (reason: waited_too_long, out_of_hours, asked, surge)."""

    reason: str


@dataclass(frozen=True)
class CancelCallback:
    """Cancel the callback the caller booked on an earlier call."""


@dataclass(frozen=True)
class Rate:
    """Record the caller's keypad rating (1 very dissatisfied ... 5 very satisfied)."""

    score: int


Task = CallerTurn | NotUnderstood | TextLink | Book | CancelCallback | Rate


@dataclass(frozen=True)
class TurnOutcome:
    """What a turn came to: the policy's action and what the bot said.

    `action` None: the policy decided nothing (the contact is with people, or has ended):
    `waiting` says which. `again`: the same input reached the turn twice.
    """

    action: str | None  # self_service | offer_digital | assisted | callback | close | None
    understood: bool = True
    said: tuple[str, ...] = ()
    open: bool = True  # people answer now
    waiting: bool = False  # the contact waits for a person (or is with one)
    again: bool = False
    surge: bool = False  # a surge rule of the policy decided (a callback instead of a wait)

    def decided(self) -> TurnOutcome:
        """The outcome as the phone acts on it: the same input twice is asked again; with
        no decision, a contact waiting for people goes to the queue, any other ends."""
        if self.again:
            return replace(self, action="self_service", understood=False, said=())
        if self.action is None:
            return replace(self, action="assisted" if self.waiting else "close", said=())
        return self


@dataclass(frozen=True)
class Texted:
    """How texting the link went: sent, opted_out (STOP), or no_link."""

    result: str


@dataclass(frozen=True)
class Cancelled:
    """Whether the pending callback was cancelled (False: it is ringing already)."""

    ok: bool


@dataclass(frozen=True)
class Rated:
    """Whether the rating was recorded (False: the call had been rated already)."""

    ok: bool


Perform = Callable[[Task, CallState], TurnOutcome | CallbackTime | Texted | Cancelled | Rated]
