"""回访: the citizens' answers on the ticket and the tasks that call them back.

- ``tickets`` gains whether the caller declined callbacks, the citizen's answer
  to "was it solved" (``resolution``), the review flag that 未解决 and 差评 set,
  and how many times the ticket was reopened after an answer (``redo_count``);
- ``verification_tasks`` holds one task per citizen and round: its state, next
  attempt, the attempts made and the answers given.

Ratings are five levels now (非常满意 … 非常不满意); the three stored before
(满意, 基本满意, 不满意) keep their meaning.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.sqltypes import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too (never a batch copy: see 0002).
    add = op.add_column
    false = sa.false()
    add(
        "tickets",
        sa.Column("declined_callback", sa.Boolean(), nullable=False, server_default=false),
    )
    add("tickets", sa.Column("resolution", sa.String(10), nullable=True))
    add(
        "tickets",
        sa.Column("verification_review", sa.Boolean(), nullable=False, server_default=false),
    )
    add("tickets", sa.Column("redo_count", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_tickets_verification_review", "tickets", ["verification_review"])
    text = {"nullable": False, "server_default": ""}
    op.create_table(
        "verification_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(30), **text),
        sa.Column("sampled", sa.Boolean(), nullable=False, server_default=false),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("due_by", UtcDateTime(), nullable=False),
        sa.Column("next_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("resolution", sa.String(10), **text),
        sa.Column("rating", sa.String(10), **text),
        sa.Column("resolution_source", sa.String(10), **text),
        sa.Column("rating_source", sa.String(10), **text),
        sa.Column("comment", sa.Text(), **text),
        sa.Column("call_id", sa.String(100), **text),
        sa.Column("recording_dir", sa.Text(), **text),
        sa.Column("assigned_to", sa.String(100), **text),
        sa.Column("notes", sa.Text(), **text),
        sa.Column("department", sa.String(100), **text),
        sa.Column("seat_group", sa.String(100), **text),
        sa.Column("forced", sa.Boolean(), nullable=False, server_default=false),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "ticket", "number", "round", "kind", name="uq_verification_tasks_round"
        ),
    )
    for column in ("ticket", "number", "state", "created_at", "next_at", "department"):
        op.create_index(f"ix_verification_tasks_{column}", "verification_tasks", [column])


def downgrade() -> None:
    op.drop_table("verification_tasks")
    op.drop_index("ix_tickets_verification_review", "tickets")
    for column in ("redo_count", "verification_review", "resolution", "declined_callback"):
        op.drop_column("tickets", column)
