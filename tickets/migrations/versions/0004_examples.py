"""Agents' corrections of the understanding, kept as labelled examples.

One row per correction an agent made on the desk to a ticket's request type,
domain, category or lead department: the text, what the model said (kept from
the ticket's first correction), what the agent set, who and when
(``tickets.examples``).  A new table: existing tickets have no corrections.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.sqltypes import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_request_type", sa.String(10), nullable=False),
        sa.Column("predicted_domain", sa.String(100), nullable=False),
        sa.Column("predicted_category_code", sa.String(50), nullable=False),
        sa.Column("predicted_department", sa.String(100), nullable=False),
        sa.Column("request_type", sa.String(10), nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("category_code", sa.String(50), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_ticket_examples_ticket", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_examples_ticket_id", "ticket_examples", ["ticket_id"])
    op.create_index("ix_ticket_examples_at", "ticket_examples", ["at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_examples_at", table_name="ticket_examples")
    op.drop_index("ix_ticket_examples_ticket_id", table_name="ticket_examples")
    op.drop_table("ticket_examples")
