"""The OpenAPI 3.1 document: `document(app, info, public)` walks the app's URL map and builds
it with apispec from the operations of the rules it serves (a rule it does not serve is not in
it); `blueprint` serves it at `URL`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from router.openapi.operations import (
    SECURITY_SCHEMES,
    Answer,
    Operation,
    Schema,
    describe,
    operation_of,
)

REF = "#/components/schemas/{model}"
_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

_TOO_LONG = Answer(
    "The URL (path and query) is longer than 4,096 bytes. A request line over 8,190 bytes "
    "is refused by the HTTP server itself, with an HTML page (docs/api.md).",
    {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
)

_TOO_LONG_TEXT = Answer(_TOO_LONG.description, {"type": "string"}, "text/plain")


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
