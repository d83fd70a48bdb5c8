"""The core's side of the call flow's tasks: `perform` carries out a `Task` through `Calls` (a
turn, an escalation, the link texted, a callback booked or cancelled, a rating) and tells the
flow what came of it in the flow's words (ivr/tasks.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ivr import flow
from ivr import prompts as p
from router.service.calls import Calls, Input, Spoken
from router.service.services import ChannelServices


def calls_of(services: ChannelServices) -> Calls:
    """Return the phone's front door (`Calls`) the voice channel needs."""
    if services.calls is None:
        raise RuntimeError("the voice channel needs ChannelServices.calls")
    return services.calls


def outcome(spoken: Spoken) -> flow.TurnOutcome:
    """The service's account of a phone turn, in the flow's words."""
    return flow.TurnOutcome(
        spoken.action, understood=spoken.understood, said=spoken.said, open=spoken.open,
        waiting=spoken.waiting, again=spoken.again, surge=spoken.surge,
    )  # fmt: skip


def local(calls, at):  # noqa: ANN001, ANN202
    """Return a time in the agency's time zone, as the caller hears it (None stays None)."""
    return at.astimezone(ZoneInfo(calls.settings.business_hours.timezone)) if at else None


def perform_for(services: ChannelServices, number: str, call_sid: str) -> flow.Perform:
    """Return `perform` for one request of the call `call_sid` from `number`."""
    calls = calls_of(services)
    hours = calls.settings.business_hours

    def perform(task: flow.Task, call: flow.CallState):  # noqa: ANN202
        heard = Input(call_sid, call.n)
        if isinstance(task, flow.CallerTurn):
            spoken = calls.turn(
                call.contact, number, heard, task.text,
                confidence=task.confidence, input=task.input, language=call.lang or "en",
            )  # fmt: skip
            return outcome(spoken)
        if isinstance(task, flow.NotUnderstood):
            return outcome(calls.escalate(call.contact, heard, task.why, task.confidence))
        if isinstance(task, flow.TextLink):
            template = p.text(call.lang or "en", "link_sms", link="{link}")
            return flow.Texted(calls.text_link(call.contact, call_sid, template))
        if isinstance(task, flow.CancelCallback):
            return flow.Cancelled(calls.cancel_callback(call.contact))
        if isinstance(task, flow.Rate):
            surveys = services.surveys
            return flow.Rated(surveys is not None and surveys.rate_call(call.contact, task.score))
        booking = calls.book(call.contact, call_sid, task.reason)
        at = local(calls, booking.at)
        return flow.CallbackTime(
            booking.ok, at, booking.open, (f"{hours.opens:%H:%M}", f"{hours.closes:%H:%M}")
        )

    return perform
