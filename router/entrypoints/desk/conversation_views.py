"""A contact's page on the desk: transcript, citizen's facts, decision trail; replying,
settling an SMS that may have gone out, internal notes, and resolving with a wrap-up code and
an outcome."""

from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for

from router.domain.commands import AgentReply, Resolve
from router.domain.model import ContactState
from router.domain.wrapup import WRAP_UP_CODES, Outcome
from router.entrypoints.desk import words as w
from router.entrypoints.desk.canned import canned_replies
from router.entrypoints.desk.parts import DeskParts, _, agent_id
from router.entrypoints.desk.words import DeskWords
from router.service.errors import ServiceError
from router.service.translations import N_, translator
from router.web import parse_id

MAX_REPLY = 2000
MAX_NOTE = 2000

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
    Outcome.INELIGIBLE: N_("Not eligible (need settled)"),
}


def routes(id_converter: str) -> tuple:
    """A contact's routes: (rule, view, method), views taking the desk's parts."""
    contact = f"/contacts/<{id_converter}:contact_id>"
    return (
        (contact, conversation, "GET"),
        (f"{contact}/messages.json", conversation_json, "GET"),
        (f"{contact}/reply", reply, "POST"),
        (f"{contact}/messages/<{id_converter}:message_id>/review", settle_review, "POST"),
        (f"{contact}/resolve", resolve, "POST"),
        (f"{contact}/notes", add_note, "POST"),
    )


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


def conversation(parts: DeskParts, contact_id: int):
    """Show a contact: transcript, citizen's facts, decision trail, reply and resolve."""
    return _conversation_page(parts, contact_id)


def _conversation_page(parts: DeskParts, contact_id: int, draft: str = "", status: int = 200):
    found = parts.views.conversation(contact_id)
    if found is None:
        abort(404)
    contact = found.contact
    mine = contact.agent_id == agent_id() and contact.state == ContactState.ASSIGNED
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
            AgentReply(agent_id=agent_id(), contact_id=contact_id, text=text)
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
        parts.desk.settle_review(contact_id, message_id, resend=action == "resend", by=agent_id())
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
            Resolve(agent_id=agent_id(), contact_id=contact_id, wrap_up=code, outcome=outcome)
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
        parts.desk.add_note(agent_id(), contact_id, text)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back + "#notes")
    flash(_("Note saved. Only staff see it; it is not sent to the citizen."))
    return redirect(back + "#notes")
