"""Create the initial schema: citizens, staff, contacts, messages, decisions, queue, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# Frozen copies of router.adapters.orm's types: a migration must not change when the ORM does.
def _id() -> sa.types.TypeEngine:
    """BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at() -> sa.types.TypeEngine:
    """A UTC timestamp (orm.UTCDateTime's storage type)."""
    return sa.DateTime(timezone=True)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _index_on(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "citizens",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("created_at", _at(), nullable=True),
        _pk("citizens"),
        sa.UniqueConstraint("phone", name=op.f("uq_citizens_phone")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_citizens_pseudonym")),
    )
    op.create_table(
        "consents",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("keyword", sa.String(length=16), nullable=True),
        sa.Column("changed_at", _at(), nullable=False),
        _pk("consents"),
        sa.UniqueConstraint("channel", "address", name="uq_consents_channel_address"),
    )
    op.create_table(
        "contact_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", _at(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("contact_id", _id(), nullable=True),
        sa.Column("citizen", sa.String(length=40), nullable=True),
        sa.Column("need", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _pk("contact_events"),
    )
    _index_on("contact_events", "contact_id")
    op.create_index("ix_contact_events_type_at", "contact_events", ["type", "at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _at(), nullable=True),
        _pk("users"),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _fk("api_tokens", "user_id", "users"),
        _pk("api_tokens"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("citizen_id", _id(), nullable=True),
        sa.Column("need", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", _at(), nullable=False),
        sa.Column("last_activity_at", _at(), nullable=True),
        sa.Column("closed_at", _at(), nullable=True),
        sa.Column("bot_failures", sa.Integer(), nullable=False),
        sa.Column("digital_offered", sa.Boolean(), nullable=False),
        sa.Column("bot_sender", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("agent_id", _id(), nullable=True),
        sa.Column("wrap_up", sa.String(length=40), nullable=True),
        _fk("contacts", "agent_id", "users"),
        _fk("contacts", "citizen_id", "citizens"),
        _pk("contacts"),
    )
    op.create_index(
        "ix_contacts_channel_address_state",
        "contacts",
        ["channel", "address", "state"],
        unique=False,
    )
    _index_on("contacts", "citizen_id")

    op.create_table(
        "exemptions",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("citizen_id", _id(), nullable=False),
        sa.Column("ground", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("registered_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", _at(), nullable=True),
        _fk("exemptions", "citizen_id", "citizens"),
        _pk("exemptions"),
        sa.UniqueConstraint(
            "citizen_id", "ground", "valid_from", name="uq_exemptions_citizen_ground_from"
        ),
    )
    _index_on("exemptions", "citizen_id")

    op.create_table(
        "messages",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("agent_id", _id(), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _at(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        _fk("messages", "agent_id", "users"),
        _fk("messages", "contact_id", "contacts"),
        _pk("messages"),
        sa.UniqueConstraint("channel", "provider_id", name="uq_messages_channel_provider_id"),
    )
    _index_on("messages", "contact_id")
    op.create_index(
        "ix_messages_outbox",
        "messages",
        ["direction", "delivery_status", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "queue_items",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("enqueued_at", _at(), nullable=False),
        sa.Column("agent_id", _id(), nullable=True),
        sa.Column("claimed_at", _at(), nullable=True),
        sa.Column("answered_at", _at(), nullable=True),
        sa.Column("closed_at", _at(), nullable=True),
        _fk("queue_items", "agent_id", "users"),
        _fk("queue_items", "contact_id", "contacts"),
        _pk("queue_items"),
    )
    _index_on("queue_items", "contact_id")
    op.create_index(
        "ix_queue_items_waiting", "queue_items", ["state", "priority", "enqueued_at"], unique=False
    )

    op.create_table(
        "routing_decisions",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("message_id", _id(), nullable=True),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("decided_at", _at(), nullable=False),
        _fk("routing_decisions", "contact_id", "contacts"),
        _fk("routing_decisions", "message_id", "messages"),
        _pk("routing_decisions"),
    )
    _index_on("routing_decisions", "contact_id")


def downgrade() -> None:
    # Dependents first; dropping a table drops its indexes with it.
    for table in (
        "routing_decisions",
        "queue_items",
        "messages",
        "exemptions",
        "contacts",
        "api_tokens",
        "users",
        "contact_events",
        "consents",
        "citizens",
    ):
        op.drop_table(table)
