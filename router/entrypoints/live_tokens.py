"""The desk's live-stream tokens: the web signs one for the signed-in member of staff, and the
stream process (`kanal streams`) checks it.

The stream process serves pages of another process (and, in `make run`, of another origin),
so it does not read Flask's session cookie: the desk's page carries a short-lived token,
signed with the app's secret, that names the user. The stream process still reads the user
(active, role) and applies the access rule (router/domain/access.py) to every conversation
stream, so a token says who is asking, never what they may see.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "kanal-desk-live"
MAX_AGE_SECONDS = 12 * 3600  # a shift: a page open longer gets a fresh token when reloaded


def desk_token(secret: str, user_id: int) -> str:
    """Sign a token that names the member of staff `user_id`."""
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(int(user_id))


def desk_user(secret: str, token: str, max_age: int = MAX_AGE_SECONDS) -> int | None:
    """Return the user id a token names, or None when it is forged, altered or too old."""
    try:
        user_id = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    return user_id if isinstance(user_id, int) else None
