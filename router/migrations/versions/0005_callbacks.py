"""Callbacks, deflection follow-ups, and agents who take calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "available_for_calls", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "callbacks",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("booked_at", _at(), nullable=False),
        sa.Column("not_before", _at(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _at(), nullable=True),
        sa.Column("agent_id", _id(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_by", _id(), nullable=True),
        sa.Column("closed_at", _at(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        _fk("callbacks", "contact_id", "contacts"),
        _fk("callbacks", "agent_id", "users"),
        _fk("callbacks", "closed_by", "users"),
    )
    op.create_index("ix_callbacks_contact_id", "callbacks", ["contact_id"], unique=False)
    op.create_index("ix_callbacks_state", "callbacks", ["state", "booked_at"], unique=False)
    op.create_table(
        "followups",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("citizen_id", _id(), nullable=True),
        sa.Column("need", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", _at(), nullable=False),
        sa.Column("due_at", _at(), nullable=False),
        sa.Column("offered_at", _at(), nullable=True),
        sa.Column("offer_contact_id", _id(), nullable=True),
        sa.Column("callback_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        _fk("followups", "contact_id", "contacts"),
        _fk("followups", "citizen_id", "citizens"),
        _fk("followups", "offer_contact_id", "contacts"),
        _fk("followups", "callback_id", "callbacks"),
    )
    op.create_index("ix_followups_contact_id", "followups", ["contact_id"], unique=False)
    op.create_index("ix_followups_citizen_id", "followups", ["citizen_id"], unique=False)


def downgrade() -> None:
    op.drop_table("followups")
    op.drop_table("callbacks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("available_for_calls")
