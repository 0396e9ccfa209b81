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

from fastapi import HTTPException, WebSocketException, status
from starlette.requests import HTTPConnection


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

    async def __call__(self, connection: HTTPConnection) -> Principal:
        websocket = connection.scope["type"] == "websocket"
        principal: Principal | None = getattr(connection.state, "principal", None)
        if principal is None and websocket:
            # The identifying middleware sees HTTP only: a WebSocket upgrade is
            # identified here, from the same session cookie or bearer token.
            from web.auth import authenticate

            principal = await authenticate(connection.app.state.context, connection)
            connection.state.principal = principal
        if principal is None:
            if websocket:
                raise WebSocketException(4401, "sign in first")
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录 (sign in first)")
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            if websocket:
                raise WebSocketException(4403, f"role {principal.role} may not ({allowed})")
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


@dataclass(frozen=True)
class RouteInfo:
    methods: frozenset[str]  # "WS" for a WebSocket
    path: str
    roles: frozenset[Role] | None  # None: the route declares none (a mistake)


def route_table(app: Any) -> list[RouteInfo]:
    """Every HTTP and WebSocket route of ``app`` with the roles it declares, routers
    included by ``include_router`` expanded (FastAPI keeps those unexpanded)."""
    found: list[RouteInfo] = []

    def calls(dependant: Any) -> list[Any]:
        stack, out = [dependant], []
        while stack:
            current = stack.pop()
            if current.call is not None:
                out.append(current.call)
            stack.extend(current.dependencies)
        return out

    def add(methods: Any, path: str, dependant: Any) -> None:
        found.append(
            RouteInfo(frozenset(methods or {"WS"}), path, declared_roles(calls(dependant)))
        )

    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                dependant = getattr(context, "dependant", None)
                if dependant is None:  # e.g. a WebSocket route: its original route has it
                    dependant = getattr(context.original_route, "dependant", None)
                path = context.path or getattr(context.original_route, "path", "")
                if dependant is not None:
                    add(getattr(context, "methods", None), path, dependant)
        elif getattr(route, "dependant", None) is not None:
            add(getattr(route, "methods", None), route.path, route.dependant)
    return found
