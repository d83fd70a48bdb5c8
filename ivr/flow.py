"""The call flow: a pure state machine from what the caller did to what the phone does next.

    start ─► language? ─► listen (greeting + question + keypad menu)
                               │ speech / digits ─► turn (policy + bot)
                               │   self-service answered ─► more ─► listen … / goodbye
                               │                     (or, for the share surveyed: rating ─►
                               │                      keypad 1-5 recorded, goodbye)
                               │   not understood ─► listen again in other words (the
                               │                     policy hands over on the second failure)
                               │   offer digital ─► offer ─► yes: text the link, goodbye
                               │                          └► no / 0 / person: a person
                               │   assisted ─► queue ─► wait loop (position, estimated wait;
                               │                       after a while "press 1 for a callback")
                               │   callback ─► booked (when), goodbye
    start with a callback pending (booked on an earlier call) ─► callback? 1 keep it (goodbye),
                               2 cancel it, anything else: the question as usual
                               │   assisted, and the caller said "call me back" ─► booked
                               │ low confidence ─► once in other words, then a person
                               │ silence ─► once more, then a person
                               └ 0 / agent / person / medarbejder … at every step ─► a person

The flow knows nothing of HTTP, Twilio or storage. `respond` takes a step, the call's state
(carried in the URL of the next request), what the caller did, and `perform`, which carries
out a `Task` (a turn through the policy and the bot, texting a link, booking a callback) and
answers its outcome. It returns a `Reply`: what to say, what to gather and what comes next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ivr import prompts as p
from router.domain.survey import SCORES, sampled

# The steps a request can name (POST /twilio/voice/<step>).
STEPS = (
    "start", "language", "heard", "more", "offer", "wait", "wait-choice", "queued", "pending",
    "rating",
)  # fmt: skip
# How a call can end in the flow: with a person, an answer, or a booked callback.
ENDS = ("person", "self_service", "digital", "callback", "goodbye")


@dataclass(frozen=True)
class Settings:
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


# -- what the flow asks the channel to do (tasks) and what it hears back -----------------------


@dataclass(frozen=True)
class Turn:
    """Take the caller's words (or a keypad choice said as words) through the turn."""

    text: str
    confidence: float | None = None
    input: str = "speech"  # speech | dtmf


@dataclass(frozen=True)
class Escalate:
    """The phone could not understand the caller twice: the policy hands over."""

    why: str  # silence | low_confidence | unknown_key
    confidence: float | None = None  # Twilio's, for what was last heard


@dataclass(frozen=True)
class TextLink:
    """Text the caller the digital route for their need (through the SMS channel)."""


@dataclass(frozen=True)
class Book:
    """Book a callback (reason: waited_too_long, out_of_hours, asked)."""

    reason: str


@dataclass(frozen=True)
class CancelCallback:
    """Cancel the callback the caller booked on an earlier call."""


@dataclass(frozen=True)
class Rate:
    """Record the caller's keypad rating (1 very dissatisfied ... 5 very satisfied)."""

    score: int


Task = Turn | Escalate | TextLink | Book | CancelCallback | Rate


@dataclass(frozen=True)
class Outcome:
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

    def decided(self) -> Outcome:
        """The outcome as the phone acts on it: the same input twice is asked again; with
        no decision, a contact waiting for people goes to the queue, any other ends."""
        if self.again:
            return replace(self, action="self_service", understood=False, said=())
        if self.action is None:
            return replace(self, action="assisted" if self.waiting else "close", said=())
        return self


@dataclass(frozen=True)
class CallbackTime:
    """A callback was booked (or not): when the caller will be called, in local time."""

    ok: bool
    at: datetime | None = None  # None: as soon as an adviser is free
    open: bool = True
    hours: tuple[str, str] = ("08:00", "16:00")


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


Perform = Callable[[Task, CallState], Outcome | CallbackTime | Texted | Cancelled | Rated]


# -- what the flow answers -----------------------------------------------------------------------


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


def _yes(heard: Heard, lang: str) -> bool:
    return heard.digits.strip() == "1" or (
        not heard.digits and p.has_word(p.YES_WORDS, lang, heard.speech)
    )


def _no(heard: Heard, lang: str) -> bool:
    return heard.digits.strip() == "2" or (
        not heard.digits and p.has_word(p.NO_WORDS, lang, heard.speech)
    )


# -- the steps ------------------------------------------------------------------------------


