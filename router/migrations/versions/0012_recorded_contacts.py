"""Analytics' own tables for the policy simulator: one narrow row per contact, each distinct
decision once, and the mark of the last event folded (analytics/recordings.py).

They hold what is folded from the event log and nothing else: a copy made before this
revision (by the scheduler's first run) is dropped, and the next run folds the log again.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("recorded_contacts", "recorded_decisions", "recorded_marks")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name in TABLES:
        if name in existing:
            op.drop_table(name)
    op.create_table(
        "recorded_contacts",
        sa.Column("contact_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_hour", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("need", sa.String(length=40), nullable=True),
        sa.Column("exempt", sa.Boolean(), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("assisted", sa.Boolean(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("handle_seconds", sa.Float(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("digital", sa.Boolean(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_recorded_contacts")),
    )
    op.create_index(
        "ix_recorded_contacts_opened_at", "recorded_contacts", ["opened_at"], unique=False
    )
    op.create_table(
        "recorded_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recorded_decisions")),
        sa.UniqueConstraint("digest", name=op.f("uq_recorded_decisions_digest")),
    )
    op.create_table(
        "recorded_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_recorded_marks")),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
