"""The desk's API: claim, answer, transfer, resolve, call back and presence, for integrations
and tests.

Authenticated by a desk member's API token (`kanal tokens create LABEL --user NAME`), with the
same rules as the desk's pages: the conversation routes go through the access rule
(router/domain/access.py) and every attempt is audited; the work goes through the same
services (`Assignments`, `Desk`). Schemas and operations: `api_doc.py` (docs/api.md).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, g, jsonify, request

from router.domain.access import Viewer
from router.domain.commands import AgentReply, Resolve
from router.domain.model import DeliveryState
from router.domain.presence import PresenceState
from router.entrypoints.desk import api_doc as doc
from router.openapi import Invalid, describe, parse_json
from router.service.access import DeskAccess
from router.service.callback_desk import CallbackDesk
from router.service.desk import Desk
from router.service.errors import Busy, ServiceError
from router.service.views import Views
from router.web import ID_CONVERTER, bound

DESK_ROLES = ("agent", "supervisor", "admin")
PREFIX = "/api/v1/desk"


def blueprint(
    desk: Desk,
    views: Views,
    access: DeskAccess,
    token_required: Callable,
    callbacks: CallbackDesk | None = None,
) -> Blueprint:
    """Return the desk API; `token_required(*roles)` guards it; `callbacks` (when callbacks
    are wired) lets an agent call back the citizen of a contact they took."""
    bp = Blueprint("desk_api", __name__)
    guard = token_required(*DESK_ROLES)
    conversation = f"{PREFIX}/conversations/<{ID_CONVERTER}:id>"
    routes = (
        (f"{PREFIX}/claim", claim, doc.CLAIM),
        (f"{conversation}/messages", reply, doc.MESSAGES),
        (f"{conversation}/transfer", transfer, doc.TRANSFER),
        (f"{conversation}/resolve", resolve, doc.RESOLVE),
        (f"{PREFIX}/presence", presence, doc.PRESENCE),
    )
    for rule, view, operation in routes:
        handler = bound(view, desk, views, access)
        if "<" in rule:
            handler = _conversation_rule(handler, access, desk)
        bp.add_url_rule(rule, view.__name__, describe(guard(handler), operation), methods=["POST"])
    if callbacks is not None:
        handler = _conversation_rule(bound(call_back, callbacks), access, desk)
        bp.add_url_rule(
            f"{conversation}/call-back", "call_back",
            describe(guard(handler), doc.CALL_BACK), methods=["POST"],
        )  # fmt: skip
    return bp


def _viewer() -> Viewer:
    user = g.api_user
    return Viewer(user_id=int(user.id), username=user.username, role=user.role)


def _conversation_rule(view, access: DeskAccess, desk: Desk):  # noqa: ANN001, ANN202
    """Let the view run only for whoever the access rule allows; audit every attempt.
    Working on a conversation counts as being at the desk (presence)."""

    def checked(id: int):  # noqa: A002, ANN202
        desk.assignments.seen(int(g.api_user.id))
        route = f"{request.method} {request.path}"
        found = access.open(_viewer(), id, action=f"api_{view.__name__}", route=route)
        if found is None:
            return _error("No such contact.", 404)
        if not found.allowed:
            return _error("You may not open this conversation.", 403)
        return view(contact_id=id)

    checked.__name__ = view.__name__
    return checked


def _error(message: str, status: int, field: str | None = None) -> tuple[Response, int]:
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def _body(model):  # noqa: ANN001, ANN202
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    return parse_json(model, body)


def claim(desk: Desk, views: Views, access: DeskAccess):
    """Take the next conversation the agent may take; 204 when nothing matches, 409 with
    Retry-After when other claims kept it from finishing (work may be waiting)."""
    me = _viewer()
    try:
        claimed = desk.assignments.claim(me.user_id)
    except Busy as exc:  # items may be waiting: ask again, never "nothing to take"
        response, status = _error(str(exc), 409)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, status
    if claimed is None:
        return Response(status=204)
    route = f"{request.method} {request.path}"
    access.open(me, claimed.contact_id, action="api_claim", route=route)  # audited
    found = views.conversation(claimed.contact_id)
    item = found.queue_item
    return jsonify(
        conversation_id=claimed.contact_id,
        channel=found.contact.channel,
        queue=getattr(item, "queue", None),
        wait_seconds=claimed.wait_seconds,
        citizen=_citizen(found.citizen),
        transcript=[_message(m) for m in found.messages],
    )


def _citizen(facts) -> dict | None:  # noqa: ANN001 - CitizenFacts
    if facts is None:
        return None
    return {
        "pseudonym": facts.pseudonym,
        "language": facts.language,
        "age_band": facts.age_band,
        "exempt": facts.exempt,
        "exemptions": [
            {
                "ground": e.ground,
                "valid_from": e.valid_from.isoformat(),
                "valid_until": e.valid_until.isoformat() if e.valid_until else None,
                "valid_now": e.valid_now,
            }
            for e in facts.exemptions
        ],
    }


def _message(m) -> dict:  # noqa: ANN001 - a Message
    return {
        "id": m.id,
        "author": m.author,
        "direction": m.direction,
        "text": m.text,
        "at": m.created_at.isoformat(),
        "delivery_status": m.delivery_status,
    }


def reply(desk: Desk, views: Views, access: DeskAccess, contact_id: int):
    """Answer the citizen on their own channel."""
    try:
        asked = _body(doc.Reply)
        replied = desk.reply(
            AgentReply(agent_id=_viewer().user_id, contact_id=contact_id, text=asked.text)
        )
    except Invalid as exc:
        return _error(str(exc), 400, exc.field)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    status = replied.message.delivery_status
    return jsonify(
        message_id=replied.message.id,
        delivery_status=status,
        sent=status != DeliveryState.BLOCKED,
    ), 201


def transfer(desk: Desk, views: Views, access: DeskAccess, contact_id: int):
    """Hand the conversation to another queue or agent, with a note."""
    assignments = desk.assignments
    try:
        asked = _body(doc.Transfer)
        if (asked.queue is None) == (asked.agent is None):
            raise Invalid("Send `queue` or `agent` (one of them).", "queue")
        agent = assignments.agent_named(asked.agent) if asked.agent else None
        done = assignments.transfer(
            _viewer().user_id, contact_id, queue=asked.queue, agent=agent, note=asked.note
        )
    except Invalid as exc:
        return _error(str(exc), 400, exc.field)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    return jsonify(conversation_id=contact_id, queue=done.to_queue, agent=asked.agent)


def resolve(desk: Desk, views: Views, access: DeskAccess, contact_id: int):
    """Close the conversation with its wrap-up code and outcome."""
    try:
        asked = _body(doc.Resolve)
        desk.resolve(
            Resolve(
                agent_id=_viewer().user_id,
                contact_id=contact_id,
                wrap_up=asked.wrap_up,
                outcome=asked.outcome,
            )
        )
    except Invalid as exc:
        return _error(str(exc), 400, exc.field)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    return jsonify(conversation_id=contact_id, state="closed")


def call_back(callbacks: CallbackDesk, contact_id: int):
    """Call back now the citizen of a contact the agent took while it waited for its callback
    (the desk's "Call back now"): when they answer, the call is put through to the agent."""
    try:
        state = callbacks.call_back_now(contact_id, _viewer().user_id)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    return jsonify(conversation_id=contact_id, callback=str(state))


def presence(desk: Desk, views: Views, access: DeskAccess):
    """Say where the agent is."""
    try:
        asked = _body(doc.SetPresence)
        now = desk.assignments.set_presence(_viewer().user_id, PresenceState(asked.status))
    except Invalid as exc:
        return _error(str(exc), 400, exc.field)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    return jsonify(status=str(now.state), since=now.since.isoformat() if now.since else None)
