"""API tokens expire: when each stops working. Tokens issued before get the default 90 days
from the upgrade (as if issued then), so no agency system loses its token on the day it
upgrades, and none is left without an end.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

DAYS = 90  # KANAL_API_TOKEN_DAYS' default


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
    ends = datetime.now(UTC) + timedelta(days=DAYS)
    if op.get_bind().dialect.name == "sqlite":  # SQLite keeps UTC without its zone
        ends = ends.replace(tzinfo=None)
    ends_at = sa.bindparam("ends", ends, type_=sa.DateTime(timezone=True))
    op.execute(
        sa.text("UPDATE api_tokens SET expires_at = :ends WHERE expires_at IS NULL").bindparams(
            ends_at
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
