"""Staff accounts: the password rule, and what the audit log calls an administrator's acts.

An administrator creates members of staff, sets their passwords, deactivates and reactivates
them (`kanal users`, router/service/staff_accounts.py); each act is an audit entry.
"""

from __future__ import annotations

MIN_PASSWORD = 12
MAX_PASSWORD = 256  # hashing a megabyte would only slow the sign-in page down

# The audit log's `action` for each act (router/domain/access.py, `AuditEntry`).
CREATED = "user_created"
PASSWORD_SET = "user_password_set"
DEACTIVATED = "user_deactivated"
REACTIVATED = "user_reactivated"
# Why an act was allowed: by an active admin, or by whoever runs kanal before any admin exists.
BY_ADMIN = "admin"
NO_ADMIN_YET = "no admin yet: set up from the command line"
NOT_AN_ADMIN = "not an active admin"


def password_problem(password: str, username: str = "") -> str | None:
    """Say what is wrong with a new password, or None when it will do: at least
    MIN_PASSWORD characters (a passphrase of a few words is easier to type and to keep),
    not the username, not only spaces."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password may have at most {MAX_PASSWORD} characters"
    if not password.strip():
        return "the password must not be only spaces"
    if username and password.strip().casefold() == username.strip().casefold():
        return "the password must not be the username"
    return None
