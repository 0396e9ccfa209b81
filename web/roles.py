"""Who may do what: roles, the signed-in principal, and the per-route declaration.

Every route declares the roles allowed with :func:`require_roles` (or is marked
:func:`public`); a test walks the app's routes and refuses any that declares
neither.  Authentication itself (sessions, API tokens) lives in ``web.auth``;
it puts the :class:`Principal` on ``request.state.principal``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status


class Role(enum.StrEnum):
    AGENT = "agent"  # 话务员
    SUPERVISOR = "supervisor"  # 值班长
    QA = "qa"  # 质检
    ADMIN = "admin"


ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user (``via`` "session") or an integration ("token")."""

    user_id: int
    username: str
    role: Role
    agent_id: str = ""  # the agent (SIP user) this user answers calls as
    via: str = "session"


class RolesDependency:
    """A FastAPI dependency that admits only ``roles``; the roles stay readable
    (``.roles``) so tests can check every route declares some."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    def __call__(self, request: Request) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录 (sign in first)")
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this ({allowed})"
            )
        return principal


def require_roles(*roles: Role) -> RolesDependency:
    if not roles:
        raise ValueError("name at least one role; use public() for open routes")
    return RolesDependency(frozenset(roles))


class PublicDependency:
    """Marks a route open to anyone (login page, health check)."""

    roles: frozenset[Role] = frozenset()

    def __call__(self) -> None:
        return None


def public() -> PublicDependency:
    return PublicDependency()


def declared_roles(endpoint_dependencies: list[Any]) -> frozenset[Role] | None:
    """The roles a route's dependencies declare; None when it declares nothing."""
    for call in endpoint_dependencies:
        if isinstance(call, RolesDependency | PublicDependency):
            return call.roles
    return None


Masker = Callable[[str], str]
