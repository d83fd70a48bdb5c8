"""Internal notes: what agents write about a contact for colleagues, never sent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_notes_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_notes_agent_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_contact_id"), "notes", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_table("notes")
