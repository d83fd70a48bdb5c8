"""The web app's defences: session cookies, security headers and sign-in limits.

Every response carries a Content-Security-Policy that allows scripts and styles from kanal's
own origin only (no inline script: the templates load static files), forbids framing
(`frame-ancestors 'none'` and `X-Frame-Options: DENY`), and says `nosniff` and a referrer
policy. The session cookie is HttpOnly and SameSite=Lax everywhere, and Secure in production.

Sign-in is limited with Flask-Limiter in two ways (docs/architecture.md, "Security"):

- per address: `KANAL_LOGIN_RATE` attempts (default 20 per minute), whatever their outcome;
- per account and address: `KANAL_LOGIN_LOCKOUT` failed attempts (default 5 per 15 minutes)
  lock that account out *from that address* until the oldest failure leaves the window. A
  guesser elsewhere cannot lock the real agent out, and nobody is locked out for longer than
  the window.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, render_template, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=()",
}
# A year, sent in production only (where kanal is served over HTTPS).
HSTS = "max-age=31536000; includeSubDomains"

LOGIN_ENDPOINT = "auth.login"


def init_app(app: Flask) -> Limiter:
    """Set the cookies' flags, add the headers to every response and limit sign-in."""
    production = app.config.get("KANAL_ENV") == "production"
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        app.config[f"{prefix}_HTTPONLY"] = True
        app.config[f"{prefix}_SECURE"] = production
        app.config[f"{prefix}_SAMESITE"] = "Lax"

    headers = response_headers(app.config)

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.blueprint in ("desk", "auth"):  # citizens' data: never kept by a cache
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return _limit_sign_in(app)


def response_headers(config: Mapping) -> dict[str, str]:
    """Return the headers every response carries (pinned HTTPS in production)."""
    headers = dict(HEADERS)
    streams = _origin(str(config.get("KANAL_STREAM_URL") or ""))
    if streams:  # the stream process on an origin of its own (`make run`): pages connect to it
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "connect-src 'self'", f"connect-src 'self' {streams}"
        )
    if config.get("KANAL_ENV") == "production":
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _origin(url: str) -> str:
    """The origin (scheme://host:port) of a URL, or "" when it names none."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


def _limit_sign_in(app: Flask) -> Limiter:
    """Limit the sign-in view; Flask-Limiter's hooks run for the sign-in blueprint's requests
    only, not on every route (the webhooks', the chat API's, the desk's) where no limit
    applies: it registers them for the whole app."""
    before = {hooks: len(getattr(app, hooks)[None]) for hooks in HOOKS}
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("KANAL_RATE_LIMIT_STORAGE") or "memory://",
        strategy="moving-window",
        default_limits=[],
        headers_enabled=True,
        on_breach=_too_many,
    )
    blueprint = LOGIN_ENDPOINT.partition(".")[0]
    for hooks, count in before.items():
        registered = getattr(app, hooks)
        registered[blueprint] = registered[blueprint] + registered[None][count:]
        del registered[None][count:]
    view = app.view_functions[LOGIN_ENDPOINT]
    failed = limiter.limit(
        app.config.get("KANAL_LOGIN_LOCKOUT") or "5 per 15 minutes",
        key_func=_account_and_address,
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
        scope="login-failures",
    )
    every = limiter.limit(
        app.config.get("KANAL_LOGIN_RATE") or "20 per minute",
        methods=["POST"],
        scope="login",
    )
    app.view_functions[LOGIN_ENDPOINT] = every(failed(view))
    return limiter


def _account_and_address() -> str:
    username = request.form.get("username", "").strip().lower()
    return f"{username}@{get_remote_address()}"


def _too_many(limit: RequestLimit) -> Response:
    seconds = max(1, int(limit.reset_at - time.time()))
    minutes = max(1, -(-seconds // 60))
    page = render_template(
        "login.html",
        username=request.form.get("username", "").strip(),
        locked=f"Too many sign-in attempts. Try again in {minutes} minute"
        + ("s." if minutes != 1 else "."),
    )
    response = Response(page, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(seconds)
    return response
