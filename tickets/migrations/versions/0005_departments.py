"""Departments work their tickets: parts (主办/协办/吹哨报到), the reply awaiting the
department's reviewer, the request to hand a ticket back, merged callers, the
sweep's marks, and attachments.

- ``tickets`` gains the category's path in the city's tree, JSON columns for the
  parts, the drafted reply, the return request and merged callers, the sweep's
  three marks and the 督办 flag;
- ``ticket_departments`` indexes which department has a part in which ticket
  (a department's console and filters read it);
- ``ticket_attachments`` records each attachment's file, type, size and hash.

Existing tickets keep everything: one dispatched before has its lead department
as its one part (主办), assigned when it was last changed, already signed when
it was past signing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets.sqltypes import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WITH_A_DEPARTMENT = ("dispatched", "signed", "handling", "reviewing", "returned", "replied")
_SIGNED = ("signed", "handling", "reviewing", "replied", "closed", "called_back", "rated")


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too (never a batch copy: see 0002).
    add = op.add_column
    add("tickets", sa.Column("category_path", sa.String(200), nullable=False, server_default=""))
    add("tickets", sa.Column("assignments", sa.JSON(), nullable=False, server_default="[]"))
    add("tickets", sa.Column("reply_draft", sa.JSON(), nullable=True))
    add("tickets", sa.Column("return_request", sa.JSON(), nullable=True))
    add("tickets", sa.Column("merged_callers", sa.JSON(), nullable=False, server_default="[]"))
    add("tickets", sa.Column("due_soon_at", UtcDateTime(), nullable=True))
    add("tickets", sa.Column("overdue_at", UtcDateTime(), nullable=True))
    add("tickets", sa.Column("escalated_at", UtcDateTime(), nullable=True))
    add(
        "tickets",
        sa.Column("supervised", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "ticket_departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_ticket_departments_ticket", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_departments_department", "ticket_departments", ["department"])
    op.create_index("ix_ticket_departments_ticket_id", "ticket_departments", ["ticket_id"])
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_ticket_attachments_ticket", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_attachments_ticket_id", "ticket_attachments", ["ticket_id"])
    _parts_of_existing_tickets()


def _parts_of_existing_tickets() -> None:
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("lead_department", sa.String),
        sa.column("updated_at", UtcDateTime()),
        sa.column("assignments", sa.JSON),
    )
    parts = sa.table(
        "ticket_departments",
        sa.column("ticket_id", sa.Integer),
        sa.column("department", sa.String),
        sa.column("role", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            tickets.c.id, tickets.c.status, tickets.c.lead_department, tickets.c.updated_at
        ).where(tickets.c.status.in_(_WITH_A_DEPARTMENT), tickets.c.lead_department != "")
    ).all()
    for ticket_id, status, department, updated_at in rows:
        at = updated_at.isoformat() if updated_at is not None else None
        part = {
            "department": department,
            "role": "lead",
            "assigned_at": at,
            "assigned_by": "system",
            "due_at": None,
            "signed_at": at if status in _SIGNED else None,
            "reported_at": None,
            "report": "",
            "urged_at": None,
        }
        connection.execute(
            tickets.update().where(tickets.c.id == ticket_id).values(assignments=[part])
        )
        connection.execute(
            parts.insert().values(ticket_id=ticket_id, department=department, role="lead")
        )


def downgrade() -> None:
    op.drop_index("ix_ticket_attachments_ticket_id", table_name="ticket_attachments")
    op.drop_table("ticket_attachments")
    op.drop_index("ix_ticket_departments_ticket_id", table_name="ticket_departments")
    op.drop_index("ix_ticket_departments_department", table_name="ticket_departments")
    op.drop_table("ticket_departments")
    for column in (
        "supervised",
        "escalated_at",
        "overdue_at",
        "due_soon_at",
        "merged_callers",
        "return_request",
        "reply_draft",
        "assignments",
        "category_path",
    ):
        op.drop_column("tickets", column)
