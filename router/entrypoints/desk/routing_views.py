"""The desk's part of routing: the agent's presence, the contacts offered to them (Accept,
Decline), and transferring a contact with a note.

Registered by the desk's blueprint (views.py); what the pages show of it comes from
`template_values` (presence, queues, a contact's transfers).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_login import current_user

from router.domain.presence import PresenceState, parse_status
from router.domain.transfers import MAX_NOTE
from router.entrypoints.desk.parts import _, agent_id
from router.service.assignments import Assignments
from router.service.errors import ServiceError
from router.service.translations import N_

PRESENCE_WORDS = {
    PresenceState.AVAILABLE: N_("available"),
    PresenceState.BUSY: N_("busy"),
    PresenceState.AWAY: N_("away"),
    PresenceState.OFFLINE: N_("offline"),
}


def routes(id_converter: str) -> tuple:
    """The desk's routing routes: (rule, view, method), views taking the desk's parts."""
    return (
        ("/presence", presence, "POST"),
        (f"/offers/<{id_converter}:offer_id>/accept", accept_offer, "POST"),
        (f"/offers/<{id_converter}:offer_id>/decline", decline_offer, "POST"),
        (f"/contacts/<{id_converter}:contact_id>/transfer", transfer, "POST"),
    )


@dataclass(frozen=True)
class OfferShown:
    """An offer to the agent as the queue page shows it."""

    offer_id: int
    contact_id: int
    channel: str | None
    need: str | None
    seconds_left: int
    expires_at: str  # ISO 8601, for the page's countdown


def offers_shown(parts) -> list[OfferShown]:  # noqa: ANN001 - the desk's DeskParts
    """The agent's open offers still in their time, with what the page says of each."""
    assignments: Assignments = parts.desk.assignments
    now = assignments.clock()
    shown = []
    for offer in assignments.offers_for(agent_id()):
        contact = parts.views.contact(offer.contact_id)
        shown.append(
            OfferShown(
                offer.id, offer.contact_id, offer.channel, contact.need if contact else None,
                max(0, int((offer.expires_at - now).total_seconds())),
                offer.expires_at.isoformat(timespec="seconds"),
            )
        )  # fmt: skip
    return shown


def accept_offer(parts, offer_id: int):  # noqa: ANN001, ANN201
    """The agent takes the contact offered to them, and opens it."""
    try:
        claimed = parts.desk.assignments.accept(agent_id(), offer_id)
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("desk.queue"))
    flash(_("You took contact {id}.", id=claimed.contact_id))
    return redirect(url_for("desk.conversation", contact_id=claimed.contact_id))


def decline_offer(parts, offer_id: int):  # noqa: ANN001, ANN201
    """The agent says no: the contact is offered to the next agent."""
    try:
        parts.desk.assignments.decline(agent_id(), offer_id)
    except ServiceError as exc:
        flash(_(str(exc)), "error")
    else:
        flash(_("You declined the offer: it goes to the next agent."))
    return redirect(url_for("desk.queue"))


def template_values(parts) -> dict:  # noqa: ANN001 - the desk's DeskParts
    """What the desk's templates show of routing (a context processor's values); using a
    desk page counts as being seen at the desk (presence)."""
    assignments = parts.desk.assignments
    if request.blueprint != "desk" or not current_user.is_authenticated:
        return {}
    assignments.seen(agent_id())
    return {
        "PRESENCE_WORDS": PRESENCE_WORDS,
        "routing_queues": assignments.queues,
        "presence_of": lambda: assignments.presence(agent_id()).state,
        "transfers_of": assignments.transfers,
    }


def presence(parts):  # noqa: ANN001, ANN201
    """The agent says where they are: available, busy, away or offline."""
    assignments = parts.desk.assignments
    try:
        status = parse_status(request.form.get("status", ""))
        assignments.set_presence(agent_id(), status)
    except (ValueError, ServiceError) as exc:
        flash(str(exc), "error")
    else:
        flash(_("You are {status}.", status=_(PRESENCE_WORDS[status])))
    return redirect(url_for("desk.queue"))


def transfer(parts, contact_id: int):  # noqa: ANN001, ANN201
    """Hand the contact to another queue or agent, with a note for the next person."""
    assignments: Assignments = parts.desk.assignments
    back = url_for("desk.conversation", contact_id=contact_id)
    queue = request.form.get("queue", "").strip() or None
    username = request.form.get("agent", "").strip() or None
    note = request.form.get("note", "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        flash(_("The note is longer than {n} characters; shorten it.", n=MAX_NOTE), "error")
        return redirect(back + "#transfer")
    try:
        agent = assignments.agent_named(username) if username else None
        done = assignments.transfer(agent_id(), contact_id, queue=queue, agent=agent, note=note)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(back + "#transfer")
    if done.to_agent_id is not None:
        flash(_("Contact {id} is offered to {agent}.", id=contact_id, agent=username))
    else:
        flash(
            _("Contact {id} is waiting in the queue {queue}.", id=contact_id, queue=done.to_queue)
        )
    return redirect(url_for("desk.queue"))
