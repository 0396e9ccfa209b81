"""Role tests for the web app, for every router's tests to reuse.

:func:`assert_role_matrix` requests each route without credentials and as each
role, and checks: 401 without login (unless the route is public; a page — a GET
answering HTML — sends the browser to ``/login?next=…`` instead), 403 for the
roles refused, neither 401 nor 403 for the roles allowed (what the route then
answers — 200, 404, 422 — is the route's own business)::

    from tests.support.web_roles import PUBLIC, assert_role_matrix, route_roles

    def test_desk_roles() -> None:
        app = create_app(WebContext(Settings()))
        assert_role_matrix(app, {
            ("GET", "/desk"): {Role.AGENT},
            ("POST", "/api/desk/ready"): {Role.AGENT},
            ("GET", "/api/calls/c-1"): {Role.AGENT, Role.QA, Role.SUPERVISOR, Role.ADMIN},
        })
        # and that no route of the router was forgotten:
        assert route_roles(app, prefix="/api/desk") == {("POST", "/api/desk/ready"): {Role.AGENT}}

Principals are injected, not logged in: while the matrix runs, the app's
``context.accounts`` is a :class:`FakeAccounts` that reads
``Authorization: Bearer role:<role>`` (``via`` "token", so no CSRF token is
needed) and keeps an in-memory audit log.  A test can use :class:`FakeAccounts`
itself for a whole app: ``WebContext(settings, accounts=FakeAccounts())`` with
:func:`as_role`'s headers on each request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from web.audit import MemoryAuditLog
from web.csrf import SAFE_METHODS, require_csrf
from web.roles import ALL_ROLES, DEPARTMENT_ROLES, Principal, Role, declared_roles

PUBLIC: frozenset[Role] = frozenset()  # matrix value: open to anyone, signed in or not
_IDS = {
    Role.AGENT: 901,
    Role.SUPERVISOR: 902,
    Role.QA: 903,
    Role.ADMIN: 904,
    Role.DEPARTMENT_HANDLER: 905,
    Role.DEPARTMENT_REVIEWER: 906,
    Role.VERIFIER: 907,
}
DEPARTMENT = "district.tianhe"  # the department test principals of department roles work for


def principal_for_role(role: Role, agent_id: str = "1001") -> Principal:
    """A test principal of ``role`` (agents answer as ``agent_id``; department roles
    work for :data:`DEPARTMENT`), via "token"."""
    return Principal(
        _IDS[role],
        f"test-{role.value}",
        role,
        agent_id if role is Role.AGENT else "",
        "token",
        department=DEPARTMENT if role in DEPARTMENT_ROLES else "",
    )


def as_role(role: Role) -> dict[str, str]:
    """Headers that make :class:`FakeAccounts` see a principal of ``role``."""
    return {"Authorization": f"Bearer role:{role.value}"}


class FakeAccounts:
    """Accounts for tests: ``Bearer role:<role>`` is that role's principal (or the one
    given in ``principals``); anything else is nobody.  ``audit`` keeps entries in
    a list (``audit.recorded``)."""

    def __init__(self, principals: Mapping[Role, Principal] | None = None) -> None:
        self.principals = {role: principal_for_role(role) for role in Role}
        self.principals.update(principals or {})
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Request) -> Principal | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.startswith("role:"):
            return None
        try:
            return self.principals[Role(credentials.removeprefix("role:"))]
        except ValueError:
            return None


@contextmanager
def fake_accounts(
    app: FastAPI, principals: Mapping[Role, Principal] | None = None
) -> Iterator[FakeAccounts]:
    """``app``'s accounts replaced by a :class:`FakeAccounts` for the block."""
    context = app.state.context
    saved = context.accounts
    context.accounts = FakeAccounts(principals)
    try:
        yield context.accounts
    finally:
        context.accounts = saved


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of ``app``, those of included routers too (FastAPI ≥ 0.16x keeps
    included routers as one entry each in ``app.routes``; this walks into them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        return [route for route in app.routes if isinstance(route, APIRoute)]
    return [c.route for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)]


def _dependencies(route: APIRoute) -> list[Any]:
    found = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is not None:
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def route_roles(app: FastAPI, prefix: str = "") -> dict[tuple[str, str], frozenset[Role] | None]:
    """Each route's (method, path template) → the roles it declares (:data:`PUBLIC`
    for public routes, None when it declares nothing), for paths under ``prefix``."""
    found: dict[tuple[str, str], frozenset[Role] | None] = {}
    for route in api_routes(app):
        if route.path.startswith(prefix):
            roles = declared_roles(_dependencies(route))
            for method in route.methods - {"HEAD"}:
                found[(method, route.path)] = roles
    return found


def routes_without_csrf(app: FastAPI, prefix: str = "") -> list[str]:
    """State-changing routes that admit signed-in users but do not declare
    ``web.csrf.require_csrf`` (public routes such as ``POST /login`` are exempt)."""
    missing = []
    for route in api_routes(app):
        if not route.path.startswith(prefix):
            continue
        calls = _dependencies(route)
        roles = declared_roles(calls)
        unsafe = route.methods - SAFE_METHODS
        if unsafe and roles and require_csrf not in calls:
            missing.append(f"{sorted(unsafe)} {route.path}")
    return missing


def _status(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> int:
    return _answer(client, method, url, body, headers).status_code


def _answer(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, url, json=body, headers=headers, follow_redirects=False)


def _signs_in_first(response: Any, url: str) -> bool:
    """A page's answer to nobody: 303 to the sign-in page, ``next`` the page."""
    from urllib.parse import urlencode

    location = response.headers.get("location", "")
    return response.status_code == 303 and location == f"/login?{urlencode({'next': url})}"


def assert_role_matrix(
    app: FastAPI,
    matrix: Mapping[tuple[str, str], Iterable[Role]],
    *,
    bodies: Mapping[tuple[str, str], Any] | None = None,
    principals: Mapping[Role, Principal] | None = None,
) -> None:
    """For each (method, URL) → allowed roles (:data:`PUBLIC` for open routes):
    401 without credentials unless public (a page: 303 to ``/login?next=<url>``),
    403 for every other role, neither 401 nor 403 for the allowed ones.
    ``bodies`` gives JSON bodies per key."""
    problems: list[str] = []
    with fake_accounts(app, principals), TestClient(app, raise_server_exceptions=False) as client:
        for (method, url), allowed_roles in matrix.items():
            allowed = frozenset(allowed_roles)
            body = (bodies or {}).get((method, url))

            answer = _answer(client, method, url, body, {})
            anonymous = answer.status_code
            if allowed == PUBLIC:
                if anonymous in (401, 403):
                    problems.append(f"{method} {url} is public but answered {anonymous}")
                allowed = ALL_ROLES
            elif anonymous != 401 and not _signs_in_first(answer, url):
                problems.append(f"{method} {url} without login: {anonymous}, not 401")
            for role in Role:
                got = _status(client, method, url, body, as_role(role))
                if role in allowed and got in (401, 403):
                    problems.append(f"{method} {url} as {role}: {got}, should be allowed")
                elif role not in allowed and got != 403:
                    problems.append(f"{method} {url} as {role}: {got}, not 403")
    assert not problems, "\n".join(problems)
