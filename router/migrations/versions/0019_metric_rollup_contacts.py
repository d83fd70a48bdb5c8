"""The rollup's contacts (each contact's share of the daily rollup, so the rollup job
recomputes only the contacts new events can change) and the rollup mark's generation
(analytics/rollups.py, analytics/rollup_contacts.py).

The rollup is derived from the event log only: its mark is removed, and the next run of the
job rebuilds it with the contacts' rows.

Revision ID: 0019
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0021"
branch_labels = None
depends_on = None

KEYS = ("channel", "need", "exempt", "age_band", "language")


def upgrade() -> None:
    op.create_table(
        "metric_rollup_contacts",
        sa.Column("contact_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(k, sa.String(length=64), nullable=False) for k in KEYS),
        sa.Column("opener", sa.Integer(), nullable=True),
        sa.Column("person", sa.Integer(), nullable=True),
        sa.Column("exempt_person", sa.Integer(), nullable=False),
        sa.Column("figures", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_metric_rollup_contacts")),
    )
    op.create_index("ix_metric_rollup_contacts_day", "metric_rollup_contacts", ["day", *KEYS])
    op.execute("DELETE FROM metric_rollup_marks")
    with op.batch_alter_table("metric_rollup_marks") as batch:
        batch.add_column(
            sa.Column("generation", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_rollup_marks") as batch:
        batch.drop_column("generation")
    op.drop_index("ix_metric_rollup_contacts_day", table_name="metric_rollup_contacts")
    op.drop_table("metric_rollup_contacts")
