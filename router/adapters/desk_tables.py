"""The desk's tables: agents' routing profiles, their presence, the offers made to them, the
transfers between queues and the internal notes (router/adapters/desk.py reads them)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text

from router.adapters.schema import UTC, Id, metadata

# Routing of assisted work (router/domain/routing.py, presence.py, offers.py, transfers.py).
agent_profiles = Table(
    "agent_profiles",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("skills", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("teams", JSON, nullable=False),
    Column("capacity", JSON, nullable=False),
)

presence = Table(
    "presence",
    metadata,
    Column("agent_id", Id, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("state", String(16), nullable=False),
    Column("since", UTC),
    Column("seen_at", UTC),
)

offers = Table(
    "offers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("queue_item_id", Id, ForeignKey("queue_items.id"), nullable=False, index=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("agent_id", Id, ForeignKey("users.id"), nullable=False),
    Column("channel", String(16)),
    Column("state", String(16), nullable=False),
    Column("offered_at", UTC, nullable=False),
    Column("expires_at", UTC, nullable=False),
    Column("closed_at", UTC),
    Index("ix_offers_state_agent", "state", "agent_id"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("by_id", Id, ForeignKey("users.id"), nullable=False),
    Column("from_queue", String(40), nullable=False),
    Column("to_queue", String(40), nullable=False),
    Column("to_agent_id", Id, ForeignKey("users.id")),
    Column("note", Text, nullable=False),
    Column("at", UTC, nullable=False),
)

# Internal notes on a contact (router/domain/notes.py): for colleagues, never sent.
notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("agent_id", Id, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UTC, nullable=False),
)
