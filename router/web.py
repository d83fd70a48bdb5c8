"""HTTP conventions the API, the channels and the desk share.

Ids and cursors are 64-bit signed integers in storage, so a value past that range is a
client's mistake (400), never a database error (500); text from JSON bodies can hold lone
surrogates or NUL characters that no database column takes; and every error under /api/
answers JSON like `{"error": ...}`, routing errors (404, 405) and server errors included;
under /twilio/ they answer plain text.
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from flask import Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError, RequestURITooLarge

log = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # the largest value a signed 64-bit (BIGINT) column holds
# A URL converter for ids: a larger value cannot name anything, so its URL answers 404.
ID_CONVERTER = f"int(max={MAX_ID})"
API_PREFIX = "/api/"
# The longest URL (path and query) kanal reads: longer ones get 414 in the API's own format.
# gunicorn's request line is raised to its maximum (8190 bytes, `kanal web`) so that kanal,
# not gunicorn's HTML page, answers; only a request line past 8190 bytes still gets that page.
MAX_URL = 4096
TWILIO_PREFIX = "/twilio/"


def parse_id(value: str | None, default: int | None = None) -> int | None:
    """Return a non-negative id or cursor that fits 64 bits; raise ValueError otherwise.

    An absent or empty value gives `default`.
    """
    if value is None or value == "":
        return default
    text = value.strip()
    # int() would take "+5", "1_000" and other digits (Arabic-Indic...): ids are ASCII digits.
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ValueError(value)
    number = int(text)
    if number > MAX_ID:
        raise ValueError(value)
    return number


MAX_KEY = 64  # the longest provider id or address kept (a Twilio sid has 34 characters)


def storable_key(text: str) -> bool:
    """Return True when a provider's id or an address (a Twilio sid, a phone number) fits the
    columns that keep them: 1 to 64 characters, storable."""
    return 0 < len(text) <= MAX_KEY and storable(text)


def storable(text: str) -> bool:
    """Return True when a database column can store the text as it is.

    JSON can carry lone surrogates (not valid Unicode, so never UTF-8) and NUL characters
    (which PostgreSQL's text type refuses).
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _api_error(exc: HTTPException):
    if request.path.startswith(TWILIO_PREFIX):
        # Twilio's webhooks answer errors in plain text, as the API document says.
        response = Response(f"{exc.code} {exc.name}: {exc.description}", mimetype="text/plain")
        response.status_code = exc.code or 500
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    if not request.path.startswith(API_PREFIX):
        return exc
    code = exc.code or 500
    if isinstance(exc, InternalServerError):
        message = "Something went wrong on our side; the error is logged."
    elif code == 413:
        message = "The request body is larger than 64 KB."
    else:
        message = exc.description or exc.name
    response = jsonify(error=message)
    response.status_code = code
    # Keep what the exception adds, such as 405's Allow header.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _url_length() -> None:
    if len(request.full_path.encode()) > MAX_URL:
        raise RequestURITooLarge(f"The URL is longer than {MAX_URL} bytes: send fewer or shorter "
                                 "parameters.")  # fmt: skip


def init_app(app) -> None:  # noqa: ANN001
    """Answer HTTP errors under /api/ as JSON, under /twilio/ as plain text; elsewhere Flask's
    pages stay. Refuse URLs longer than MAX_URL with 414, in the same way."""
    app.register_error_handler(HTTPException, _api_error)
    app.before_request(_url_length)


def bound(view, *parts):  # noqa: ANN001, ANN201
    """Return `view` with its first arguments bound to the parts a blueprint was handed.

    Flask and its extensions (CSRF's exemptions, url_for) know a view by its name and module,
    which a bare functools.partial lacks: the bound view keeps the function's.
    """
    return functools.update_wrapper(functools.partial(view, *parts), view)


def local_path(target: str, prefix: str = "/") -> bool:
    """Return True when `target` (a `next` parameter) is a path of this site under `prefix`,
    safe to redirect to: no scheme or host, and no whitespace, control character or
    backslash, which browsers drop or read as a slash ("/", tab, "/evil.example" and
    "/", backslash, "evil.example" both lead to evil.example) and which a Location header
    cannot always hold (a newline answered 500)."""
    if not target.startswith(prefix) or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class JSONBodies(DefaultJSONProvider):
    """Flask's JSON, reading a body nested too deeply for Python's parser (a few thousand
    brackets fit in any size limit) as malformed JSON: the view's own "must be a JSON
    object" answer (400), where the parser's RecursionError answered 500."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None
