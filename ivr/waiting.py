"""The caller and kanal's queue, and what a caller hears of a callback booked: the wait loop
(position, estimated wait, after a while "press 1 for a callback"), the end of the wait, and
the words of a booking. Pure, like the rest of the call flow.
"""

from __future__ import annotations

from ivr import prompts as p
from ivr.call import CallbackTime, CallState, Gather, Heard, LineSettings, Reply
from ivr.tasks import Book, Perform


def when_said(call: CallState, booked: CallbackTime) -> str:
    if booked.at is None:
        return p.text(call.lang, "when_soon")
    day = p.weekday(call.lang, booked.at.weekday())
    return p.text(call.lang, "when_at", day=day, time=f"{booked.at:%H:%M}")


def booked_reply(call: CallState, booked: CallbackTime, *before: str, leave: bool) -> Reply:
    lang = call.lang
    if not booked.ok:
        lines = (*before, p.text(lang, "callback_failed"), p.text(lang, "to_person"))
        return Reply(lang, say=lines, next="" if leave else "enqueue", state=call, end="person")
    when = when_said(call, booked)
    if booked.open:
        line = p.text(lang, "callback_booked", when=when)
    else:
        opens, closes = booked.hours
        hours = p.text(lang, "hours", opens=opens, closes=closes)
        line = p.text(lang, "callback_closed", hours=hours, when=when)
    return Reply(lang, say=(*before, line), next="leave" if leave else "hangup", state=call,
                 end="callback")  # fmt: skip


def wait(
    call: CallState, position: int, wait_seconds: int, queue_seconds: int, settings: LineSettings
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


def wait_choice(call: CallState, heard: Heard, perform: Perform, settings: LineSettings) -> Reply:
    if heard.digits.strip() == "1":
        booked = perform(Book("waited_too_long"), call)
        assert isinstance(booked, CallbackTime)
        return booked_reply(call, booked, leave=True)
    return Reply(call.lang, say=(p.text(call.lang, "still_waiting"),), state=call)


def queued(call: CallState, result: str, perform: Perform) -> Reply:
    """What happens when the caller's wait ends (the Enqueue action's QueueResult)."""
    if result in ("bridged", "bridging-in-process", "leave", "hangup"):
        return Reply(call.lang, next="hangup", state=call, end="person")
    # queue-full, error, system-error, redirected: never a hang-up without an option.
    booked = perform(Book("waited_too_long"), call)
    assert isinstance(booked, CallbackTime)
    return booked_reply(call, booked, p.text(call.lang, "queue_problem"), leave=False)


def connecting(lang: str) -> Reply:
    """What the caller hears just before an adviser is bridged in."""
    return Reply(lang, say=(p.text(lang, "connected"),))
