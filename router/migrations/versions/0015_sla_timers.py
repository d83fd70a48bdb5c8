"""SLA timers: when a waiting item's wait reached 80 % and 100 % of its queue's target.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.add_column(sa.Column("sla_warned_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("sla_breached_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.drop_column("sla_breached_at")
        batch.drop_column("sla_warned_at")
