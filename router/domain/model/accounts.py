"""Staff accounts: the roles, a member of staff who signs in (`User`) and an API token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STAFF_ROLES = ("agent", "supervisor", "manager", "admin")
# An agency system's account (its API tokens report digital completions), not a person.
INTEGRATION_ROLE = "integration"
ROLES = (*STAFF_ROLES, INTEGRATION_ROLE)


@dataclass
class User:
    """A member of staff who signs in to the desk or the dashboards."""

    username: str
    password_hash: str
    role: str
    display_name: str = ""
    active: bool = True
    created_at: datetime | None = None
    # The agent has said, at the desk, that they take calls (callbacks are placed for them).
    available_for_calls: bool = False
    id: int | None = None
    # When they last signed out, or their desk session timed out (presence).
    signed_out_at: datetime | None = None

    def sign_out(self, now: datetime) -> None:
        """They signed out, or their session at the desk timed out: what was signed for them
        before now (the desk's live tokens) is no longer theirs to use. Never earlier than
        the last one: a session begun after a sign-out stamped by a clock running ahead
        (`session_start`) ends too, and so does what was signed in it."""
        if self.signed_out_at is not None and now <= self.signed_out_at:
            now = self.signed_out_at + timedelta(microseconds=1)
        self.signed_out_at = now

    def issued_in_session(self, issued_at: datetime) -> bool:
        """True when something signed for them at `issued_at` is still valid: they are
        active and have not signed out (nor timed out) since."""
        return self.active and (self.signed_out_at is None or issued_at > self.signed_out_at)

    def session_start(self, now: datetime) -> datetime:
        """When a session they open `now` counts from: after their last sign-out even when
        the clock that stamped it (another process's, a job's) runs ahead of this one, so
        signing in again always works while what was signed before stays refused."""
        if self.signed_out_at is not None and now <= self.signed_out_at:
            return self.signed_out_at + timedelta(microseconds=1)
        return now


@dataclass
class ApiToken:
    """A bearer token for the API, stored hashed; it ends when revoked or at `expires_at`."""

    name: str
    token_hash: str
    user_id: int
    created_at: datetime
    revoked: bool = False
    id: int | None = None
    # None only on a row from before expiry existed (migration 0028 gave those one).
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """True once its time is up (a token without an end date has none left either)."""
        return self.expires_at is None or now >= self.expires_at

    def revoke(self) -> None:
        """End the token for good (revoked tokens are never found again by their hash)."""
        self.revoked = True
