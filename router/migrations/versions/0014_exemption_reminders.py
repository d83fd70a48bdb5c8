"""The end date an exempt citizen was last reminded of: exemptions.reminded_for.

One reminder per end date before an exemption from digital-first ends (docs/domain.md §2.5).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exemptions") as batch:
        batch.add_column(sa.Column("reminded_for", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exemptions") as batch:
        batch.drop_column("reminded_for")
