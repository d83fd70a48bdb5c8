"""Storage schema: SQLAlchemy 2 tables, mapped imperatively onto the domain dataclasses."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from router.domain import callbacks as callback_model
from router.domain import calls as call_model
from router.domain import followups as followup_model
from router.domain import model, routing
from router.domain.access import AuditEntry
from router.domain.notes import InternalNote
from router.domain.offers import Offer
from router.domain.presence import Presence
from router.domain.survey import Survey
from router.domain.transfers import Transfer

_utc = UTC

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
mapper_registry = registry(metadata=metadata)

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; kanal stores aware UTC timestamps only")
        return value.astimezone(_utc) if value is not None else None

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=_utc)
        return value


UTC = UTCDateTime()

citizens = Table(
    "citizens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("pseudonym", String(40), nullable=False, unique=True),
    Column("phone", String(20), unique=True),
    Column("name", String(200)),
    Column("language", String(8), nullable=False, default="en"),
    Column("birth_year", Integer),
    Column("created_at", UTC),
)

exemptions = Table(
    "exemptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("citizen_id", Id, ForeignKey("citizens.id"), nullable=False, index=True),
    Column("ground", String(32), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    Column("registered_by", String(120), nullable=False, default=""),
    Column("created_at", UTC),
    Column("reminded_for", Date),
    UniqueConstraint(
        "citizen_id", "ground", "valid_from", name="uq_exemptions_citizen_ground_from"
    ),
)

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
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("citizen_id", Id, ForeignKey("citizens.id"), index=True),
    Column("need", String(40)),
    Column("state", String(16), nullable=False),
    Column("opened_at", UTC, nullable=False),
    Column("last_activity_at", UTC),
    Column("closed_at", UTC),
    Column("bot_failures", Integer, nullable=False, default=0),
    Column("digital_offered", Boolean, nullable=False, default=False),
    Column("bot_sender", String(40), nullable=False, default=""),
    Column("secret_hash", String(64)),
    Column("agent_id", Id, ForeignKey("users.id")),
    Column("wrap_up", String(40)),
    Column("language", String(8)),
    Index("ix_contacts_channel_address_state", "channel", "address", "state"),
    # What an agent holds (every claim reads it): found by agent, not by a scan of contacts.
    Index("ix_contacts_agent_state", "agent_id", "state"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), index=True),
    Column("channel", String(16), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("author", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTC, nullable=False),
    Column("address", String(64)),
    Column("provider_id", String(64)),
    Column("kind", String(10), nullable=False, default="message"),
    Column("processed", Boolean, nullable=False, default=False),
    Column("agent_id", Id, ForeignKey("users.id")),
    Column("delivery_status", String(16)),
    Column("segments", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTC),
    Column("last_error", String(255)),
    UniqueConstraint("channel", "provider_id", name="uq_messages_channel_provider_id"),
    Index("ix_messages_outbox", "direction", "delivery_status", "next_attempt_at"),
)

routing_decisions = Table(
    "routing_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("message_id", Id, ForeignKey("messages.id")),
    Column("profile", String(40), nullable=False),
    Column("rule_id", String(80), nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("skill", String(40)),
    Column("priority", Integer, nullable=False, default=0),
    Column("decided_at", UTC, nullable=False),
)

queue_items = Table(
    "queue_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("skill", String(40), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("enqueued_at", UTC, nullable=False),
    Column("agent_id", Id, ForeignKey("users.id")),
    Column("claimed_at", UTC),
    Column("answered_at", UTC),
    Column("closed_at", UTC),
    # Routing (router/domain/routing.py): the queue it waits in, the contact's channel and
    # language, and the instant it ranks at (priority plus aging).
    Column("queue", String(40)),
    Column("channel", String(16)),
    Column("language", String(8)),
    Column("rank_at", UTC),
    # SLA timers (router/domain/sla.py): when the wait reached 80 % and 100 % of its target.
    Column("sla_warned_at", UTC),
    Column("sla_breached_at", UTC),
    Index("ix_queue_items_waiting", "state", "priority", "enqueued_at"),
    Index("ix_queue_items_rank", "state", "rank_at", "id"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("opted_in", Boolean, nullable=False),
    Column("keyword", String(16)),
    Column("changed_at", UTC, nullable=False),
    UniqueConstraint("channel", "address", name="uq_consents_channel_address"),
)

contact_events = Table(
    "contact_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type", String(32), nullable=False),
    Column("at", UTC, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("contact_id", Id, index=True),
    Column("citizen", String(40)),
    Column("need", String(40)),
    Column("data", JSON, nullable=False),
    Index("ix_contact_events_type_at", "type", "at"),
    # One citizen's events of a type in a period (analytics: repeat contacts, the rollup's
    # touched contacts, reminded citizens seen since): found by citizen, not by a scan.
    Index("ix_contact_events_citizen_type_at", "citizen", "type", "at"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("provider_id", String(64)),
    Column("address", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(10), nullable=False, default="message"),
    Column("contact_id", Id),
    Column("received_at", UTC, nullable=False),
    Column("message_id", Id),
    UniqueConstraint("channel", "provider_id", name="uq_inbox_channel_provider_id"),
    Index("ix_inbox_waiting", "message_id", "id"),
)
# A lane's entries not yet taken, oldest first (each turn asks before it takes its own): only
# the waiting are in the index, so a backlog of other citizens' messages is never read.
Index(
    "ix_inbox_lane_waiting",
    inbox.c.channel,
    inbox.c.address,
    inbox.c.id,
    sqlite_where=inbox.c.message_id.is_(None),
    postgresql_where=inbox.c.message_id.is_(None),
)

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

calls = Table(
    "calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), nullable=False, unique=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), index=True),
    Column("direction", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("language", String(8)),
    Column("queue_name", String(64)),
    Column("queue_result", String(24)),
    Column("link", String(500)),
    Column("started_at", UTC, nullable=False),
    Column("ended_at", UTC),
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

_MAPPED = False


def start_mappers() -> None:
    """Map the domain dataclasses onto the tables (once per process)."""
    global _MAPPED
    if _MAPPED:
        return
    mapper_registry.map_imperatively(model.Citizen, citizens)
    mapper_registry.map_imperatively(model.Exemption, exemptions)
    mapper_registry.map_imperatively(model.User, users)
    mapper_registry.map_imperatively(model.ApiToken, api_tokens)
    mapper_registry.map_imperatively(model.Contact, contacts)
    mapper_registry.map_imperatively(model.Message, messages)
    mapper_registry.map_imperatively(model.RoutingDecision, routing_decisions)
    mapper_registry.map_imperatively(model.QueueItem, queue_items)
    mapper_registry.map_imperatively(model.Consent, consents)
    mapper_registry.map_imperatively(model.ContactEvent, contact_events)
    mapper_registry.map_imperatively(model.InboxEntry, inbox)
    mapper_registry.map_imperatively(callback_model.Callback, callbacks)
    mapper_registry.map_imperatively(followup_model.Followup, followups)
    mapper_registry.map_imperatively(call_model.Call, calls)
    mapper_registry.map_imperatively(Survey, surveys)
    mapper_registry.map_imperatively(AuditEntry, audit_log)
    mapper_registry.map_imperatively(routing.AgentProfile, agent_profiles)
    mapper_registry.map_imperatively(Presence, presence)
    mapper_registry.map_imperatively(Offer, offers)
    mapper_registry.map_imperatively(Transfer, transfers)
    mapper_registry.map_imperatively(InternalNote, notes)
    _MAPPED = True
