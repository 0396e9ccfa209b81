"""Users may be required to change their password at the next sign-in.

Existing users keep theirs (the column defaults to false).

Revision ID: web0002
Revises: web0001
Create Date: 2026-04-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web0002"
down_revision = "web0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too, never a batch copy: dropping the
    # old web_users would delete every session and API token through ON DELETE CASCADE.
    op.add_column(
        "web_users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("web_users", "must_change_password")  # SQLite 3.35+, not a batch either
