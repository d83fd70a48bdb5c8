"""Contacts by agent: what an agent holds is read by every claim (the presence's statement)
and by the supervisor board; an index on (agent_id, state) finds it without a scan.

Revision ID: 0016
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contacts_agent_state", "contacts", ["agent_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_contacts_agent_state", table_name="contacts")
