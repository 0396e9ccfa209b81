"""The audit log: every write through the consoles, the API or ``hotline users``.

One row per write: when, who (username and role), the action, its target, a
JSON detail and the client's IP address.  Accounts write their own entries
(login success and failure, logout, user changes, API tokens) in the same
transaction as the change.  Other routers record theirs with one call::

    from web import audit

    @router.post("/api/tickets/{number}/transition", dependencies=[Depends(require_csrf)])
    async def transition(number: str, request: Request, principal: Agent) -> ...:
        ...  # make the change
        await audit.record(request, "ticket.transition", number, {"action": "accept"})

:func:`record` takes the principal and IP from the request and the log from the
app's accounts (``context.accounts.audit``); a sync endpoint (run in FastAPI's
thread pool) calls :func:`record_sync` instead.  With no audit log configured
both raise ``RuntimeError``: a write must not go unrecorded.  Keep secrets
(passwords, tokens) out of ``detail``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from web.accounts.tables import AuditRow
from web.roles import Principal


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a signed-in user, an integration, or an operator's CLI."""

    username: str
    role: str = ""
    ip: str = ""

    @classmethod
    def of(cls, principal: Principal | None, ip: str = "") -> Actor:
        if principal is None:
            return cls("", "", ip)
        return cls(principal.username, str(principal.role), ip)

    @classmethod
    def from_request(cls, request: Request) -> Actor:
        principal: Principal | None = getattr(request.state, "principal", None)
        return cls.of(principal, client_ip(request))

    @classmethod
    def cli(cls) -> Actor:
        """The operator running ``hotline users`` (``cli:<login name>``)."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no login name (containers without passwd entries)
            name = "unknown"
        return cls(f"cli:{name}", "", "")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    username: str
    role: str
    action: str
    target: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    ip: str = ""


class AuditSink(Protocol):
    """Where entries go: :class:`AuditLog` (SQL) or :class:`MemoryAuditLog` (tests)."""

    def add(
        self, actor: Actor, action: str, target: str = "", detail: Mapping[str, Any] | None = None
    ) -> AuditEntry: ...


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _plain(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """``detail`` as JSON-safe data (dates, enums and the like become strings)."""
    return json.loads(json.dumps(dict(detail or {}), ensure_ascii=False, default=str))


def _to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        username=row.username,
        role=row.role,
        action=row.action,
        target=row.target,
        detail=dict(row.detail or {}),
        ip=row.ip,
    )


def audit_row(
    at: datetime,
    actor: Actor,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditRow:
    """A row for ``session.add`` (used by stores that audit inside their own transaction)."""
    return AuditRow(
        at=at,
        username=actor.username[:64],
        role=actor.role[:20],
        action=action[:64],
        target=target[:200],
        detail=_plain(detail),
        ip=actor.ip[:64],
    )


class AuditLog:
    """The audit log in SQL (table ``web_audit``); thread-safe."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self.clock = clock

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def add(
        self, actor: Actor, action: str, target: str = "", detail: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        row = audit_row(self.clock(), actor, action, target, detail)
        with self._transaction() as session:
            session.add(row)
        return _to_entry(row)

    def entries(
        self,
        *,
        username: str = "",
        action: str = "",
        target: str = "",
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries, newest first, filtered by whoever is given."""
        statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if username:
            statement = statement.where(AuditRow.username == username)
        if action:
            statement = statement.where(AuditRow.action == action)
        if target:
            statement = statement.where(AuditRow.target == target)
        if since is not None:
            statement = statement.where(AuditRow.at >= since)
        with self._transaction() as session:
            return [_to_entry(row) for row in session.scalars(statement)]


class MemoryAuditLog:
    """An audit log in a list, for apps under test without a database."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.recorded: list[AuditEntry] = []

    def add(
        self, actor: Actor, action: str, target: str = "", detail: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        entry = AuditEntry(
            self.clock(), actor.username, actor.role, action, target, _plain(detail), actor.ip
        )
        self.recorded.append(entry)
        return entry

    def entries(
        self, *, username: str = "", action: str = "", limit: int = 100
    ) -> list[AuditEntry]:
        found = [
            e
            for e in reversed(self.recorded)
            if (not username or e.username == username) and (not action or e.action == action)
        ]
        return found[:limit]


def audit_log(request: Request) -> AuditSink:
    """The app's audit log (``context.accounts.audit``); ``RuntimeError`` without one."""
    accounts = getattr(request.app.state.context, "accounts", None)
    sink = getattr(accounts, "audit", None)
    if sink is None:
        raise RuntimeError("this app has no audit log (WebContext.accounts is not set)")
    return sink


def record_sync(
    request: Request,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
    *,
    actor: Actor | None = None,
) -> AuditEntry:
    """Record a write made by ``request``'s principal (blocking; for sync endpoints)."""
    return audit_log(request).add(actor or Actor.from_request(request), action, target, detail)


async def record(
    request: Request,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
    *,
    actor: Actor | None = None,
) -> AuditEntry:
    """Record a write made by ``request``'s principal, e.g.
    ``await record(request, "ticket.transition", "GD12345-20261127-000001", {"action": "accept"})``.

    ``action`` is a dotted verb (``<resource>.<change>``), ``target`` what was
    changed (a ticket number, username, call id), ``detail`` JSON-safe data.
    """
    sink = audit_log(request)
    who = actor or Actor.from_request(request)
    return await asyncio.to_thread(sink.add, who, action, target, detail)
