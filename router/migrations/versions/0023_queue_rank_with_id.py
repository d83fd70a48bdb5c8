"""The rank index ends with the id: the waiting are served by (rank_at, id), so a claim's
`ORDER BY rank_at, id LIMIT 1` reads the first matching row of the index instead of every
waiting item with its contact, sorted (PostgreSQL chose the sort: 400 rows joined and sorted
per claim at 400 waiting, 1.5-3 ms of the server's CPU, against 0.08 ms).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_queue_items_rank", table_name="queue_items")
    op.create_index("ix_queue_items_rank", "queue_items", ["state", "rank_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_queue_items_rank", table_name="queue_items")
    op.create_index("ix_queue_items_rank", "queue_items", ["state", "rank_at"])
