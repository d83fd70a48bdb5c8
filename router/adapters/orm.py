"""Storage schema: SQLAlchemy 2 tables, mapped imperatively onto the domain dataclasses.

Here are the tables of the conversation (citizens, contacts, messages, decisions, the queue,
consents, events, the inbox, calls) and the mapping of every table; the staff's, the desk's
and those of what follows a contact are in `staff_tables`, `desk_tables` and
`followup_tables`, all on the one MetaData of `schema`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from router.adapters.desk_tables import agent_profiles, notes, offers, presence, transfers
from router.adapters.followup_tables import callbacks, followups, surveys
from router.adapters.schema import UTC, Id, mapper_registry, metadata
from router.adapters.staff_tables import api_tokens, audit_log, users
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
