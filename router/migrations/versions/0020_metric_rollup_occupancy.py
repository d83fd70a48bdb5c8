"""Analytics' occupancy rollup: one row per day with the agents' staffed and handling seconds
(analytics/occupancy_rollup.py). Figures derived from the event log only; the scheduler's next
run fills it.

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_rollup_occupancy",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staffed_seconds", sa.BigInteger(), nullable=False),
        sa.Column("handling_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_metric_rollup_occupancy")),
    )


def downgrade() -> None:
    op.drop_table("metric_rollup_occupancy")
