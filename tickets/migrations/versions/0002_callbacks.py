"""The callback task on a ticket: number, reason, when it was done.

Existing tickets get no task: an empty number and reason (server defaults) and no
done time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.sqltypes import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too (never a batch copy of the table:
    # see downgrade).
    op.add_column(
        "tickets", sa.Column("callback_number", sa.String(40), nullable=False, server_default="")
    )
    op.add_column(
        "tickets", sa.Column("callback_reason", sa.String(20), nullable=False, server_default="")
    )
    op.add_column("tickets", sa.Column("callback_done_at", UtcDateTime(), nullable=True))
    op.create_index("ix_tickets_callback_number", "tickets", ["callback_number"])


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch copies the
    # table and drops the old one, and with foreign keys on that drop would delete
    # every audit row through ON DELETE CASCADE.
    op.drop_index("ix_tickets_callback_number", table_name="tickets")
    for column in ("callback_done_at", "callback_reason", "callback_number"):
        op.drop_column("tickets", column)
