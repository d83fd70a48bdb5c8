"""The agent desk: the queue, taking the next contact, a contact's page, reply and resolve.

The desk speaks the agent's language (`?lang=` or the switch on every page, kept in the
session; else the browser's; else the agency's first) through kanal's catalogues, and shows
times in the agency's time zone (router/entrypoints/desk/words.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from router.domain.access import Viewer
from router.domain.callbacks import CallbackState
from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.domain.model import STAFF_ROLES, ContactState
from router.domain.replies import CannedReply
from router.domain.wrapup import WRAP_UP_CODES, Outcome
from router.entrypoints.auth import role_required, session_began
from router.entrypoints.desk import routing_views, supervisor_views
from router.entrypoints.desk import words as w
from router.entrypoints.desk.words import DeskWords, canned_replies, link_parts, waited
from router.entrypoints.live_tokens import desk_token
from router.service.access import DeskAccess
from router.service.callback_desk import CallbackDesk
from router.service.desk import Desk
from router.service.errors import Busy, ServiceError
from router.service.supervision import Supervision
from router.service.translations import N_, language_code, translator
from router.service.views import Views
from router.web import ID_CONVERTER, bound, local_path, parse_id

DESK_ROLES = ("agent", "supervisor", "admin")
MAX_REPLY = 2000
MAX_NOTE = 2000
LANGUAGE_KEY = "desk_language"  # the agent's choice of the desk's language, in the session

# Wrap-up codes in words (router/domain/wrapup.py has the codes) and the outcomes.
WRAP_UP_WORDS = {
    "answered": N_("Question answered"),
    "digital_route_shown": N_("Shown the digital route"),
    "application_helped": N_("Helped with an application"),
    "change_registered": N_("Change registered"),
    "referred": N_("Referred elsewhere"),
    "callback_done": N_("Callback done"),
    "complaint_taken": N_("Complaint taken"),
    "no_answer_needed": N_("No answer needed"),
}
OUTCOME_WORDS = {
    Outcome.RESOLVED: N_("Resolved"),
    Outcome.ASSISTED_DIGITAL: N_("Resolved digitally with help (assisted digital)"),
    Outcome.REFERRED: N_("Referred"),
    Outcome.NOT_RESOLVED: N_("Not resolved"),
}


@dataclass(frozen=True)
class DeskParts:
    """What the desk's pages work with."""

    desk: Desk
    views: Views
    callbacks: CallbackDesk | None = None
    zone: ZoneInfo = ZoneInfo("Europe/Copenhagen")  # the agency's: times are shown in it
    access: DeskAccess | None = None
    languages: tuple[str, ...] = ("en",)
    # (profile, rule id) -> the rule's reason as the profile wrote it, to say it again in
    # the desk's language; None when the profile is not the one running.
    rules: Callable[[str, str], str | None] = lambda _profile, _rule: None
    replies: tuple[CannedReply, ...] = ()  # the agency's canned replies (KANAL_CANNED_REPLIES)
    agency: str = "kanal"
    supervision: Supervision | None = None  # the supervisor board's figures and moves


# Pages that show citizens' data without being one conversation: each view is audited.
AUDITED_LISTS = ("failed_callbacks", "call_again", "close_callback")
DESK_ROLE = "a desk role"


