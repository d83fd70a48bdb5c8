"""The desk's live-stream tokens: the web signs one for the signed-in member of staff, and the
stream process (`kanal streams`) checks it.

The stream process serves pages of another process (and, in `make run`, of another origin),
so it does not read Flask's session cookie: the desk's page carries a short-lived token,
signed with the app's secret, that names the user and when it was signed. The stream process
still reads the user (active, role, last sign-out) and applies the access rule
(router/domain/access.py) to every conversation stream, so a token says who is asking, never
what they may see. A token signed before the user's last sign-out (or before their desk
session timed out) is refused: signing out ends it (`User.issued_in_session`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "kanal-desk-live"
MAX_AGE_SECONDS = 12 * 3600  # a shift: a page open longer gets a fresh token when reloaded
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DeskToken(NamedTuple):
    user_id: int
    issued_at: datetime


def micros(at: datetime) -> int:
    """An instant as whole microseconds since the epoch (what a token or a session keeps)."""
    return (at - EPOCH) // timedelta(microseconds=1)


def instant(micros: int) -> datetime:
    """The instant `micros` (microseconds since the epoch) stands for."""
    return EPOCH + timedelta(microseconds=micros)


def desk_token(secret: str, user_id: int, issued_at: datetime | None = None) -> str:
    """Sign a token that names the member of staff `user_id` and when it was signed."""
    issued = issued_at or datetime.now(UTC)
    return URLSafeTimedSerializer(secret, salt=SALT).dumps([int(user_id), micros(issued)])


def desk_user(secret: str, token: str, max_age: int = MAX_AGE_SECONDS) -> DeskToken | None:
    """Return who a token names and when it was signed, or None when it is forged, altered
    or too old."""
    try:
        found = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not (isinstance(found, list) and len(found) == 2):
        return None
    user_id, signed = found
    if not (isinstance(user_id, int) and isinstance(signed, int)):
        return None
    return DeskToken(user_id, instant(signed))
