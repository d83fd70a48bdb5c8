"""Events by citizen: analytics reads one citizen's events of a type in a period (their later
contacts for repeat contacts and needs continued, the contacts the rollup must recompute after
new events, what the log shows of a reminded citizen since); an index on (citizen, type, at)
finds them without reading every event of the type in the period.

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_contact_events_citizen_type_at", "contact_events", ["citizen", "type", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_contact_events_citizen_type_at", table_name="contact_events")
