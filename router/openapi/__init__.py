"""kanal's OpenAPI document, generated from the code's own request and response schemas.

A view says what it takes and what it answers with `describe(view, Operation(...))`: its
query, path parameters and body as pydantic models, its answers as models or media types.
The same models check the requests (`parse_query`, `parse_json`), so the document and the
code cannot disagree about what is valid: a request the model refuses is answered 400 with
what is wrong and where (`Invalid`).

`document(app, info)` walks the app's URL map and builds the OpenAPI 3.1 document with
apispec from the operations of the rules it serves; a rule it does not serve is not in the
document. docs/api.md says how a new route gets in.

`operations.py` holds what a route is described and checked with, `spec.py` the document and
the blueprint that serves it; both are imported from here.
"""

from __future__ import annotations

from router.openapi.operations import (
    Answer,
    Error,
    FieldError,
    Invalid,
    Operation,
    describe,
    operation_of,
    parse_json,
    parse_query,
)
from router.openapi.spec import URL, blueprint, document, openapi_path, served_paths

__all__ = ["URL", "Answer", "Error", "FieldError", "Invalid", "Operation", "blueprint",
           "describe", "document", "openapi_path", "operation_of", "parse_json", "parse_query",
           "served_paths"]  # fmt: skip
