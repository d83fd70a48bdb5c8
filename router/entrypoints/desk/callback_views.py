"""Calls and callbacks on the desk: connecting the agent's phone to a waiting caller, calling a
citizen back now, whether the agent takes calls, and the failed callbacks (call again, close
with a note)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from router.domain.callbacks import CallbackState
from router.entrypoints.desk.conversation_views import MAX_NOTE
from router.entrypoints.desk.parts import DeskParts, _, agent_id, visible_failed_callbacks
from router.service.errors import ServiceError

# Pages that show citizens' data without being one conversation: each view is audited.
AUDITED_LISTS = ("failed_callbacks",)
# Acting on one callback follows the access rule of its contact's conversation (views.py).


def routes(id_converter: str) -> tuple:
    """The calls' and callbacks' routes: (rule, view, method), views taking the desk's parts."""
    return (
        (f"/contacts/<{id_converter}:contact_id>/connect", connect_call, "POST"),
        (f"/contacts/<{id_converter}:contact_id>/call-back", call_back_now, "POST"),
        ("/calls/taking", taking_calls, "POST"),
        ("/callbacks/failed", failed_callbacks, "GET"),
        (f"/callbacks/<{id_converter}:callback_id>/call-again", call_again, "POST"),
        (f"/callbacks/<{id_converter}:callback_id>/close", close_callback, "POST"),
    )


def connect_call(parts: DeskParts, contact_id: int):
    """Ring the agent's phone and connect it to the caller waiting on this contact."""
    back = url_for("desk.conversation", contact_id=contact_id)
    if parts.callbacks is None:
        abort(404)
    try:
        result = parts.callbacks.connect_agent(contact_id, agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if result.outcome == "accepted":
        flash(_("Your phone is ringing: answer it to speak to the caller."))
    elif result.outcome == "rejected":
        flash(_("The call could not be placed ({error}). Check your phone setting.",
                error=result.error), "error")  # fmt: skip
    else:
        flash(_("The phone service did not answer; try Connect call again."), "error")
    return redirect(back)


def call_back_now(parts: DeskParts, contact_id: int):
    """Call back the citizen of a contact the agent took while it waited for its callback."""
    back = url_for("desk.conversation", contact_id=contact_id)
    if parts.callbacks is None:
        abort(404)
    try:
        state = parts.callbacks.call_back_now(contact_id, agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if state == CallbackState.CALLING:
        flash(_("Calling the citizen: when they answer, the call is put through to your phone."))
    else:
        flash(_("The call could not be placed; the callback stays booked."), "error")
    return redirect(back)


def taking_calls(parts: DeskParts):
    """Say whether callbacks may be placed for this agent (they take calls) or not."""
    if parts.callbacks is None:
        abort(404)
    taking = request.form.get("taking") == "yes"
    parts.desk.set_taking_calls(agent_id(), taking)
    flash(
        _("You take calls: callbacks are placed for you when you are free.")
        if taking
        else _("You do not take calls now: no callback will be placed for you.")
    )
    return redirect(url_for("desk.queue"))


def failed_callbacks(parts: DeskParts):
    """List the callbacks whose attempts are used up, for staff to call again or close."""
    if parts.callbacks is None:
        abort(404)
    return render_template("desk/failed_callbacks.html", failed=visible_failed_callbacks(parts))


def call_again(parts: DeskParts, callback_id: int):
    """Book a failed callback again: a new round of calls from now."""
    try:
        parts.callbacks.call_again(callback_id, agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Callback {id} is booked again: it is placed when an agent is free.",
                id=callback_id))  # fmt: skip
    return redirect(url_for("desk.failed_callbacks"))


def close_callback(parts: DeskParts, callback_id: int):
    """Close a failed callback with a note saying what was done instead."""
    note = request.form.get("note", "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        flash(_("The note is longer than {n} characters; shorten it.", n=MAX_NOTE), "error")
        return redirect(url_for("desk.failed_callbacks"))
    try:
        parts.callbacks.close(callback_id, agent_id(), note)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Callback {id} is closed with your note.", id=callback_id))
    return redirect(url_for("desk.failed_callbacks"))
