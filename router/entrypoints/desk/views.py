"""The agent desk: the queue, taking the next contact, a contact's page, reply and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial, wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from router.domain.access import Viewer
from router.domain.callbacks import CallbackState
from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.domain.model import STAFF_ROLES, ContactState
from router.entrypoints.auth import role_required
from router.entrypoints.live_tokens import desk_token
from router.service.access import DeskAccess
from router.service.callback_desk import CallbackDesk
from router.service.desk import Desk
from router.service.errors import ServiceError
from router.service.views import Views
from router.web import ID_CONVERTER, bound, parse_id

DESK_ROLES = ("agent", "supervisor", "admin")
MAX_REPLY = 2000

# Wrap-up codes: (code, label, whether the citizen's need counts as completed).
WRAP_UPS = (
    ("answered", "Answered", True),
    ("referred", "Referred elsewhere", False),
    ("digital_route_shown", "Digital route shown", True),
    ("callback_done", "Callback done", True),
    ("no_answer_needed", "No answer needed", False),
)
_WRAP_UP = {code: completed for code, _label, completed in WRAP_UPS}

CALLBACK_WORDS = {
    "booked": "booked: waiting for a free agent",
    "calling": "calling the citizen now",
    "answered": "answered: connected to an agent",
    "failed": "FAILED: not reached; call again or close it",
    "closed": "closed",
}
REASON_WORDS = {
    "waited_too_long": "waited too long in the queue",
    "out_of_hours": "called outside opening hours",
    "asked": "asked to be called back",
    "digital_not_completed": "the digital route did not work out",
    "policy": "the routing policy chose a callback (chat or SMS)",
}
MAX_NOTE = 2000

STATE_WORDS = {
    "bot": "with the assistant",
    "queued": "waiting for a person",
    "assigned": "with a person",
    "closed": "closed",
}
AUTHOR_WORDS = {"citizen": "Citizen", "bot": "Assistant", "agent": "Agent", "system": "System"}
DELIVERY_WORDS = {
    "pending": "waiting to be sent",
    "retry": "will be retried",
    "sending_local": "sending",
    "queued": "queued at the provider",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "not delivered",
    "failed": "failed",
    "blocked": "NOT SENT: the citizen opted out of SMS (STOP)",
    "review": (
        "NOT CONFIRMED: it may have gone out (the provider timed out); check before sending again"
    ),
    "read": "read",
}

GROUND_WORDS = {
    "impairment": "cognitive or physical impairment",
    "no_computer": "no computer with a connection at home",
    "emigrated": "registered as emigrated",
    "homeless": "homeless (no fixed address)",
    "language": "language barrier",
    "no_digital_id": "cannot obtain a digital ID",
}
AGE_WORDS = {"under_15": "under 15", "15_64": "15–64", "65_79": "65–79", "80_plus": "80 or over"}
CHANNEL_WORDS = {"webchat": "web chat", "sms": "SMS", "voice": "phone"}


@dataclass(frozen=True)
class DeskParts:
    """What the desk's pages work with."""

    desk: Desk
    views: Views
    callbacks: CallbackDesk | None = None
    zone: ZoneInfo = ZoneInfo("Europe/Copenhagen")  # the agency's: times are shown in it
    access: DeskAccess | None = None


# Pages that show citizens' data without being one conversation: each view is audited.
AUDITED_LISTS = ("failed_callbacks", "call_again", "close_callback")
DESK_ROLE = "a desk role"


