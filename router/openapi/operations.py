"""What a route takes and answers (`Operation`, `Answer`), attached to its view (`describe`),
and the same pydantic models checking the requests (`parse_query`, `parse_json`): a request
the model refuses is answered 400 with what is wrong and where (`Invalid`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
_ATTRIBUTE = "openapi_operation"
# What each kind of credential is (an operation names one in `security`).
SECURITY_SCHEMES = {
    "chatSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token answered when the chat session opened.",
    },
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff API token: `kanal tokens create NAME --user U [--days N]`. "
        "It expires KANAL_API_TOKEN_DAYS (default 90) days after it was issued (`kanal tokens "
        "list` shows when) and can be revoked (`kanal tokens revoke NAME --user U`); an "
        "expired token is answered 401 with an error that says it expired.",
    },
    "twilioSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "HMAC-SHA1 of the public URL and the POST parameters with the Twilio "
        "auth token.",
    },
}
Schema = type[BaseModel] | Mapping[str, Any] | None


@dataclass(frozen=True)
class Answer:
    """One documented answer: a description, and a model (JSON) or a media type's schema."""

    description: str
    model: Schema = None
    media: str = "application/json"


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers, for the document and for checking requests."""

    summary: str
    tags: tuple[str, ...]
    answers: Mapping[int, Answer]
    description: str = ""
    security: str | None = None  # a key of SECURITY_SCHEMES
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_media: str = "application/json"
    body_required: bool = True
    # OpenAPI links by status: {"201": {"name": {"operationId": ..., "parameters": ...}}}
    links: Mapping[int, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    operation_id: str | None = None


class Error(BaseModel):
    """Every error under /api/ (router.web): what is wrong, in words."""

    error: str


class FieldError(Error):
    """A refused request body: what is wrong and which field (none: the whole body)."""

    field: str | None = None


class Invalid(ValueError):
    """A request the schema refuses; `field` names the culprit (None: the whole body)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def describe(view: Callable, operation: Operation) -> Callable:
    """Attach `operation` to the view a rule serves; return the view."""
    setattr(view, _ATTRIBUTE, operation)
    return view


def operation_of(view: Callable) -> Operation | None:
    return getattr(view, _ATTRIBUTE, None)


def _first_error(exc: ValidationError, where: str) -> Invalid:
    error = exc.errors(include_url=False)[0]
    name = ".".join(str(part) for part in error["loc"]) or None
    cause = (error.get("ctx") or {}).get("error")
    if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return Invalid(f"The {where} must be a JSON object.", None)
    if error["type"] == "value_error" and cause is not None:
        return Invalid(str(cause), name)  # the model's own words
    if error["type"] == "missing":
        return Invalid(f"`{name}` is missing from the {where}.", name)
    if error["type"] == "extra_forbidden":
        return Invalid(f"Unknown field {name!r} in the {where}.", name)
    shown = repr(error["input"])[:40]
    message = error["msg"][0].lower() + error["msg"][1:]
    subject = f"`{name}`" if name else f"The {where}"
    return Invalid(f"{subject}: {message}, not {shown}.", name)


def parse_json(model: type[M], body: object) -> M:
    """Return the JSON body as `model`, or raise Invalid saying what is wrong."""
    try:
        return model.model_validate(body, strict=True)
    except ValidationError as exc:
        raise _first_error(exc, "body") from None


def parse_query(model: type[M], args: Mapping[str, str]) -> M:
    """Return the query parameters as `model` (first value of each), or raise Invalid."""
    try:
        return model.model_validate({name: args.get(name) for name in args})
    except ValidationError as exc:
        raise _first_error(exc, "query") from None