def blueprint(
    desk: Desk,
    views: Views,
    callbacks: CallbackDesk | None = None,
    timezone: str = "Europe/Copenhagen",
    access: DeskAccess | None = None,
    languages: Sequence[str] = ("en",),
    rules: Callable[[str, str], str | None] | None = None,
    replies: tuple[CannedReply, ...] = (),
    agency: str = "kanal",
    live: tuple[str, str] = ("", ""),
    supervision: Supervision | None = None,
) -> Blueprint:
    """Return the desk's pages, each for signed-in agents, supervisors and admins.

    Times are shown in `timezone`, the agency's (KANAL_TIMEZONE), and texts in one of
    `languages` (KANAL_LANGUAGES), the agent's choice. A conversation's pages (every route
    with a contact id) follow the access rule of `router/domain/access.py` instead, and each
    attempt is written to the audit log by `access`. `live` is the stream process's origin
    ("" for this one) and the secret its desk tokens are signed with: the pages follow their
    live streams there (router/entrypoints/streams/app.py, docs/live.md).
    """
    bp = Blueprint(
        "desk",
        __name__,
        url_prefix="/desk",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    parts = DeskParts(
        desk, views, callbacks, ZoneInfo(timezone), access, tuple(languages),
        rules or DeskParts.rules, tuple(replies), agency, supervision,
    )  # fmt: skip
    bp.before_request(bound(_speak, parts))
    bp.add_app_template_filter(link_parts, "link_parts")
    bp.add_app_template_filter(waited, "waited")
    bp.app_context_processor(bound(_words, parts))
    bp.app_context_processor(bound(routing_views.template_values, parts))
    live_url, secret = live

    @bp.context_processor
    def _live():  # noqa: ANN202
        return {
            "live_url": live_url,
            "live_token": lambda: desk_token(secret, _agent_id(), _issued(parts.views.clock())),
        }

    routes = (
        ("/", queue, "GET"),
        ("/queue.json", queue_json, "GET"),
        ("/claim", claim, "POST"),
        ("/language", choose_language, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>", conversation, "GET"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/messages.json", conversation_json, "GET"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/reply", reply, "POST"),
        (
            f"/contacts/<{ID_CONVERTER}:contact_id>/messages/<{ID_CONVERTER}:message_id>/review",
            settle_review,
            "POST",
        ),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/resolve", resolve, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/notes", add_note, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/connect", connect_call, "POST"),
        (f"/contacts/<{ID_CONVERTER}:contact_id>/call-back", call_back_now, "POST"),
        ("/calls/taking", taking_calls, "POST"),
        ("/callbacks/failed", failed_callbacks, "GET"),
        (f"/callbacks/<{ID_CONVERTER}:callback_id>/call-again", call_again, "POST"),
        (f"/callbacks/<{ID_CONVERTER}:callback_id>/close", close_callback, "POST"),
        *routing_views.routes(ID_CONVERTER),
        *supervisor_views.routes(ID_CONVERTER),
    )
    for rule, view, method in routes:
        if view.__name__ == supervisor_views.BOARD_REFRESH:
            guarded = role_required(*supervisor_views.SUPERVISOR_ROLES)(bound(view, parts))
        elif view.__name__ in supervisor_views.SUPERVISOR_VIEWS:
            roles = supervisor_views.SUPERVISOR_ROLES
            guarded = role_required(*roles)(_audited(bound(view, parts), parts))
        elif "contact_id" in rule:
            guarded = role_required(*STAFF_ROLES)(_conversation_rule(bound(view, parts), parts))
        elif view.__name__ in AUDITED_LISTS:
            guarded = role_required(*DESK_ROLES)(_audited(bound(view, parts), parts))
        else:
            guarded = role_required(*DESK_ROLES)(bound(view, parts))
        bp.add_url_rule(rule, view.__name__, guarded, methods=[method])
    return bp


def desk_language(languages: Sequence[str]) -> str:
    """The desk's language: ?lang= (kept), else the agent's choice, else the browser's."""
    asked = language_code(request.args.get("lang"))
    if asked in languages:
        session[LANGUAGE_KEY] = asked
        return asked
    chosen = session.get(LANGUAGE_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _speak(parts: DeskParts) -> None:
    g.page_language = desk_language(parts.languages)


def _(message: str, **values: object) -> str:
    """Translate one of the desk's texts into the page's language."""
    return translator(g.get("page_language"))(message, **values)


def _words(parts: DeskParts) -> dict:
    if request.blueprint != "desk":
        return {}
    speak = translator(g.get("page_language"))
    said = DeskWords(speak, parts.zone)
    return {
        "say": said,
        "ngettext": speak.ngettext,
        "W": w,
        "WRAP_UP_WORDS_MAP": WRAP_UP_WORDS,
        "WRAP_UPS": [(code, WRAP_UP_WORDS.get(code, code)) for code in WRAP_UP_CODES],
        "OUTCOMES": list(OUTCOME_WORDS.items()),
        "desk_languages": [(code, w.LANGUAGE_NAMES.get(code, code)) for code in parts.languages],
        "reason_of": lambda d: said.reason(d, parts.rules),
    }


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
                return jsonify(error=_("You may not open this conversation.")), 403
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


def _visible(parts: DeskParts, entries: list) -> list:
    """The waiting contacts of the agent's queues (a supervisor's: their teams')."""
    return parts.access.visible(_viewer(), entries) if parts.access else entries


def _issued(now: datetime) -> datetime:
    """When a live token is signed: not before its page session began, which counts from
    after the last sign-out even when a clock running ahead stamped it (User.session_start),
    so the stream process honours the token of a session it honours."""
    began = session_began()
    return max(now, began) if began is not None else now


def _agent_id() -> int:
    return int(current_user.id)


def _entry_json(entry, said: DeskWords, rules) -> dict:  # noqa: ANN001
    return {
        "contact_id": entry.contact_id,
        "channel": entry.channel,
        "channel_words": said.word(w.CHANNEL_WORDS, entry.channel),
        "skill": entry.skill,
        "priority": entry.priority,
        "wait_seconds": entry.wait_seconds,
        "waited": waited(entry.wait_seconds),
        "enqueued_at": entry.enqueued_at.isoformat(timespec="seconds"),
        "rule_id": entry.rule_id,
        "rule_words": said.rule(entry.rule_id),
        "reason": entry.reason,
        "reason_words": said.reason(entry, rules),
        "need": entry.need,
        "need_words": said.need(entry.need),
        "identified": entry.identified,
        "url": url_for("desk.conversation", contact_id=entry.contact_id),
    }


def _message_json(message, said: DeskWords) -> dict:  # noqa: ANN001
    return {
        "id": message.id,
        "author": message.author,
        "author_words": said.word(w.AUTHOR_WORDS, message.author),
        "direction": message.direction,
        "text": message.text,
        "at": message.created_at.isoformat(timespec="seconds"),
        "clock": said.clock(message.created_at),
        "delivery_status": message.delivery_status,
        "delivery_words": said.word(w.DELIVERY_WORDS, message.delivery_status),
    }


def choose_language(parts: DeskParts):
    """Keep the agent's choice of the desk's language and go back to the page they were on."""
    chosen = language_code(request.form.get("language"))
    if chosen in parts.languages:
        session[LANGUAGE_KEY] = chosen
        g.page_language = chosen
    back = request.form.get("next", "")
    if not local_path(back, "/desk/"):
        back = url_for("desk.queue")  # only a desk page of this site: no open redirect
    return redirect(back)


def queue(parts: DeskParts):
    """Show the waiting contacts and the agent's own contacts."""
    views = parts.views
    calls = parts.callbacks
    return render_template(
        "desk/queue.html",
        offers=routing_views.offers_shown(parts),
        waiting=_visible(parts, views.queue()),
        mine=views.assigned_to(_agent_id()),
        taking_calls=parts.desk.taking_calls(_agent_id()) if calls else False,
        failed_count=len(calls.failed()) if calls else 0,
    )


def queue_json(parts: DeskParts):
    """Answer the queue as JSON for the page's self-refresh."""
    said = DeskWords(translator(g.get("page_language")), parts.zone)
    views = parts.views
    waiting = _visible(parts, views.queue())
    return jsonify(
        waiting=[_entry_json(e, said, parts.rules) for e in waiting],
        mine=[_entry_json(e, said, parts.rules) for e in views.assigned_to(_agent_id())],
        offers=[
            {"offer_id": o.offer_id, "contact_id": o.contact_id, "seconds_left": o.seconds_left}
            for o in routing_views.offers_shown(parts)
        ],
        count=len(waiting),
    )


def claim(parts: DeskParts):
    """Take the next waiting contact and open it."""
    # Agents' skills arrive with the full desk; until then every agent takes every skill.
    try:
        claimed = parts.desk.claim_next(ClaimNext(agent_id=_agent_id(), skills=()))
    except Busy:  # work may be waiting: never say "nobody is waiting" then
        flash(_("Others are taking work at this very moment: try Take next again."), "error")
        return redirect(url_for("desk.queue"))
    if claimed is None:
        flash(_("Nobody is waiting right now."), "info")
        return redirect(url_for("desk.queue"))
    flash(
        _("You took contact {id} (waited {wait}).", id=claimed.contact_id,
          wait=waited(claimed.wait_seconds))
    )  # fmt: skip
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
    language = contact.language or (found.citizen.language if found.citizen else None)
    canned = canned_replies(
        parts.replies,
        contact.need,
        language=language or parts.languages[0],
        name=found.citizen.name if found.citizen else None,
        today=parts.views.clock().astimezone(parts.zone).date(),
        agency=parts.agency,
    )
    page = render_template(
        "desk/conversation.html",
        c=found,
        contact=contact,
        mine=mine,
        canned=canned,
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
        return jsonify(error=_("`after` must be a message id: an integer of at most 64 bits.")), 400
    said = DeskWords(translator(g.get("page_language")), parts.zone)
    views = parts.views
    contact = views.contact(contact_id)
    if contact is None:
        return jsonify(error=_("No such contact.")), 404
    state = contact.state
    return jsonify(
        messages=[_message_json(m, said) for m in views.messages(contact_id, after)],
        state=state,
        state_words=said.word(w.STATE_WORDS, state),
    )


def reply(parts: DeskParts, contact_id: int):
    """Send the agent's answer on the citizen's channel."""
    # PostgreSQL refuses NUL characters in text; nobody means to send one.
    text = request.form.get("text", "").replace("\x00", "").strip()
    back = url_for("desk.conversation", contact_id=contact_id)
    if not text:
        flash(_("Write a reply before sending."), "error")
        return redirect(back + "#reply")
    if len(text) > MAX_REPLY:
        flash(_("The reply is longer than {n} characters; shorten it.", n=MAX_REPLY), "error")
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
            _(
                "Your reply was NOT sent: this citizen has opted out of SMS (they texted STOP). "
                "It is kept in the contact's transcript. Reach them another way, "
                "or wait until they text START."
            ),
            "error",
        )
    else:
        flash(_("Reply sent."))
    return redirect(back + "#reply")


def settle_review(parts: DeskParts, contact_id: int, message_id: int):
    """Settle an SMS that may have gone out: confirmed received, or send it again."""
    action = request.form.get("action", "")
    back = url_for("desk.conversation", contact_id=contact_id)
    if action not in ("confirm", "resend"):
        flash(_("Choose whether the citizen got the message or it should be sent again."), "error")
        return redirect(back)
    try:
        parts.desk.settle_review(contact_id, message_id, resend=action == "resend", by=_agent_id())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(_("Sent again.") if action == "resend" else _("Marked as received."))
    return redirect(back + f"#m{message_id}")


def resolve(parts: DeskParts, contact_id: int):
    """Close the contact with a wrap-up code and an outcome, both required."""
    code = request.form.get("wrap_up", "")
    outcome = request.form.get("outcome", "")
    back = url_for("desk.conversation", contact_id=contact_id)
    if code not in WRAP_UP_CODES:
        flash(_("Choose a wrap-up code."), "error")
        return redirect(back + "#resolve")
    if outcome not in OUTCOME_WORDS:
        flash(_("Choose an outcome: resolved, assisted digital, referred or not resolved."),
              "error")  # fmt: skip
        return redirect(back + "#resolve")
    try:
        parts.desk.resolve(
            Resolve(agent_id=_agent_id(), contact_id=contact_id, wrap_up=code, outcome=outcome)
        )
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(_("Contact {id} resolved.", id=contact_id))
    return redirect(url_for("desk.queue"))


def add_note(parts: DeskParts, contact_id: int):
    """Keep an internal note on the contact for colleagues (never sent to the citizen)."""
    text = request.form.get("note", "")
    back = url_for("desk.conversation", contact_id=contact_id)
    if not text.strip():
        flash(_("Write the note before saving it."), "error")
        return redirect(back + "#notes")
    if len(text.strip()) > MAX_NOTE:
        flash(_("The note is longer than {n} characters; shorten it.", n=MAX_NOTE), "error")
        return redirect(back + "#notes")
    try:
        parts.desk.add_note(_agent_id(), contact_id, text)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back + "#notes")
    flash(_("Note saved. Only staff see it; it is not sent to the citizen."))
    return redirect(back + "#notes")


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
        state = parts.callbacks.call_back_now(contact_id, _agent_id())
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
    parts.desk.set_taking_calls(_agent_id(), taking)
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
    return render_template("desk/failed_callbacks.html", failed=parts.callbacks.failed())


def call_again(parts: DeskParts, callback_id: int):
    """Book a failed callback again: a new round of calls from now."""
    try:
        parts.callbacks.call_again(callback_id, _agent_id())
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
        parts.callbacks.close(callback_id, _agent_id(), note)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Callback {id} is closed with your note.", id=callback_id))
    return redirect(url_for("desk.failed_callbacks"))
