"""The staff's tables: members of staff, their API tokens, and the audit log of what they
opened at the desk (router/adapters/staff.py reads them)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, false

from router.adapters.schema import UTC, Id, metadata

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("display_name", String(120), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTC),
    Column("available_for_calls", Boolean, nullable=False, default=False, server_default=false()),
    # The last sign-out (or desk session timed out): live tokens signed before it are refused.
    Column("signed_out_at", UTC),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTC, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    # When the token stops working (KANAL_API_TOKEN_DAYS after it was issued).
    Column("expires_at", UTC),
)

# Who viewed a citizen's data at the desk, or tried to (router/domain/access.py): the
# citizen only by pseudonym. Append-only; `kanal audit export` reads it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTC, nullable=False),
    Column("user_id", Id, nullable=False),
    Column("username", String(80), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("route", String(300), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("reason", String(120), nullable=False),
    Column("contact_id", Id),
    Column("citizen", String(40)),
    Index("ix_audit_log_at", "at"),
)
