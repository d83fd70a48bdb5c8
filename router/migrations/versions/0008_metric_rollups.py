"""Analytics' own tables: the managers' daily rollups, the citizens' numbers, the migration's
input, the named counts' codes and the rollup's mark (analytics/rollups.py).

They hold figures derived from the event log and nothing else, so an older rollup made
before this revision (by the scheduler's first run) is dropped, and the next run rebuilds it.

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0010"
branch_labels = None
depends_on = None

KEYS = ("channel", "need", "exempt", "age_band", "language")
WAITS = ("answered_waits", "abandoned_waits", "phone_abandoned_waits")
TABLES = (
    "metric_rollups",
    "metric_rollup_openers",
    "metric_rollup_people",
    "metric_rollup_names",
    "metric_rollup_marks",
)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name in TABLES:
        if name in existing:
            op.drop_table(name)
    op.create_table(
        "metric_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(k, sa.String(length=64), nullable=False) for k in KEYS),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.Column("named", sa.LargeBinary(), nullable=True),
        *(sa.Column(w, sa.LargeBinary(), nullable=True) for w in WAITS),
        sa.Column("citizens", sa.LargeBinary(), nullable=True),
        sa.Column("exempt_citizens", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("day", *KEYS, name=op.f("pk_metric_rollups")),
    )
    op.create_table(
        "metric_rollup_openers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("citizens", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", name=op.f("pk_metric_rollup_openers")),
    )
    op.create_table(
        "metric_rollup_people",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("citizen", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_metric_rollup_people")),
        sa.UniqueConstraint("citizen", name=op.f("uq_metric_rollup_people_citizen")),
    )
    op.create_table(
        "metric_rollup_names",
        sa.Column("code", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_metric_rollup_names")),
        sa.UniqueConstraint("name", "key", name=op.f("uq_metric_rollup_names_name")),
    )
    op.create_table(
        "metric_rollup_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("repeat_days", sa.Integer(), nullable=False),
        sa.Column("followup_hours", sa.Float(), nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metric_rollup_marks")),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
