"""The API agency systems call: the self-service reports a need completed digitally.

`POST /api/v1/events/digital-completion` with an integration token (`kanal users create
NAME --role integration`, then `kanal tokens create NAME --user NAME`). The body names the
citizen by pseudonymous id (`citizen`) or by the contact that was deflected (`contact_id`),
and the need; kanal then offers no callback for that need (docs/architecture.md, Callbacks).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, jsonify, request

from router.domain.model import INTEGRATION_ROLE
from router.service.errors import NotFound
from router.service.followups import Followups
from router.web import MAX_ID, bound, storable

_NEED = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FIELDS = {"citizen", "contact_id", "need"}


def blueprint(followups: Followups, token_required: Callable) -> Blueprint:
    """Return the integration API; `token_required(*roles)` guards it."""
    bp = Blueprint("integration_api", __name__)
    guard = token_required(INTEGRATION_ROLE)
    bp.add_url_rule(
        "/api/v1/events/digital-completion",
        "digital_completion",
        guard(bound(digital_completion, followups)),
        methods=["POST"],
    )
    return bp


def _bad(message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), 400


def digital_completion(followups: Followups):
    """Record a need completed digitally; the citizen is then offered no callback for it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _bad('The body must be a JSON object: {"citizen" or "contact_id", "need"}.')
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return _bad(f"Unknown field {unknown[0]!r}: send citizen or contact_id, and need.")
    need = body.get("need")
    if not isinstance(need, str) or not _NEED.fullmatch(need):
        return _bad(
            "`need` must name the need, as kanal does: lower-case letters, digits and "
            "underscores, at most 40 characters (e.g. payment_date).",
            "need",
        )
    citizen, contact_id = body.get("citizen"), body.get("contact_id")
    if citizen is None and contact_id is None:
        return _bad("Name the citizen: `citizen` (pseudonymous id) or `contact_id`.", "citizen")
    if citizen is not None and (
        not isinstance(citizen, str) or not citizen.strip() or len(citizen) > 40
        or not storable(citizen)
    ):  # fmt: skip
        return _bad("`citizen` must be the citizen's pseudonymous id (a string).", "citizen")
    if contact_id is not None and (
        isinstance(contact_id, bool) or not isinstance(contact_id, int)
        or not 0 <= contact_id <= MAX_ID
    ):  # fmt: skip
        return _bad("`contact_id` must be a contact's id (an integer of at most 64 bits).",
                    "contact_id")  # fmt: skip
    try:
        done = followups.completed(need, pseudonym=citizen, contact_id=contact_id)
    except NotFound as exc:
        return jsonify(error=str(exc)), 404
    return jsonify(
        recorded=True, citizen=done.citizen, need=done.need, followups_closed=done.followups_closed
    )
