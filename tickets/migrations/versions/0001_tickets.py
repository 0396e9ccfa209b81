"""Tickets, their audit trail and the per-day number sequence.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.sqltypes import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("caller_number", sa.String(40), nullable=False),
        sa.Column("caller_name", sa.String(100), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("request_type", sa.String(10), nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("category_code", sa.String(20), nullable=False),
        sa.Column("lead_department", sa.String(100), nullable=False),
        sa.Column("co_departments", sa.JSON(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("call_id", sa.String(100), nullable=False),
        sa.Column("recording_dir", sa.Text(), nullable=False),
        sa.Column("emergency_number", sa.String(10), nullable=False),
        sa.Column("needs_agent_review", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("linked_to", sa.String(40), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(10), nullable=True),
        sa.Column("extension", sa.JSON(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("number", name="uq_tickets_number"),
    )
    for column in (
        "created_at",
        "status",
        "due_date",
        "caller_number",
        "request_type",
        "domain",
        "call_id",
        "linked_to",
    ):
        op.create_index(f"ix_tickets_{column}", "tickets", [column])
    op.create_table(
        "ticket_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_audit_ticket"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_ticket_audit_seq"),
    )
    op.create_table(
        "ticket_sequences",
        sa.Column("prefix", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_sequences")
    op.drop_table("ticket_audit")
    for column in (
        "created_at",
        "status",
        "due_date",
        "caller_number",
        "request_type",
        "domain",
        "call_id",
        "linked_to",
    ):
        op.drop_index(f"ix_tickets_{column}", table_name="tickets")
    op.drop_table("tickets")
