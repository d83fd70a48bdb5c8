"""kanal's OpenAPI document, generated from the code's own request and response schemas.

A view says what it takes and what it answers with `describe(view, Operation(...))`: its
query, path parameters and body as pydantic models, its answers as models or media types.
The same models check the requests (`parse_query`, `parse_json`), so the document and the
code cannot disagree about what is valid: a request the model refuses is answered 400 with
what is wrong and where (`Invalid`).

`document(app, info)` walks the app's URL map and builds the OpenAPI 3.1 document with
apispec from the operations of the rules it serves; a rule it does not serve is not in the
document. docs/api.md says how a new route gets in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from flask import Blueprint, Response
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

__all__ = ["Answer", "Error", "FieldError", "Invalid", "Operation", "describe", "document",
           "openapi_path"]  # fmt: skip

M = TypeVar("M", bound=BaseModel)
REF = "#/components/schemas/{model}"
_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
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
        "description": "A staff API token: `kanal tokens create NAME --user U`.",
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


_TOO_LONG = Answer(
    "The URL (path and query) is longer than 4,096 bytes. A request line over 8,190 bytes "
    "is refused by the HTTP server itself, with an HTML page (docs/api.md).",
    {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
)

_TOO_LONG_TEXT = Answer(_TOO_LONG.description, {"type": "string"}, "text/plain")


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


def openapi_path(rule: str) -> str:
    """Return a Flask URL rule in OpenAPI's spelling: `<int:x>` becomes `{x}`."""
    return _RULE_ARG.sub(r"{\1}", rule)


def served_paths(app) -> set[str]:  # noqa: ANN001 - a Flask app
    """Return the paths of every URL rule the app serves, in OpenAPI's spelling."""
    return {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}


def _parameters(model: type[BaseModel] | None, where: str, schemas: dict) -> list[dict]:
    if model is None:
        return []
    schema = schemas[(model, "validation")]
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        description = prop.pop("description", None)
        parameter = {"name": name, "in": where, "required": where == "path" or name in required,
                     "schema": prop}  # fmt: skip
        if description:
            parameter["description"] = description
        out.append(parameter)
    return out


def _content(schema: Schema, media: str, refs: dict) -> dict:
    if schema is None:
        schema = {"type": "string"} if media != "application/json" else None
    elif isinstance(schema, type):
        schema = refs[(schema, "serialization")]
    return {media: {"schema": dict(schema)}} if schema is not None else {}


def _operation(
    op: Operation, path: str, endpoint: str, method: str, refs: dict, defs: dict
) -> dict:
    out: dict[str, Any] = {
        "operationId": op.operation_id or f"{method}_{endpoint.replace('.', '_')}",
        "tags": list(op.tags),
        "summary": op.summary,
    }
    if op.description:
        out["description"] = op.description
    if op.security:
        out["security"] = [{op.security: []}]
    parameters = _parameters(op.path, "path", defs) + _parameters(op.query, "query", defs)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {op.body_media: {"schema": refs[(op.body, "validation")]}},
        }
    responses = {}
    answers = {**op.answers, 414: _TOO_LONG if path.startswith("/api/") else _TOO_LONG_TEXT}
    for status, answer in sorted(answers.items()):
        response: dict[str, Any] = {"description": answer.description}
        content = _content(answer.model, answer.media, refs)
        if content:
            response["content"] = content
        if status in op.links:
            response["links"] = {name: dict(link) for name, link in op.links[status].items()}
        responses[str(status)] = response
    out["responses"] = responses
    return out


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], str]]:
    wanted: dict[tuple[type[BaseModel], str], None] = {}
    for op in operations:
        for model in (op.query, op.path, op.body):
            if model is not None:
                wanted[(model, "validation")] = None
        for answer in op.answers.values():
            if isinstance(answer.model, type):
                wanted[(answer.model, "serialization")] = None
    return list(wanted)


def _inline(schema: dict, defs: dict) -> dict:
    """Return a $ref'd parameter model's own schema (parameters are listed one by one)."""
    name = schema["$ref"].rsplit("/", 1)[-1]
    return defs[name]


def document(app, info: Mapping[str, Any], public: tuple[str, ...]) -> dict:  # noqa: ANN001
    """Return the OpenAPI document of the app's described rules under the `public` prefixes."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = operation_of(app.view_functions[rule.endpoint])
        if op is not None and rule.rule.startswith(public):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((openapi_path(rule.rule), method.lower(), rule.endpoint, op))
    models = _models([op for *_, op in found])
    refs, top = models_json_schema(models, ref_template=REF) if models else ({}, {})
    defs = top.get("$defs", {})
    parameter_schemas = {key: _inline(ref, defs) for key, ref in refs.items() if "$ref" in ref}
    spec = APISpec(
        title=info["title"], version=info["version"], openapi_version="3.1.0",
        info={k: v for k, v in info.items() if k not in ("title", "version", "servers")},
        servers=info.get("servers", []),
    )  # fmt: skip
    for name, schema in sorted(defs.items()):
        spec.components.schema(name, schema)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    for path, method, endpoint, op in found:
        spec.path(path=path, operations={
            method: _operation(op, path, endpoint, method, refs, parameter_schemas)
        })  # fmt: skip
    return spec.to_dict()


DOCUMENT = Operation(
    "This document",
    ("meta",),
    answers={200: Answer("OpenAPI 3.1 document.", {"type": "object"})},
)
URL = "/api/v1/openapi.json"


def blueprint(info: Mapping[str, Any], public: tuple[str, ...]) -> Blueprint:
    """Serve the document of the app this blueprint is registered on at `URL`."""
    bp = Blueprint("openapi", __name__)

    def serve(app):  # noqa: ANN001, ANN202 - the Flask app served
        body = json.dumps(document(app, info, public), ensure_ascii=False)
        return Response(body, mimetype="application/json")

    # The document describes the app the blueprint is registered on, handed to it then.
    bp.record_once(
        lambda state: state.add_url_rule(
            URL, "document", describe(_bind(serve, state.app), DOCUMENT)
        )
    )
    return bp


def _bind(view: Callable, app) -> Callable:  # noqa: ANN001
    def serve():  # noqa: ANN202
        return view(app)

    return serve