def blueprint(
    desk: Desk,
    views: Views,
    callbacks: CallbackDesk | None = None,
    timezone: str = "Europe/Copenhagen",
    access: DeskAccess | None = None,
    live: tuple[str, str] = ("", ""),
) -> Blueprint:
    """Return the desk's pages, each for signed-in agents, supervisors and admins.

    Times are shown in `timezone`, the agency's (KANAL_TIMEZONE). A conversation's pages
    (every route with a contact id) follow the access rule of `router/domain/access.py`
    instead, and each attempt is written to the audit log by `access`. `live` is the stream
    process's origin ("" for this one) and the secret its desk tokens are signed with: the
    pages follow their live streams there (router/entrypoints/streams/app.py).
    """
    bp = Blueprint(
        "desk",
        __name__,
        url_prefix="/desk",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    zone = ZoneInfo(timezone)
    bp.add_app_template_filter(partial(_clock, zone), "clock")
    bp.add_app_template_filter(partial(_stamp, zone), "stamp")
    bp.add_app_template_filter(_waited, "waited")
    bp.app_context_processor(_words)
    live_url, secret = live

    @bp.context_processor
    def _live():  # noqa: ANN202
        return {"live_url": live_url, "live_token": lambda: desk_token(secret, _agent_id())}

    parts = DeskParts(desk, views, callbacks, zone, access)
    routes = (
        ("/", queue, "GET"),
        ("/queue.json", queue_json, "GET"),
        ("/claim", claim, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>", conversation, "GET"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/messages.json", conversation_json, "GET"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/reply", reply, "POST"),
        (
            f"/contacts/<{ID_CONVERTER}:contact_id>/messages/<{ID_CONVERTER}:message_id>/review",
            settle_review,
            "POST",
        ),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/resolve", resolve, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/connect", connect_call, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/call-back", call_back_now, "POST"),
        ("/calls/taking", taking_calls, "POST"),
        ("/callbacks/failed", failed_callbacks, "GET"),
        (f"/callbacks/<{ID_CONVERTER}:callback_id>/call-again", call_again, "POST"),
        (f"/callbacks/<{ID_CONVERTER}:callback_id>/close", close_callback, "POST"),
    )
    for rule, view, method in routes:
        if "contact_id" in rule:
            guarded = role_required(*STAFF_ROLES)(_conversation_rule(bound(view, parts), parts))
        elif view.__name__ in AUDITED_LISTS:
            guarded = role_required(*DESK_ROLES)(_audited(bound(view, parts), parts))
        else:
            guarded = role_required(*DESK_ROLES)(bound(view, parts))
        bp.add_url_rule(rule, view.__name__, guarded, methods=[method])
    return bp


def _viewer() -> Viewer:
    return Viewer(user_id=_agent_id(), username=current_user.username, role=current_user.role)


def _route() -> str:
    return f"{request.method} {request.path}"


def _conversation_rule(view, parts: DeskParts):  # noqa: ANN001, ANN202
    """Let the view run only for whoever the access rule allows; audit every attempt."""

    @wraps(view)
    def checked(contact_id: int, **kwargs):  # noqa: ANN202
        if parts.access is None:  # a desk built without its audit log: the desk's roles
            if not current_user.has_role(*DESK_ROLES):
                return render_template("forbidden.html"), 403
            return view(contact_id=contact_id, **kwargs)
        found = parts.access.open(_viewer(), contact_id, action=view.__name__, route=_route())
        if found is None:
            abort(404)
        if not found.allowed:
            if request.path.endswith(".json"):
                return jsonify(error="You may not open this conversation."), 403
            return render_template("forbidden.html", reason=found.reason), 403
        return view(contact_id=contact_id, **kwargs)

    return checked


def _audited(view, parts: DeskParts):  # noqa: ANN001, ANN202
    """Audit each use of a page that shows citizens' data but is not one conversation."""

    @wraps(view)
    def checked(**kwargs):  # noqa: ANN202
        if parts.access is not None:
            parts.access.record(_viewer(), action=view.__name__, route=_route(), reason=DESK_ROLE)
        return view(**kwargs)

    return checked


def _agent_id() -> int:
    return int(current_user.id)


def _local(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if at is None else at.astimezone(zone)


def waited(seconds: int) -> str:
    """Return a wait in words an agent reads at a glance ("4 min 05 s")."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _clock(zone: ZoneInfo, at: datetime | None) -> str:
    local = _local(at, zone)
    return local.strftime("%H:%M:%S") if local else ""


def _stamp(zone: ZoneInfo, at: datetime | None) -> str:
    local = _local(at, zone)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def _waited(seconds: int) -> str:
    return waited(seconds)


def _words():
    return {
        "STATE_WORDS": STATE_WORDS,
        "AUTHOR_WORDS": AUTHOR_WORDS,
        "DELIVERY_WORDS": DELIVERY_WORDS,
        "WRAP_UPS": WRAP_UPS,
        "GROUND_WORDS": GROUND_WORDS,
        "AGE_WORDS": AGE_WORDS,
        "CHANNEL_WORDS": CHANNEL_WORDS,
        "CALLBACK_WORDS": CALLBACK_WORDS,
        "REASON_WORDS": REASON_WORDS,
    }


def _entry_json(entry) -> dict:
    return {
        "contact_id": entry.contact_id,
        "channel": entry.channel,
        "channel_words": CHANNEL_WORDS.get(entry.channel, entry.channel),
        "skill": entry.skill,
        "priority": entry.priority,
        "wait_seconds": entry.wait_seconds,
        "waited": waited(entry.wait_seconds),
        "enqueued_at": entry.enqueued_at.isoformat(timespec="seconds"),
        "rule_id": entry.rule_id,
        "reason": entry.reason,
        "need": entry.need,
        "identified": entry.identified,
        "url": url_for("desk.conversation", contact_id=entry.contact_id),
    }


def _message_json(message, zone: ZoneInfo) -> dict:  # noqa: ANN001
    return {
        "id": message.id,
        "author": message.author,
        "author_words": AUTHOR_WORDS.get(message.author, message.author),
        "direction": message.direction,
        "text": message.text,
        "at": message.created_at.isoformat(timespec="seconds"),
        "clock": _clock(zone, message.created_at),
        "delivery_status": message.delivery_status,
        "delivery_words": DELIVERY_WORDS.get(
            message.delivery_status or "", message.delivery_status
        ),
    }


def queue(parts: DeskParts):
    """Show the waiting contacts and the agent's own contacts."""
    views = parts.views
    calls = parts.callbacks
    return render_template(
        "desk/queue.html",
        waiting=views.queue(),
        mine=views.assigned_to(_agent_id()),
        taking_calls=parts.desk.taking_calls(_agent_id()) if calls else False,
        failed_count=len(calls.failed()) if calls else 0,
    )


def queue_json(parts: DeskParts):
    """Answer the queue as JSON for the page's self-refresh."""
    views = parts.views
    waiting = views.queue()
    return jsonify(
        waiting=[_entry_json(e) for e in waiting],
        mine=[_entry_json(e) for e in views.assigned_to(_agent_id())],
        count=len(waiting),
    )


def claim(parts: DeskParts):
    """Take the next waiting contact and open it."""
    # Agents' skills arrive with the full desk; until then every agent takes every skill.
    claimed = parts.desk.claim_next(ClaimNext(agent_id=_agent_id(), skills=()))
    if claimed is None:
        flash("Nobody is waiting right now.", "info")
        return redirect(url_for("desk.queue"))
    flash(f"You took contact {claimed.contact_id} (waited {waited(claimed.wait_seconds)}).")
    return redirect(url_for("desk.conversation", contact_id=claimed.contact_id))


def conversation(parts: DeskParts, contact_id: int):
    """Show a contact: transcript, citizen's facts, decision trail, reply and resolve."""
    return _conversation_page(parts, contact_id)


def _conversation_page(parts: DeskParts, contact_id: int, draft: str = "", status: int = 200):
    found = parts.views.conversation(contact_id)
    if found is None:
        abort(404)
    contact = found.contact
    mine = contact.agent_id == _agent_id() and contact.state == ContactState.ASSIGNED
    page = render_template(
        "desk/conversation.html",
        c=found,
        contact=contact,
        mine=mine,
        callbacks=parts.callbacks.for_contact(contact_id) if parts.callbacks else [],
        last_id=found.messages[-1].id if found.messages else 0,
        draft=draft,
    )
    return page, status


def conversation_json(parts: DeskParts, contact_id: int):
    """Answer a contact's messages after a cursor, with its state, for live updates."""
    try:
        after = parse_id(request.args.get("after"), 0)
    except ValueError:
        return jsonify(error="`after` must be a message id: an integer of at most 64 bits."), 400
    views = parts.views
    contact = views.contact(contact_id)
    if contact is None:
        return jsonify(error="No such contact."), 404
    state = contact.state
    return jsonify(
        messages=[_message_json(m, parts.zone) for m in views.messages(contact_id, after)],
        state=state,
        state_words=STATE_WORDS.get(state, state),
    )


def reply(parts: DeskParts, contact_id: int):
    """Send the agent's answer on the citizen's channel."""
    # PostgreSQL refuses NUL characters in text; nobody means to send one.
    text = request.form.get("text", "").replace("\x00", "").strip()
    back = url_for("desk.conversation", contact_id=contact_id)
    if not text:
        flash("Write a reply before sending.", "error")
        return redirect(back + "#reply")
    if len(text) > MAX_REPLY:
        flash(f"The reply is longer than {MAX_REPLY} characters; shorten it.", "error")
        return _conversation_page(parts, contact_id, draft=text, status=400)
    try:
        replied = parts.desk.reply(
            AgentReply(agent_id=_agent_id(), contact_id=contact_id, text=text)
        )
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if replied.blocked:
        flash(
            "Your reply was NOT sent: this citizen has opted out of SMS (they texted STOP). "
            "It is kept in the contact's transcript. Reach them another way, "
            "or wait until they text START.",
            "error",
        )
    else:
        flash("Reply sent.")
    return redirect(back + "#reply")


def settle_review(parts: DeskParts, contact_id: int, message_id: int):
    """Settle an SMS that may have gone out: confirmed received, or send it again."""
    action = request.form.get("action", "")
    back = url_for("desk.conversation", contact_id=contact_id)
    if action not in ("confirm", "resend"):
        flash("Choose whether the citizen got the message or it should be sent again.", "error")
        return redirect(back)
    try:
        parts.desk.settle_review(contact_id, message_id, resend=action == "resend", by=_agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash("Sent again." if action == "resend" else "Marked as received.")
    return redirect(back + f"#m{message_id}")


def resolve(parts: DeskParts, contact_id: int):
    """Close the contact with a wrap-up code."""
    code = request.form.get("wrap_up", "")
    if code not in _WRAP_UP:
        flash("Choose a wrap-up code.", "error")
        return redirect(url_for("desk.conversation", contact_id=contact_id) + "#resolve")
    try:
        parts.desk.resolve(
            Resolve(
                agent_id=_agent_id(),
                contact_id=contact_id,
                wrap_up=code,
                completed=_WRAP_UP[code],
            )
        )
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("desk.conversation", contact_id=contact_id))
    flash(f"Contact {contact_id} resolved.")
    return redirect(url_for("desk.queue"))


def connect_call(parts: DeskParts, contact_id: int):
    """Ring the agent's phone and connect it to the caller waiting on this contact."""
    back = url_for("desk.conversation", contact_id=contact_id)
    if parts.callbacks is None:
        abort(404)
    try:
        result = parts.callbacks.connect_agent(contact_id, _agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if result.outcome == "accepted":
        flash("Your phone is ringing: answer it to speak to the caller.")
    elif result.outcome == "rejected":
        flash(f"The call could not be placed ({result.error}). Check your phone setting.", "error")
    else:
        flash("The phone service did not answer; try Connect call again.", "error")
    return redirect(back)


def call_back_now(parts: DeskParts, contact_id: int):
    """Call back the citizen of a contact the agent took while it waited for its callback."""
    back = url_for("desk.conversation", contact_id=contact_id)
    if parts.callbacks is None:
        abort(404)
    try:
        state = parts.callbacks.call_back_now(contact_id, _agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if state == CallbackState.CALLING:
        flash("Calling the citizen: when they answer, the call is put through to your phone.")
    else:
        flash("The call could not be placed; the callback stays booked.", "error")
    return redirect(back)


def taking_calls(parts: DeskParts):
    """Say whether callbacks may be placed for this agent (they take calls) or not."""
    if parts.callbacks is None:
        abort(404)
    taking = request.form.get("taking") == "yes"
    parts.desk.set_taking_calls(_agent_id(), taking)
    flash(
        "You take calls: callbacks are placed for you when you are free."
        if taking
        else "You do not take calls now: no callback will be placed for you."
    )
    return redirect(url_for("desk.queue"))


def failed_callbacks(parts: DeskParts):
    """List the callbacks whose attempts are used up, for staff to call again or close."""
    if parts.callbacks is None:
        abort(404)
    return render_template("desk/failed_callbacks.html", failed=parts.callbacks.failed())


def call_again(parts: DeskParts, callback_id: int):
    """Book a failed callback again: a new round of calls from now."""
    try:
        parts.callbacks.call_again(callback_id, _agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Callback {callback_id} is booked again: it is placed when an agent is free.")
    return redirect(url_for("desk.failed_callbacks"))


def close_callback(parts: DeskParts, callback_id: int):
    """Close a failed callback with a note saying what was done instead."""
    note = request.form.get("note", "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        flash(f"The note is longer than {MAX_NOTE} characters; shorten it.", "error")
        return redirect(url_for("desk.failed_callbacks"))
    try:
        parts.callbacks.close(callback_id, _agent_id(), note)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Callback {callback_id} is closed with your note.")
    return redirect(url_for("desk.failed_callbacks"))
