"""The supervisor board (`/desk/supervisor`): queues, waits, service level today, SLA
warnings and breaches, the agents' presence and load, and moving a waiting item or changing
its priority (router/service/supervision.py).

Registered by the desk's blueprint (views.py) for supervisors (and admins); each use is
written to the audit log, as the board lists waiting contacts.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from router.domain import sla
from router.entrypoints.desk.parts import _, viewer, visible_failed_callbacks
from router.service.errors import ServiceError
from router.service.translations import N_

SUPERVISOR_ROLES = ("supervisor", "admin")
SUPERVISOR_VIEWS = ("supervisor", "move_item", "change_priority", "agent_day")
# The board's live part, drawn again when the stream process says something changed: the
# page's view is audited, not each of its refreshes.
BOARD_REFRESH = "supervisor_board"
# Why an agent's presence changed (router/domain/presence.py, `why`), in words.
WHY_WORDS = {
    "agent": N_("the agent said so"),
    "took work": N_("took work"),
    "signed out": N_("signed out"),
    "timed out": N_("not seen at the desk"),
}
PRIORITY_WORDS = {str(priority) for priority in sla.PRIORITIES}
STAGE_WORDS = {
    sla.ON_TIME: N_("on time"),
    sla.WARNING: N_("near the target (80 %)"),
    sla.BREACHED: N_("past the target"),
}


def routes(id_converter: str) -> tuple:
    """The board's routes: (rule, view, method), views taking the desk's parts."""
    return (
        ("/supervisor", supervisor, "GET"),
        ("/supervisor/board", supervisor_board, "GET"),
        (f"/supervisor/items/<{id_converter}:item_id>/move", move_item, "POST"),
        (f"/supervisor/items/<{id_converter}:item_id>/priority", change_priority, "POST"),
        (f"/supervisor/agents/<{id_converter}:agent_id>/day", agent_day, "GET"),
    )


def supervisor(parts):  # noqa: ANN001, ANN201
    """Show the board of the queues and agents the supervisor supervises."""
    return _board(parts, "desk/supervisor.html")


def supervisor_board(parts):  # noqa: ANN001, ANN201
    """The board's live part alone (HTML), for the page to draw again when things change."""
    return _board(parts, "desk/_board.html")


def _board(parts, template: str):  # noqa: ANN001, ANN202
    if parts.supervision is None:
        abort(404)
    return render_template(
        template,
        board=parts.supervision.board(viewer()),
        queue_names=parts.supervision.queues(),
        priorities=list(sla.PRIORITIES),
        STAGE_WORDS=STAGE_WORDS,
        failed_count=len(visible_failed_callbacks(parts)),
    )


def agent_day(parts, agent_id: int):  # noqa: ANN001, ANN201
    """Show an agent's day so far: their presence changes and the time in each state."""
    if parts.supervision is None:
        abort(404)
    try:
        day = parts.supervision.agent_day(viewer(), agent_id)
    except ServiceError as exc:
        abort(exc.status)
    return render_template("desk/agent_day.html", day=day, WHY_WORDS=WHY_WORDS)


def move_item(parts, item_id: int):  # noqa: ANN001, ANN201
    """Move a waiting item to another queue."""
    queue = request.form.get("queue", "").strip()
    return _act(
        parts,
        lambda s: s.move(viewer(), item_id, queue),
        _("Item {id} moved to {queue}.", id=item_id, queue=queue),
    )


def change_priority(parts, item_id: int):  # noqa: ANN001, ANN201
    """Set a waiting item's priority."""
    raw = request.form.get("priority", "").strip()
    # One of the priorities as written (str.isdigit() takes "²" and "٣" too).
    if raw not in PRIORITY_WORDS:
        flash(_("Choose a priority from 0 to 9."), "error")
        return supervisor(parts), 400
    return _act(
        parts,
        lambda s: s.set_priority(viewer(), item_id, int(raw)),
        _("Item {id} now has priority {priority}.", id=item_id, priority=int(raw)),
    )


def _act(parts, act, done: str):  # noqa: ANN001, ANN202
    if parts.supervision is None:
        abort(404)
    try:
        act(parts.supervision)
    except ServiceError as exc:
        flash(str(exc), "error")
        return supervisor(parts), exc.status
    flash(done)
    return redirect(url_for("desk.supervisor"))
