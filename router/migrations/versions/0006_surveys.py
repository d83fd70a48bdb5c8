"""The satisfaction survey asked after a contact closes (one per contact).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("contact_id", _id(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("need", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("asked_at", _at(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", _at(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_surveys_contact_id_contacts")
        ),
        sa.UniqueConstraint("contact_id", name=op.f("uq_surveys_contact_id")),
    )
    op.create_index("ix_surveys_state_asked_at", "surveys", ["state", "asked_at"], unique=False)


def downgrade() -> None:
    op.drop_table("surveys")
