"""The call catalog for QA review and the QA scores of calls.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.sqltypes import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_INDEXED = (
    "started_at",
    "duration_s",
    "caller",
    "agent_id",
    "seat_group",
    "domain",
    "request_type",
    "ticket",
    "rating",
)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("caller", sa.String(40), nullable=False),
        sa.Column("called", sa.String(40), nullable=False),
        sa.Column("agent_id", sa.String(100), nullable=False),
        sa.Column("seat_group", sa.String(40), nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("request_type", sa.String(10), nullable=False),
        sa.Column("emergency", sa.String(10), nullable=True),
        sa.Column("ticket", sa.String(40), nullable=False),
        sa.Column("end_reason", sa.String(60), nullable=False),
        sa.Column("directory", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rating", sa.String(10), nullable=True),
        sa.Column("legs", sa.JSON(), nullable=False),
        sa.Column("qa_total", sa.Float(), nullable=True),
        sa.Column("indexed_at", UtcDateTime(), nullable=False),
    )
    for column in _INDEXED:
        op.create_index(f"ix_calls_{column}", "calls", [column])
    op.create_table(
        "qa_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_by", sa.String(100), nullable=False),
        sa.Column("scored_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], ondelete="CASCADE", name="fk_qa_scores_call"
        ),
    )
    op.create_index("ix_qa_scores_call_id", "qa_scores", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_qa_scores_call_id", table_name="qa_scores")
    op.drop_table("qa_scores")
    for column in reversed(_INDEXED):
        op.drop_index(f"ix_calls_{column}", table_name="calls")
    op.drop_table("calls")
