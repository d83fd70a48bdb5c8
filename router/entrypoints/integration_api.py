"""The API agency systems call: the self-service reports a need completed digitally.

`POST /api/v1/events/digital-completion` with an integration token (`kanal users create
NAME --role integration`, then `kanal tokens create NAME --user NAME`). The body names the
citizen by pseudonymous id (`citizen`) or by the contact that was deflected (`contact_id`),
and the need; kanal then offers no callback for that need (docs/architecture.md, Callbacks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from router.domain.model import INTEGRATION_ROLE
from router.openapi import Answer, Error, FieldError, Invalid, Operation, describe, parse_json
from router.service.errors import NotFound
from router.service.followups import Followups
from router.web import MAX_ID, bound, storable

NEED = r"^[a-z][a-z0-9_]{0,39}$"


class DigitalCompletion(BaseModel):
    """A need completed digitally, for a citizen named by pseudonym or by the deflected contact."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["citizen"], "properties": {"citizen": {"type": "string"}}},
                {"required": ["contact_id"], "properties": {"contact_id": {"type": "integer"}}},
            ]
        },
    )

    citizen: Annotated[str, Field(max_length=40, pattern=r"^[^\x00]*\S[^\x00]*$")] | None = Field(
        None, description="The citizen's pseudonymous id (as in kanal's events)."
    )
    contact_id: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(
        None, description="The contact that was deflected."
    )
    need: Annotated[str, Field(pattern=NEED)] = Field(description="The need, as kanal names it.")


class DigitalCompletionRecorded(BaseModel):
    recorded: Literal[True]
    citizen: str | None
    need: str
    followups_closed: Annotated[int, Field(ge=0)]


# What to tell the caller about each field the model refuses.
_FIELD_ERRORS = {
    "need": "`need` must name the need, as kanal does: lower-case letters, digits and "
    "underscores, at most 40 characters (e.g. payment_date).",
    "citizen": "`citizen` must be the citizen's pseudonymous id (a string).",
    "contact_id": "`contact_id` must be a contact's id (an integer of at most 64 bits).",
}
DIGITAL_COMPLETION = Operation(
    "A need was completed digitally",
    ("integration",),
    description="Called by the agency's self-service when a citizen completes a need online. "
    "A caller who took the digital route for that need is then not offered a callback when "
    "the follow-up window ends (KANAL_DEFLECTION_FOLLOWUP_HOURS). Name the citizen by "
    "pseudonymous id (`citizen`) or by the deflected contact (`contact_id`). Needs the API "
    "token of an `integration` user (or an admin).",
    security="apiToken",
    body=DigitalCompletion,
    answers={
        200: Answer(
            "Recorded; `followups_closed` follow-ups will offer nothing.", DigitalCompletionRecorded
        ),  # fmt: skip
        400: Answer(
            "The body is not a JSON object, has an unknown field, names nobody, or a "
            "value is malformed; `field` names the culprit.",
            FieldError,
        ),  # fmt: skip
        401: Answer("No API token, or a token that is not valid, revoked or expired.", Error),
        403: Answer("The token's user is not an integration (nor an admin).", Error),
        404: Answer("No citizen with that pseudonymous id, or no such contact.", Error),
        413: Answer("The body is larger than 64 KB.", Error),
    },
)


def blueprint(followups: Followups, token_required: Callable) -> Blueprint:
    """Return the integration API; `token_required(*roles)` guards it."""
    bp = Blueprint("integration_api", __name__)
    guard = token_required(INTEGRATION_ROLE)
    bp.add_url_rule(
        "/api/v1/events/digital-completion",
        "digital_completion",
        describe(guard(bound(digital_completion, followups)), DIGITAL_COMPLETION),
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
    if isinstance(body.get("citizen"), str) and not storable(body["citizen"]):
        return _bad(_FIELD_ERRORS["citizen"], "citizen")
    try:
        done = parse_json(DigitalCompletion, body)
    except Invalid as exc:
        if exc.field in _FIELD_ERRORS:
            return _bad(_FIELD_ERRORS[exc.field], exc.field)
        if str(exc).startswith("Unknown field"):
            return _bad(f"{exc} Send citizen or contact_id, and need.")
        return _bad(str(exc), exc.field)
    if done.citizen is None and done.contact_id is None:
        return _bad("Name the citizen: `citizen` (pseudonymous id) or `contact_id`.", "citizen")
    try:
        found = followups.completed(done.need, pseudonym=done.citizen, contact_id=done.contact_id)
    except NotFound as exc:
        return jsonify(error=str(exc)), 404
    return jsonify(recorded=True, citizen=found.citizen, need=found.need,
                   followups_closed=found.followups_closed)  # fmt: skip
