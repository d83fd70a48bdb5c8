"""Twilio's webhook signature: one decorator shared by the SMS and voice channels.

Twilio signs the URL it requested, so the URL is rebuilt from the configured public base URL
(what Twilio sees, even behind a TLS proxy), the path and the raw query string: Werkzeug's
`request.url` percent-decodes the query and would break signatures on encoded values.

The public URL and the auth token come from the configuration the blueprint factory was
handed: `twilio_signed(services.config)(view)`.
"""

from __future__ import annotations

import base64
import functools
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

from flask import Response, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
FORGED = "The X-Twilio-Signature does not match: the request is not from Twilio."
# Characters Twilio leaves unencoded in a path; anything else was percent-encoded on the wire.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def signed_url(public_url: str) -> str:
    """Return the URL Twilio requested, as Twilio signed it (`public_url`: what Twilio sees)."""
    base = public_url.rstrip("/")
    url = base + quote(request.path, safe=_PATH_SAFE)
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def _signed_params() -> Mapping[str, object] | str:
    # JSON webhooks carry bodySHA256 in the query and sign the raw body instead of fields.
    if request.mimetype == "application/x-www-form-urlencoded" or "bodySHA256" not in request.args:
        return request.form
    return request.get_data(as_text=True)


def _form_signature(token: str, url: str, form) -> str:  # noqa: ANN001 - a MultiDict
    """Return the signature of a form POST to `url`: Twilio's HMAC-SHA1, computed once."""
    return form_signature(token, url, form.items(multi=True))


def form_signature(token: str, url: str, fields: Iterable[tuple[str, str]]) -> str:
    """Return Twilio's HMAC-SHA1 signature of a form POST of `fields` (name, value) to `url`:
    the URL, then every name with each of its distinct values, both in sorted order (the
    distinct pairs sorted: by name, then by value)."""
    signed = url + "".join([name + value for name, value in sorted(set(fields))])
    return base64.b64encode(hmac.digest(token.encode(), signed.encode(), "sha1")).decode()


def is_signed_by_twilio(public_url: str, token: str) -> bool:
    """Return True when the current request carries a valid signature made with `token`."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    url, params = signed_url(public_url), _signed_params()
    # The common case, checked once: a form signed with the auth token on the URL as built.
    # Anything else (the port variants Twilio may sign, JSON bodies, SHA-256 shared keys)
    # goes to the library's validator.
    if (
        not isinstance(params, str)
        and SETTINGS_HEADER not in request.headers
        and hmac.compare_digest(
            _form_signature(token, url, params).encode(), signature.encode("latin-1")
        )
    ):
        return True
    return RequestValidator(token).validate(url, params, signature)


def twilio_signed(config: Mapping) -> Callable[[Callable], Callable]:
    """Return a decorator that lets through only requests Twilio signed; others get 403.

    `config` gives the auth token (`TWILIO_AUTH_TOKEN`) and the public URL Twilio requests
    (`KANAL_PUBLIC_URL`).
    """
    public_url, token = config["KANAL_PUBLIC_URL"], config["TWILIO_AUTH_TOKEN"]

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if not is_signed_by_twilio(public_url, token):
                why = "unsigned" if SIGNATURE_HEADER not in request.headers else "bad signature"
                # Never the body or the From number: the log must not hold personal data.
                log.warning("rejected Twilio webhook on %s: %s", request.path, why)
                return Response(FORGED, status=403, mimetype="text/plain")
            return view(*args, **kwargs)

        return checked

    return decorate


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """Return the X-Twilio-Signature Twilio would send for a form POST to `url`."""
    return RequestValidator(token).compute_signature(url, dict(params))
