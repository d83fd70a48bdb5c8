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
The call and how the caller is read are in `ivr/call.py`, the tasks in `ivr/tasks.py`, the
queue's wait and the words of a booking in `ivr/waiting.py`; this module names them all.
"""

from __future__ import annotations

from dataclasses import replace

from ivr import prompts as p
from ivr import waiting
from ivr.call import (
    ENDS,
    STEPS,
    CallbackTime,
    CallState,
    Gather,
    Heard,
    LineSettings,
    Reply,
    asks_for_callback,
    asks_for_person,
    chosen_language,
    no,
    yes,
)
from ivr.tasks import (
    Book,
    CallerTurn,
    CancelCallback,
    Cancelled,
    NotUnderstood,
    Perform,
    Rate,
    Rated,
    Task,
    Texted,
    TextLink,
    TurnOutcome,
)
from ivr.waiting import booked_reply, connecting, queued, wait, when_said
from router.domain.survey import SCORES, sampled

__all__ = [
    "ENDS", "STEPS", "Book", "CallState", "CallbackTime", "CallerTurn", "CancelCallback",
    "Cancelled", "Gather", "Heard", "LineSettings", "NotUnderstood", "Perform", "Rate", "Rated",
    "Reply", "Task", "TextLink", "Texted", "TurnOutcome", "asks_for_callback", "asks_for_person",
    "chosen_language", "connecting", "queued", "respond", "wait",
]  # fmt: skip


def respond(
    step: str, call: CallState, heard: Heard, perform: Perform, settings: LineSettings
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
        return waiting.wait_choice(call, heard, perform, settings)
    if step == "pending":
        return _pending(call, heard, perform, settings)
    if step == "rating":
        return _rating(call, heard, perform)
    raise ValueError(f"unknown step {step!r}")


def _listen(call: CallState, settings: LineSettings, *lines: str, step: str = "heard") -> Reply:
    return Reply(
        call.lang,
        say=lines,
        gather=Gather(step, timeout=settings.gather_timeout),
        state=replace(call, n=call.n + 1),
    )


def _ask(call: CallState) -> str:
    return p.text(call.lang, "ask", menu=p.menu(call.lang))


def _start(call: CallState, settings: LineSettings) -> Reply:
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
        when = when_said(call, call.pending)
        line = p.text(call.lang, "callback_pending", when=when)
        return Reply(
            call.lang,
            say=(greeting, line),
            gather=Gather("pending", input="dtmf", num_digits=1, timeout=settings.gather_timeout),
            state=replace(call, pending=None, n=call.n + 1),
        )
    return _listen(call, settings, greeting, _ask(call))


def _pending(call: CallState, heard: Heard, perform: Perform, settings: LineSettings) -> Reply:
    """1 keeps the pending callback (goodbye); 2 cancels it; anything else goes on to the
    question as usual (the callback stands); 0 reaches a person."""
    digit = heard.digits.strip()
    if asks_for_person(heard, call.lang):
        return _outcome(call, perform(CallerTurn(_person_text(call), input="dtmf"), call), perform,
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


def _language(call: CallState, heard: Heard, perform: Perform, settings: LineSettings) -> Reply:
    call = replace(call, lang=chosen_language(heard, settings), tries=0, silences=0)
    if asks_for_person(heard, call.lang):
        return _outcome(call, perform(CallerTurn(_person_text(call)), call), perform, settings)
    return _listen(call, settings, _ask(call))  # welcomed already, before the choice


def _person_text(call: CallState) -> str:
    return "person (0)" if call.lang != "da" else "medarbejder (0)"


def _heard(
    step: str, call: CallState, heard: Heard, perform: Perform, settings: LineSettings
) -> Reply:
    if asks_for_person(heard, call.lang):
        person = perform(CallerTurn(_person_text(call), input="dtmf"), call)
        return _called_back(call, heard, person, perform) or _outcome(
            call, person, perform, settings
        )
    if step == "more" and (heard.silent or no(heard, call.lang)):
        if call.contact and sampled(call.contact, settings.survey_share):
            gather = Gather("rating", input="dtmf", num_digits=1, timeout=settings.gather_timeout)
            return Reply(call.lang, say=(p.text(call.lang, "rating"),), gather=gather,
                         state=replace(call, n=call.n + 1))  # fmt: skip
        return Reply(call.lang, say=(p.text(call.lang, "goodbye"),), next="hangup", state=call,
                     end="self_service")  # fmt: skip
    if heard.silent:
        call = replace(call, silences=call.silences + 1)
        if call.silences >= 2:
            return _outcome(call, perform(NotUnderstood("silence"), call), perform, settings)
        return _listen(call, settings, p.text(call.lang, "silence"))
    digits = heard.digits.strip()
    if digits:
        index = int(digits[0]) - 1 if digits[0].isdigit() else -1
        if not 0 <= index < len(p.MENU):
            return _not_understood(call, perform, settings, "unknown_key")
        text = p.need_phrase(call.lang, p.MENU[index])
        return _outcome(call, perform(CallerTurn(text, input="dtmf"), call), perform, settings)
    if heard.confidence is not None and heard.confidence < settings.min_confidence:
        return _not_understood(call, perform, settings, "low_confidence", heard.confidence)
    turn = CallerTurn(heard.speech.strip(), heard.confidence)
    outcome = perform(turn, call)
    return _called_back(call, heard, outcome, perform) or _outcome(call, outcome, perform, settings)


def _called_back(call: CallState, heard: Heard, outcome: object, perform: Perform) -> Reply | None:
    """A person, and the caller said they would rather be called back: book it (else None)."""
    if not (isinstance(outcome, TurnOutcome) and outcome.decided().action == "assisted"):
        return None
    if not asks_for_callback(heard, call.lang):
        return None
    booked = perform(Book("asked"), call)
    assert isinstance(booked, CallbackTime)
    return booked_reply(call, booked, leave=False)


def _not_understood(
    call: CallState,
    perform: Perform,
    settings: LineSettings,
    why: str,
    confidence: float | None = None,
) -> Reply:
    call = replace(call, tries=call.tries + 1)
    if call.tries >= 2:
        return _outcome(call, perform(NotUnderstood(why, confidence), call), perform, settings)
    return _listen(call, settings, p.text(call.lang, "ask_again"))


def _outcome(
    call: CallState,
    outcome: TurnOutcome | CallbackTime | Texted,
    perform: Perform,
    settings: LineSettings,
    *before: str,
) -> Reply:
    """Turn the policy's decision into what the phone does."""
    assert isinstance(outcome, TurnOutcome)
    outcome = outcome.decided()
    lang = call.lang
    said = tuple(outcome.said)
    if outcome.action == "assisted":
        return Reply(lang, say=(*before, p.text(lang, "to_person")), next="enqueue", state=call,
                     end="person")  # fmt: skip
    if outcome.action == "callback":
        # A surge rule's callback is the surge's (analytics tells them apart), else the
        # policy's answer to a caller who asked for one, or one outside opening hours.
        reason = "surge" if outcome.surge else "asked" if outcome.open else "out_of_hours"
        booked = perform(Book(reason), call)
        assert isinstance(booked, CallbackTime)
        return booked_reply(call, booked, *before, leave=False)
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


def _offer(call: CallState, heard: Heard, perform: Perform, settings: LineSettings) -> Reply:
    lang = call.lang
    if yes(heard, lang):
        texted = perform(TextLink(), call)
        assert isinstance(texted, Texted)
        if texted.result == "sent":
            return Reply(lang, say=(p.text(lang, "link_sent"),), next="hangup", state=call,
                         end="digital")  # fmt: skip
        why = p.text(lang, "link_blocked" if texted.result == "opted_out" else "no_link")
        person = perform(CallerTurn(_person_text(call), input="dtmf"), call)
        return _outcome(call, person, perform, settings, why)
    if asks_for_person(heard, lang) or no(heard, lang):
        person = perform(CallerTurn(_person_text(call), input="dtmf"), call)
        return _outcome(call, person, perform, settings)
    call = replace(call, silences=call.silences + 1)
    if call.silences >= 2:
        return _outcome(call, perform(NotUnderstood("silence"), call), perform, settings)
    return _listen(call, settings, p.text(lang, "offer_again"), step="offer")
