"""Duplicate candidates by index: the normalised address of every ticket.

A new ticket repeats an earlier one only with the same caller or the same
address, so candidates are looked up by ``caller_number`` and by this key
instead of reading every ticket of the window (which grew with every call).
Existing tickets get their key computed here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.duplicates import address_key

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too (never a batch copy: see 0002).
    op.add_column(
        "tickets", sa.Column("address_key", sa.String(200), nullable=False, server_default="")
    )
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("address", sa.Text),
        sa.column("address_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(tickets.c.id, tickets.c.address)).all()
    for ticket_id, address in rows:
        key = address_key(address or "")
        if key:
            connection.execute(
                tickets.update().where(tickets.c.id == ticket_id).values(address_key=key)
            )
    op.create_index("ix_tickets_address_key", "tickets", ["address_key"])


def downgrade() -> None:
    op.drop_index("ix_tickets_address_key", table_name="tickets")
    op.drop_column("tickets", "address_key")
