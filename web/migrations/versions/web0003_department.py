"""Department users: the department a department_handler or department_reviewer
works for (its id in ``tickets.departments``).

Existing users work for none (the column defaults to empty).

Revision ID: web0003
Revises: web0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web0003"
down_revision = "web0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too, never a batch copy (see web0002).
    op.add_column(
        "web_users",
        sa.Column("department", sa.String(100), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("web_users", "department")