def respond(
    step: str, call: CallState, heard: Heard, perform: Perform, settings: Settings
) -> Reply:
    """Return what the phone does next at `step`, given what the caller did."""
    lang = p.language_of(call.lang, settings.languages)
    call = replace(call, lang=lang if call.lang else call.lang)
    if step == "start":
        return _start(call, settings)
    if step == "language":
        return _language(call, heard, perform, settings)
    if step in ("heard", "more"):
        return _heard(step, call, heard, perform, settings)
    if step == "offer":
        return _offer(call, heard, perform, settings)
    if step == "wait-choice":
        return _wait_choice(call, heard, perform, settings)
    if step == "pending":
        return _pending(call, heard, perform, settings)
    if step == "rating":
        return _rating(call, heard, perform)
    raise ValueError(f"unknown step {step!r}")


def _listen(call: CallState, settings: Settings, *lines: str, step: str = "heard") -> Reply:
    return Reply(
        call.lang,
        say=lines,
        gather=Gather(step, timeout=settings.gather_timeout),
        state=replace(call, n=call.n + 1),
    )


def _ask(call: CallState) -> str:
    return p.text(call.lang, "ask", menu=p.menu(call.lang))


def _start(call: CallState, settings: Settings) -> Reply:
    offered = [lang for lang in settings.languages if lang in p.VOICES]
    if not call.lang and len(offered) > 1:
        lines = tuple(p.choose_language(lang, i) for i, lang in enumerate(offered, 1))
        first = offered[0]
        return Reply(
            first,
            say=(p.text(first, "welcome", agency=settings.agency), *lines),
            gather=Gather("language", input="dtmf", num_digits=1, timeout=settings.gather_timeout),
            state=replace(call, lang=""),
        )
    call = replace(call, lang=p.language_of(call.lang, settings.languages))
    welcome = "welcome_known" if call.known else "welcome"
    greeting = p.text(call.lang, welcome, agency=settings.agency)
    if call.pending is not None:
        # A caller already waiting for a callback hears it first, and keeps or cancels it.
        when = _when(call, call.pending)
        line = p.text(call.lang, "callback_pending", when=when)
        return Reply(
            call.lang,
            say=(greeting, line),
            gather=Gather("pending", input="dtmf", num_digits=1, timeout=settings.gather_timeout),
            state=replace(call, pending=None, n=call.n + 1),
        )
    return _listen(call, settings, greeting, _ask(call))


def _pending(call: CallState, heard: Heard, perform: Perform, settings: Settings) -> Reply:
    """1 keeps the pending callback (goodbye); 2 cancels it; anything else goes on to the
    question as usual (the callback stands); 0 reaches a person."""
    digit = heard.digits.strip()
    if asks_for_person(heard, call.lang):
        return _outcome(call, perform(Turn(_person_text(call), input="dtmf"), call), perform,
                        settings)  # fmt: skip
    if digit == "1":
        return Reply(call.lang, say=(p.text(call.lang, "callback_kept"),), next="hangup",
                     state=call, end="callback")  # fmt: skip
    if digit == "2":
        cancelled = perform(CancelCallback(), call)
        assert isinstance(cancelled, Cancelled)
        said = "callback_cancelled" if cancelled.ok else "callback_not_cancelled"
        return _listen(call, settings, p.text(call.lang, said), _ask(call))
    return _listen(call, settings, _ask(call))


def _rating(call: CallState, heard: Heard, perform: Perform) -> Reply:
    """A keypad digit 1-5 is the caller's rating; anything else (or silence) says goodbye."""
    digits = heard.digits.strip()
    said = p.text(call.lang, "goodbye")
    if len(digits) == 1 and digits.isdigit() and int(digits) in SCORES:
        perform(Rate(int(digits)), call)
        said = p.text(call.lang, "rating_thanks")
    return Reply(call.lang, say=(said,), next="hangup", state=call, end="self_service")


def chosen_language(heard: Heard, settings: Settings) -> str:
    """Return the language a keypad choice picks (the first offered for anything else)."""
    offered = [lang for lang in settings.languages if lang in p.VOICES] or [p.DEFAULT_LANGUAGE]
    digit = heard.digits.strip()
    chosen = offered[int(digit) - 1] if digit.isdigit() and 0 < int(digit) <= len(offered) else ""
    return chosen or offered[0]


