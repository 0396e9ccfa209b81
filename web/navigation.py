"""Finding one's way between the consoles: each role's home console, where a
browser lands after signing in, the header's links, and the pages answered for
:class:`~web.roles.SeeOther` (a plain 303) and :class:`~web.roles.PageForbidden`
(a 403 page in Chinese that names the consoles the user may use instead).

The header links every console whose page the signed-in role may open; who may
open a page is read from the page route's own ``require_roles`` declaration, so
the links never promise a page that would answer 403.  A new console is one
line in :data:`CONSOLE_PAGES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.redirects import SIGN_IN_PAGE, safe_next
from web.roles import PageForbidden, Principal, Role, RouteInfo, SeeOther

ROLE_HOME = {
    Role.AGENT: "/desk",
    Role.SUPERVISOR: "/wallboard",
    Role.QA: "/qa",
    Role.ADMIN: "/wallboard",
    Role.DEPARTMENT_HANDLER: "/department",
    Role.DEPARTMENT_REVIEWER: "/department",
    Role.VERIFIER: "/verification",
}
ROLE_LABELS = {
    Role.AGENT: "话务员",
    Role.SUPERVISOR: "值班长",
    Role.QA: "质检员",
    Role.ADMIN: "管理员",
    Role.DEPARTMENT_HANDLER: "承办单位经办人",
    Role.DEPARTMENT_REVIEWER: "承办单位审核人",
    Role.VERIFIER: "回访员",
}
# (path, label) of each console page, in header order.
CONSOLE_PAGES: tuple[tuple[str, str], ...] = (
    ("/desk", "话务员工作台"),
    ("/wallboard", "值班长看板"),
    ("/qa", "质检"),
    ("/tickets", "工单管理"),
    ("/verification", "回访工作台"),
    ("/analytics", "数据分析"),
    ("/department", "承办单位工作台"),
)


def home_for(role: Role) -> str:
    """The console a role lands on after signing in."""
    return ROLE_HOME[role]


def landing(role: Role, next_path: str | None, leaving: str = SIGN_IN_PAGE) -> str:
    """Where a signed-in user goes now: ``next_path`` when it is a safe path on this
    site, else their role's console.  Neither the sign-in page nor ``leaving`` (the
    page just used: going back there would go nowhere) is a landing."""
    target = safe_next(next_path)
    if not target or target.partition("?")[0] in (SIGN_IN_PAGE, leaving):
        return home_for(role)
    return target


@dataclass(frozen=True)
class ConsoleLink:
    """A console in the header: ``current`` when the page shown belongs to it."""

    href: str
    label: str
    current: bool


@dataclass(frozen=True)
class _Console:
    path: str
    label: str
    roles: frozenset[Role]


class Navigation:
    """The header's console links, each for the roles its page route admits."""

    def __init__(self, routes: Iterable[RouteInfo], pages: Iterable[tuple[str, str]]) -> None:
        admits = {route.path: route.roles for route in routes if "GET" in route.methods}
        self.consoles = tuple(
            _Console(path, label, admits.get(path) or frozenset()) for path, label in pages
        )

    def links(self, principal: Principal | None, path: str) -> list[ConsoleLink]:
        """The consoles ``principal`` may open (none for nobody, or for a session
        held at the password page), the one ``path`` belongs to marked current."""
        if principal is None or principal.held_for_password_change:
            return []
        return [
            ConsoleLink(
                console.path,
                console.label,
                path == console.path or path.startswith(console.path + "/"),
            )
            for console in self.consoles
            if principal.role in console.roles
        ]


def console_links(request: Request) -> list[ConsoleLink]:
    """The header's links for this request (a template global)."""
    navigation: Navigation = request.app.state.navigation
    principal: Principal | None = getattr(request.state, "principal", None)
    return navigation.links(principal, request.url.path)


async def see_other(request: Request, exc: Exception) -> Response:
    """:class:`SeeOther` as a bare 303 (no JSON body for a browser to show)."""
    assert isinstance(exc, SeeOther)
    return RedirectResponse(exc.location, status.HTTP_303_SEE_OTHER)


async def page_forbidden(request: Request, exc: Exception) -> HTMLResponse:
    """:class:`PageForbidden` as the 无权访问 page (403)."""
    assert isinstance(exc, PageForbidden)
    return request.app.state.templates.TemplateResponse(
        request,
        "forbidden.html",
        {
            "principal": exc.principal,
            "consoles": console_links(request),
            "home": home_for(exc.principal.role),
        },
        status_code=status.HTTP_403_FORBIDDEN,
    )
