"""The accounts' tables: users, sessions, API tokens (and ``web.audit``'s log).

They live in the ticket store's database (``tickets.database_url``) but are
made only by the migrations in ``web/migrations``, versioned in their own table
(:data:`VERSION_TABLE`), so the ticket store's schema stays its own.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.sqltypes import UtcDateTime

MIGRATIONS = Path(__file__).parent.parent / "migrations"
VERSION_TABLE = "web_alembic_version"


class WebBase(DeclarativeBase):
    pass


class UserRow(WebBase):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean)
    # Set on a one-time password: the consoles admit only the password page until
    # the user picks their own (web0002).
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The department (tickets.departments id) a department role works for (web0003).
    department: Mapped[str] = mapped_column(String(100), server_default="")
    failed_attempts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("username", name="uq_web_users_username"),)


class SessionRow(WebBase):
    """A signed-in browser: the cookie holds the token, the row its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_users.id", ondelete="CASCADE", name="fk_web_sessions_user"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ip: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("token_hash", name="uq_web_sessions_token"),)


class TokenRow(WebBase):
    """An integration's API token (``Authorization: Bearer``), kept as its SHA-256."""

    __tablename__ = "web_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_users.id", ondelete="CASCADE", name="fk_web_api_tokens_user"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("token_hash", name="uq_web_api_tokens_token"),)


class AuditRow(WebBase):
    """One write through the consoles, the API or ``hotline users`` (see ``web.audit``)."""

    __tablename__ = "web_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(64))
