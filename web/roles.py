"""Who may do what: roles, the signed-in principal, and the per-route declaration.

Every route declares the roles allowed with :func:`require_roles` (or is marked
:func:`public`); a test walks the app's routes and refuses any that declares
neither.  Authentication itself (sessions, API tokens) lives in ``web.auth``;
it puts the :class:`Principal` on ``request.state.principal``.

Pages and the rest answer differently.  A *page* is a GET or HEAD of a route
that answers HTML (declared ``response_class=HTMLResponse``): a browser opens
it, so nobody signed in is sent (303) to the sign-in page with ``next`` (the
page asked for, see ``web.redirects``), and a role that may not open it gets a
403 page (:class:`PageForbidden`, rendered by ``web.navigation``).  The JSON API,
``/metrics`` and WebSockets answer 401 / 403 (4401 / 4403) instead.

A session whose user must change their password (a one-time password) passes
only routes declared with ``require_roles(..., before_password_change=True)``
(the password page, logout): other GETs outside ``/api/`` redirect (303) to
:data:`PASSWORD_PAGE`, API and WebSocket requests are refused (403).  (Signing
in with a one-time password goes there with the sign-in's ``next``, kept for
after the change.)  API tokens are not held back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, WebSocketException, status
from fastapi.responses import HTMLResponse
from starlette.requests import HTTPConnection

from web.redirects import SIGN_IN_PAGE, requested, with_next


class Role(enum.StrEnum):
    AGENT = "agent"  # 话务员
    SUPERVISOR = "supervisor"  # 值班长
    QA = "qa"  # 质检
    ADMIN = "admin"
    DEPARTMENT_HANDLER = "department_handler"  # 承办单位经办人
    DEPARTMENT_REVIEWER = "department_reviewer"  # 承办单位审核人
    VERIFIER = "verifier"  # 回访员: callbacks that need a person, 现场核查


DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_REVIEWER})
CENTRE_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN, Role.VERIFIER})
# Roles that may have an agent id: an agent answers calls as it, a verifier's
# softphone rings as it for the callbacks they make through the node.
SOFTPHONE_ROLES = frozenset({Role.AGENT, Role.VERIFIER})


ALL_ROLES = frozenset(Role)
PASSWORD_PAGE = "/account/password"
PASSWORD_FIRST = "请先修改密码 (the password must be changed first)"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user (``via`` "session") or an integration ("token")."""

    user_id: int
    username: str
    role: Role
    agent_id: str = ""  # the agent (SIP user) this user answers (a verifier: makes) calls as
    via: str = "session"
    must_change_password: bool = False  # a session held at the password page
    department: str = ""  # the department a department role works for (directory id)

    @property
    def held_for_password_change(self) -> bool:
        """A signed-in browser that may only change its password (tokens never are)."""
        return self.must_change_password and self.via == "session"


class RolesDependency:
    """A FastAPI dependency that admits only ``roles``; the roles stay readable
    (``.roles``) so tests can check every route declares some.  Unless
    ``before_password_change``, a session that must change its password is held
    back (see the module's docstring)."""

    def __init__(self, roles: frozenset[Role], before_password_change: bool = False) -> None:
        self.roles = roles
        self.before_password_change = before_password_change

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
            if is_page(connection):
                raise SeeOther(with_next(SIGN_IN_PAGE, requested(connection)))
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录 (sign in first)")
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            if websocket:
                raise WebSocketException(4403, f"role {principal.role} may not ({allowed})")
            if is_page(connection):
                raise PageForbidden(principal, self.roles)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this ({allowed})"
            )
        if principal.held_for_password_change and not self.before_password_change:
            raise _password_first(connection)
        return principal


def is_page(connection: HTTPConnection) -> bool:
    """Whether a browser is opening a page: a GET or HEAD of a route that answers
    HTML (``response_class=HTMLResponse``)."""
    if connection.scope["type"] != "http" or connection.scope.get("method") not in ("GET", "HEAD"):
        return False
    answers = getattr(connection.scope.get("route"), "response_class", None)
    return isinstance(answers, type) and issubclass(answers, HTMLResponse)


class SeeOther(HTTPException):
    """A page request sent elsewhere first (303 to ``location``): to the sign-in
    page without a session, to the password page while it must be changed."""

    def __init__(self, location: str) -> None:
        super().__init__(status.HTTP_303_SEE_OTHER, headers={"Location": location})
        self.location = location


class PageForbidden(HTTPException):
    """A signed-in user opened a page their role may not use: 403, shown as a
    page that names the consoles they may use (``web.navigation``)."""

    def __init__(self, principal: Principal, allowed: frozenset[Role]) -> None:
        names = ", ".join(sorted(allowed))
        super().__init__(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not ({names})")
        self.principal = principal
        self.allowed = allowed


def _password_first(connection: HTTPConnection) -> Exception:
    """Why a session held for a password change gets no further: a GET or HEAD
    outside ``/api/`` (a page, or ``/metrics`` opened in the browser) is sent to
    the password page, anything else refused."""
    if connection.scope["type"] == "websocket":
        return WebSocketException(4403, PASSWORD_FIRST)
    page = connection.scope.get("method") in ("GET", "HEAD")
    if page and not connection.url.path.startswith("/api/"):
        return SeeOther(PASSWORD_PAGE)
    return HTTPException(status.HTTP_403_FORBIDDEN, PASSWORD_FIRST)


def require_roles(*roles: Role, before_password_change: bool = False) -> RolesDependency:
    """Admit ``roles``; ``before_password_change`` admits a session that must still
    change its password too (only for the password page and logout)."""
    if not roles:
        raise ValueError("name at least one role; use public() for open routes")
    return RolesDependency(frozenset(roles), before_password_change)


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
