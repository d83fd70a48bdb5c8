"""API tokens: issued for a number of days (`KANAL_API_TOKEN_DAYS`, 90 by default), listed
with when they end, and revoked by name (`kanal tokens create|list|revoke`:
router/entrypoints/tokens.py).

A token is shown once, when issued (only its hash is stored). An expired token is refused
with 401 and told so (router/entrypoints/auth.py `token_required`); a revoked one is not
found at all, as a token never issued.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from router.domain.model import ApiToken

TOKEN_DAYS = 90  # how long an API token lasts unless KANAL_API_TOKEN_DAYS says otherwise
MAX_TOKEN_DAYS = 3660  # ten years: past that a number of days is a slip of the keyboard


@dataclass(frozen=True)
class IssuedToken:
    """A token as `kanal tokens list` shows it: never the token itself."""

    name: str
    username: str
    role: str
    created_at: datetime
    expires_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    uow_factory,  # noqa: ANN001
    name: str,
    username: str,
    days: int = TOKEN_DAYS,
    now: datetime | None = None,
) -> str:
    """Create an API token for a user, valid for `days` from `now`; only its hash is stored,
    the token is shown once."""
    return issue_token(uow_factory, name, username, days, now)[0]


def issue_token(
    uow_factory,  # noqa: ANN001
    name: str,
    username: str,
    days: int = TOKEN_DAYS,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """Create an API token as `create_token` does; return it and when it expires."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days")
    token = "knl_" + secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    ends = now + timedelta(days=days)
    with uow_factory() as uow:
        user = uow.users.by_username(username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        uow.users.add(
            ApiToken(
                name=name,
                token_hash=hash_token(token),
                user_id=user.id,
                created_at=now,
                expires_at=ends,
            )
        )
        uow.commit()
    return token, ends


def issued_tokens(uow_factory) -> list[IssuedToken]:  # noqa: ANN001
    """Every token not revoked, by user and then as issued."""
    with uow_factory() as uow:
        return [
            IssuedToken(t.name, u.username, u.role, t.created_at, t.expires_at)
            for u in uow.users.everyone()
            for t in uow.users.tokens_of(u.id)
        ]


def revoke_tokens(uow_factory, name: str, username: str) -> int:  # noqa: ANN001
    """Revoke the user's tokens named `name`; return how many."""
    with uow_factory() as uow:
        user = uow.users.by_username(username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        named = [t for t in uow.users.tokens_of(user.id) if t.name == name]
        for token in named:
            token.revoke()
        uow.commit()
        return len(named)
