"""The Inbox port: an acknowledged message is one INSERT, idempotent on the provider's id."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from router.adapters.orm import inbox
from router.domain.commands import ReceiveMessage


class SqlInbox:
    """`INSERT ... ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id`, committed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = (
            dialect.insert(inbox)
            .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
            .returning(inbox.c.id)
        )

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
            return conn.execute(self._insert, row).scalar()
