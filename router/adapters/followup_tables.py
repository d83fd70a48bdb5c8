"""The tables of what follows a contact: callbacks booked, follow-ups scheduled, surveys asked
(router/adapters/followups.py reads them)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from router.adapters.schema import UTC, Id, metadata

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("booked_at", UTC, nullable=False),
    Column("not_before", UTC),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTC),
    Column("agent_id", Id, ForeignKey("users.id")),
    Column("call_sid", String(64)),
    Column("last_status", String(32)),
    Column("note", Text),
    Column("closed_by", Id, ForeignKey("users.id")),
    Column("closed_at", UTC),
    Index("ix_callbacks_state", "state", "booked_at"),
)

followups = Table(
    "followups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("citizen_id", Id, ForeignKey("citizens.id"), index=True),
    Column("need", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("scheduled_at", UTC, nullable=False),
    Column("due_at", UTC, nullable=False),
    Column("offered_at", UTC),
    Column("offer_contact_id", Id, ForeignKey("contacts.id")),
    Column("callback_id", Id, ForeignKey("callbacks.id")),
)

# The satisfaction question asked about a closed contact (router/domain/survey.py): at most
# one per contact.
surveys = Table(
    "surveys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("need", String(40)),
    Column("state", String(16), nullable=False),
    Column("asked_at", UTC, nullable=False),
    Column("score", Integer),
    Column("answered_at", UTC),
    Index("ix_surveys_state_asked_at", "state", "asked_at"),
)
