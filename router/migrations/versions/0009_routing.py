"""Routing of assisted work: queues on queue items, agents' profiles, presence, offers,
transfers.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.add_column(sa.Column("queue", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("rank_at", sa.DateTime(timezone=True), nullable=True))
    # Items stored before: their skill is their queue, they rank by their priority, then age
    # (rank_at is set from enqueued_at; the waiting ones are ordered as before within a
    # priority), and carry their contact's channel and language.
    op.execute("UPDATE queue_items SET queue = skill, rank_at = enqueued_at")
    op.execute(
        "UPDATE queue_items SET channel = (SELECT c.channel FROM contacts c "
        "WHERE c.id = queue_items.contact_id), language = (SELECT c.language FROM contacts c "
        "WHERE c.id = queue_items.contact_id)"
    )
    op.create_index("ix_queue_items_rank", "queue_items", ["state", "rank_at"], unique=False)
    op.create_table(
        "agent_profiles",
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_profiles")),
    )
    op.create_table(
        "presence",
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_presence_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_presence")),
    )
    op.create_table(
        "offers",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("queue_item_id", _id(), nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_item_id"], ["queue_items.id"], name=op.f("fk_offers_queue_item_id_queue_items")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_offers_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_offers_agent_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index(op.f("ix_offers_queue_item_id"), "offers", ["queue_item_id"], unique=False)
    op.create_index("ix_offers_state_agent", "offers", ["state", "agent_id"], unique=False)
    op.create_table(
        "transfers",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("by_id", _id(), nullable=False),
        sa.Column("from_queue", sa.String(length=40), nullable=False),
        sa.Column("to_queue", sa.String(length=40), nullable=False),
        sa.Column("to_agent_id", _id(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_transfers_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_transfers_by_id_users")),
        sa.ForeignKeyConstraint(
            ["to_agent_id"], ["users.id"], name=op.f("fk_transfers_to_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(op.f("ix_transfers_contact_id"), "transfers", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_table("transfers")
    op.drop_table("offers")
    op.drop_table("presence")
    op.drop_table("agent_profiles")
    op.drop_index("ix_queue_items_rank", table_name="queue_items")
    with op.batch_alter_table("queue_items") as batch:
        batch.drop_column("rank_at")
        batch.drop_column("language")
        batch.drop_column("channel")
        batch.drop_column("queue")
