"""The node that stored each event: several nodes may share one database, and each
hub publishes its own node's events to its own broker.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows stored before this revision have node "" and are published by any hub.
    op.add_column(
        "events_outbox",
        sa.Column("node", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_events_outbox_node_pending", "events_outbox", ["node", "published_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_events_outbox_node_pending", table_name="events_outbox")
    op.drop_column("events_outbox", "node")
