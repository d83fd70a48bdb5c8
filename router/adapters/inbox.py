"""The Inbox port: an acknowledged message is one INSERT, idempotent on the provider's id."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, text

from router.adapters.orm import UTC as UTC_TIMESTAMP
from router.domain.commands import ReceiveMessage

# One statement is both the idempotency check and the insert. Written out (not built with
# the dialects' insert().on_conflict_do_nothing(), which SQLAlchemy compiles anew on every
# call): this is the acknowledgement's whole cost. SQLite ≥ 3.35 and PostgreSQL both take it.
_INSERT = text(
    "INSERT INTO inbox (channel, provider_id, address, text, kind, contact_id, received_at) "
    "VALUES (:channel, :provider_id, :address, :text, :kind, :contact_id, :received_at) "
    "ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id"
).bindparams(bindparam("received_at", type_=UTC_TIMESTAMP))


class SqlInbox:
    """Commits inbound messages to the `inbox` table, each provider's message once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, cmd: ReceiveMessage) -> int | None:
        """Commit the message; return its entry id, or None if the provider sent it before."""
        row = {
            "channel": cmd.channel,
            "provider_id": cmd.provider_id,
            "address": cmd.address,
            "text": cmd.text,
            "kind": cmd.kind,
            "contact_id": cmd.contact_id,
            "received_at": cmd.received_at or datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            return conn.execute(_INSERT, row).scalar()
