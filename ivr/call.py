"""One call between two requests: the agency's line, the call's state (carried in the URL of
the next request), what the caller did at a Gather, what the phone does next (`Reply`), and
how the caller's words and keys are read. Pure: no HTTP, Twilio or storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ivr import prompts as p

# The steps a request can name (POST /twilio/voice/<step>).
STEPS = (
    "start", "language", "heard", "more", "offer", "wait", "wait-choice", "queued", "pending",
    "rating",
)  # fmt: skip
# How a call can end in the flow: with a person, an answer, or a booked callback.
ENDS = ("person", "self_service", "digital", "callback", "goodbye")


@dataclass(frozen=True)
class LineSettings:
    """What the agency configures about its phone line."""

    languages: tuple[str, ...] = ("da", "en")
    agency: str = "kanal"
    min_confidence: float = 0.4
    callback_offer_seconds: int = 120
    gather_timeout: int = 5
    # The share of calls answered by self-service asked for a keypad rating before goodbye
    # (0: none; the satisfaction survey, docs/domain.md §4.5).
    survey_share: float = 0.0


@dataclass(frozen=True)
class CallState:
    """The state of one call between two requests (carried in the next request's URL)."""

    contact: int = 0
    lang: str = ""  # "" until chosen or known from the register
    known: bool = False  # the caller's number is in the register
    tries: int = 0  # re-prompts after not being understood (this step)
    silences: int = 0  # prompts met by silence (this step)
    n: int = 0  # how many inputs the call has had (makes each turn's id unique)
    # A callback booked on an earlier call and still to be made (None: none); only the
    # greeting reads it, so it is not carried in the URL.
    pending: CallbackTime | None = None


@dataclass(frozen=True)
class Heard:
    """What the caller did at a Gather: speech with Twilio's confidence, digits, or nothing."""

    speech: str = ""
    confidence: float | None = None
    digits: str = ""

    @property
    def silent(self) -> bool:
        return not self.speech.strip() and not self.digits.strip()


@dataclass(frozen=True)
class CallbackTime:
    """A callback was booked (or not): when the caller will be called, in local time."""

    ok: bool
    at: datetime | None = None  # None: as soon as an adviser is free
    open: bool = True
    hours: tuple[str, str] = ("08:00", "16:00")


# -- what the phone does -----------------------------------------------------------------------


@dataclass(frozen=True)
class Gather:
    """Listen for the caller: speech and/or keypad, posted to `step`."""

    step: str
    input: str = "speech dtmf"
    num_digits: int | None = None
    timeout: int = 5


@dataclass(frozen=True)
class Reply:
    """What the phone does: say these lines, then gather or go on as `next` says.

    next: "" (gather, or end of the wait music), "enqueue", "hangup", "leave", "pause".
    `end` names how the call ends when it ends here (one of ENDS), for the tests.
    """

    lang: str
    say: tuple[str, ...] = ()
    gather: Gather | None = None
    next: str = ""
    state: CallState = field(default_factory=CallState)
    end: str = ""
    events: tuple[str, ...] = ()


# -- reading the caller ----------------------------------------------------------------------


def asks_for_person(heard: Heard, lang: str) -> bool:
    """Return True for 0 on the keypad or a person word in any language served."""
    return heard.digits.strip() == "0" or p.has_word(p.PERSON_WORDS, lang, heard.speech)


def asks_for_callback(heard: Heard, lang: str) -> bool:
    """Return True when the caller asks to be called back ("call me back", "ring mig op")."""
    return not heard.digits and p.has_word(p.CALLBACK_WORDS, lang, heard.speech)


def yes(heard: Heard, lang: str) -> bool:
    return heard.digits.strip() == "1" or (
        not heard.digits and p.has_word(p.YES_WORDS, lang, heard.speech)
    )


def no(heard: Heard, lang: str) -> bool:
    return heard.digits.strip() == "2" or (
        not heard.digits and p.has_word(p.NO_WORDS, lang, heard.speech)
    )


def chosen_language(heard: Heard, settings: LineSettings) -> str:
    """Return the language a keypad choice picks (the first offered for anything else)."""
    offered = [lang for lang in settings.languages if lang in p.VOICES] or [p.DEFAULT_LANGUAGE]
    digit = heard.digits.strip()
    chosen = offered[int(digit) - 1] if digit.isdigit() and 0 < int(digit) <= len(offered) else ""
    return chosen or offered[0]