def _language(call: CallState, heard: Heard, perform: Perform, settings: Settings) -> Reply:
    call = replace(call, lang=chosen_language(heard, settings), tries=0, silences=0)
    if asks_for_person(heard, call.lang):
        return _outcome(call, perform(Turn(_person_text(call)), call), perform, settings)
    return _listen(call, settings, _ask(call))  # welcomed already, before the choice


def _person_text(call: CallState) -> str:
    return "person (0)" if call.lang != "da" else "medarbejder (0)"


def _heard(step: str, call: CallState, heard: Heard, perform: Perform, settings: Settings) -> Reply:
    if asks_for_person(heard, call.lang):
        person = perform(Turn(_person_text(call), input="dtmf"), call)
        return _called_back(call, heard, person, perform) or _outcome(
            call, person, perform, settings
        )
    if step == "more" and (heard.silent or _no(heard, call.lang)):
        if call.contact and sampled(call.contact, settings.survey_share):
            gather = Gather("rating", input="dtmf", num_digits=1, timeout=settings.gather_timeout)
            return Reply(call.lang, say=(p.text(call.lang, "rating"),), gather=gather,
                         state=replace(call, n=call.n + 1))  # fmt: skip
        return Reply(call.lang, say=(p.text(call.lang, "goodbye"),), next="hangup", state=call,
                     end="self_service")  # fmt: skip
    if heard.silent:
        call = replace(call, silences=call.silences + 1)
        if call.silences >= 2:
            return _outcome(call, perform(Escalate("silence"), call), perform, settings)
        return _listen(call, settings, p.text(call.lang, "silence"))
    digits = heard.digits.strip()
    if digits:
        index = int(digits[0]) - 1 if digits[0].isdigit() else -1
        if not 0 <= index < len(p.MENU):
            return _not_understood(call, perform, settings, "unknown_key")
        text = p.need_phrase(call.lang, p.MENU[index])
        return _outcome(call, perform(Turn(text, input="dtmf"), call), perform, settings)
    if heard.confidence is not None and heard.confidence < settings.min_confidence:
        return _not_understood(call, perform, settings, "low_confidence", heard.confidence)
    turn = Turn(heard.speech.strip(), heard.confidence)
    outcome = perform(turn, call)
    return _called_back(call, heard, outcome, perform) or _outcome(call, outcome, perform, settings)


def _called_back(call: CallState, heard: Heard, outcome: object, perform: Perform) -> Reply | None:
    """A person, and the caller said they would rather be called back: book it (else None)."""
    if not (isinstance(outcome, Outcome) and outcome.decided().action == "assisted"):
        return None
    if not asks_for_callback(heard, call.lang):
        return None
    booked = perform(Book("asked"), call)
    assert isinstance(booked, CallbackTime)
    return _booked(call, booked, leave=False)


def _not_understood(
    call: CallState, perform: Perform, settings: Settings, why: str, confidence: float | None = None
) -> Reply:
    call = replace(call, tries=call.tries + 1)
    if call.tries >= 2:
        return _outcome(call, perform(Escalate(why, confidence), call), perform, settings)
    return _listen(call, settings, p.text(call.lang, "ask_again"))


def _outcome(
    call: CallState, outcome: Outcome | CallbackTime | Texted, perform: Perform, settings: Settings,
    *before: str,
) -> Reply:  # fmt: skip
    """Turn the policy's decision into what the phone does."""
    assert isinstance(outcome, Outcome)
    outcome = outcome.decided()
    lang = call.lang
    said = tuple(outcome.said)
    if outcome.action == "assisted":
        return Reply(lang, say=(*before, p.text(lang, "to_person")), next="enqueue", state=call,
                     end="person")  # fmt: skip
    if outcome.action == "callback":
        reason = "asked" if outcome.open else "out_of_hours"
        booked = perform(Book(reason), call)
        assert isinstance(booked, CallbackTime)
        return _booked(call, booked, *before, leave=False)
    if outcome.action == "close":
        return Reply(lang, say=(*before, *said) or (p.text(lang, "goodbye"),), next="hangup",
                     state=call, end="goodbye")  # fmt: skip
    if outcome.action == "offer_digital":
        call = replace(call, tries=0, silences=0)
        return _listen(call, settings, *before, *said, p.text(lang, "offer"), step="offer")
    if not outcome.understood:
        call = replace(call, tries=call.tries + 1, silences=0)
        return _listen(call, settings, *before, p.text(lang, "ask_again"))
    call = replace(call, tries=0, silences=0)
    return _listen(call, settings, *before, *said, p.text(lang, "anything_else"), step="more")


def _when(call: CallState, booked: CallbackTime) -> str:
    if booked.at is None:
        return p.text(call.lang, "when_soon")
    day = p.weekday(call.lang, booked.at.weekday())
    return p.text(call.lang, "when_at", day=day, time=f"{booked.at:%H:%M}")


def _booked(call: CallState, booked: CallbackTime, *before: str, leave: bool) -> Reply:
    lang = call.lang
    if not booked.ok:
        lines = (*before, p.text(lang, "callback_failed"), p.text(lang, "to_person"))
        return Reply(lang, say=lines, next="" if leave else "enqueue", state=call, end="person")
    when = _when(call, booked)
    if booked.open:
        line = p.text(lang, "callback_booked", when=when)
    else:
        opens, closes = booked.hours
        hours = p.text(lang, "hours", opens=opens, closes=closes)
        line = p.text(lang, "callback_closed", hours=hours, when=when)
    return Reply(lang, say=(*before, line), next="leave" if leave else "hangup", state=call,
                 end="callback")  # fmt: skip


def _offer(call: CallState, heard: Heard, perform: Perform, settings: Settings) -> Reply:
    lang = call.lang
    if _yes(heard, lang):
        texted = perform(TextLink(), call)
        assert isinstance(texted, Texted)
        if texted.result == "sent":
            return Reply(lang, say=(p.text(lang, "link_sent"),), next="hangup", state=call,
                         end="digital")  # fmt: skip
        why = p.text(lang, "link_blocked" if texted.result == "opted_out" else "no_link")
        person = perform(Turn(_person_text(call), input="dtmf"), call)
        return _outcome(call, person, perform, settings, why)
    if asks_for_person(heard, lang) or _no(heard, lang):
        person = perform(Turn(_person_text(call), input="dtmf"), call)
        return _outcome(call, person, perform, settings)
    call = replace(call, silences=call.silences + 1)
    if call.silences >= 2:
        return _outcome(call, perform(Escalate("silence"), call), perform, settings)
    return _listen(call, settings, p.text(lang, "offer_again"), step="offer")


# -- the queue ------------------------------------------------------------------------------


def wait(
    call: CallState, position: int, wait_seconds: int, queue_seconds: int, settings: Settings
) -> Reply:
    """What a caller waiting in the queue hears, each time Twilio asks the wait URL."""
    lang = call.lang
    if position <= 1:
        lines = [p.text(lang, "queue_next")]
    else:
        lines = [p.text(lang, "queue_position", position=position)]
        if wait_seconds <= 60:
            lines.append(p.text(lang, "queue_wait_short"))
        else:
            lines.append(p.text(lang, "queue_wait", minutes=round(wait_seconds / 60)))
    if queue_seconds >= settings.callback_offer_seconds:
        lines.append(p.text(lang, "callback_offer"))
        gather = Gather("wait-choice", input="dtmf", num_digits=1, timeout=settings.gather_timeout)
        return Reply(lang, say=tuple(lines), gather=gather, state=call)
    return Reply(lang, say=tuple(lines), next="pause", state=call)


def _wait_choice(call: CallState, heard: Heard, perform: Perform, settings: Settings) -> Reply:
    if heard.digits.strip() == "1":
        booked = perform(Book("waited_too_long"), call)
        assert isinstance(booked, CallbackTime)
        return _booked(call, booked, leave=True)
    return Reply(call.lang, say=(p.text(call.lang, "still_waiting"),), state=call)


def queued(call: CallState, result: str, perform: Perform) -> Reply:
    """What happens when the caller's wait ends (the Enqueue action's QueueResult)."""
    if result in ("bridged", "bridging-in-process", "leave", "hangup"):
        return Reply(call.lang, next="hangup", state=call, end="person")
    # queue-full, error, system-error, redirected: never a hang-up without an option.
    booked = perform(Book("waited_too_long"), call)
    assert isinstance(booked, CallbackTime)
    return _booked(call, booked, p.text(call.lang, "queue_problem"), leave=False)


def connecting(lang: str) -> Reply:
    """What the caller hears just before an adviser is bridged in."""
    return Reply(lang, say=(p.text(lang, "connected"),))
