"""Signing in for web tests: SQLite accounts with one user per role, the app with a
test router (a state-changing route and a page), a settable clock, and the
``clock``, ``accounts`` and ``client`` fixtures (import them by name to use them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from sip_config import Settings
from sip_config.settings import WebSection
from web import audit
from web.accounts import Accounts
from web.app import create_app
from web.context import WebContext
from web.csrf import require_csrf
from web.roles import ALL_ROLES, DEPARTMENT_ROLES, Role, require_roles

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
WEB = WebSection(session_hours=8, login_attempts=3, lockout_minutes=15)
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
USERS = {
    Role.AGENT: ("zhang", "agent-pass-1"),
    Role.SUPERVISOR: ("zhao", "super-pass-1"),
    Role.QA: ("li", "qa-pass-1"),
    Role.ADMIN: ("root", "admin-pass-1"),
    Role.DEPARTMENT_HANDLER: ("chen", "handler-pass-1"),
    Role.DEPARTMENT_REVIEWER: ("lin", "reviewer-pass-1"),
    Role.VERIFIER: ("wu", "verifier-pass-1"),
}
HOMES = {
    Role.AGENT: "/desk",
    Role.SUPERVISOR: "/wallboard",
    Role.QA: "/qa",
    Role.ADMIN: "/wallboard",
    Role.DEPARTMENT_HANDLER: "/department",
    Role.DEPARTMENT_REVIEWER: "/department",
    Role.VERIFIER: "/verification",
}
DEPARTMENT = "district.tianhe"  # the department users of department roles work for


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _test_router() -> APIRouter:
    """A state-changing route and a page, as other routers will write them."""
    router = APIRouter()

    @router.post(
        "/api/test/notes",
        dependencies=[Depends(require_roles(*ALL_ROLES)), Depends(require_csrf)],
    )
    async def add_note(request: Request) -> dict[str, Any]:
        entry = await audit.record(request, "note.add", "c-42", {"words": 3})
        return {"ok": True, "by": entry.username}

    @router.get(
        "/test/page",
        response_class=HTMLResponse,
        dependencies=[Depends(require_roles(*ALL_ROLES))],
    )
    def page(request: Request) -> HTMLResponse:
        return request.app.state.templates.TemplateResponse(request, "base.html", {})

    return router


def make_app(accounts: Any) -> FastAPI:
    app = create_app(WebContext(Settings(), accounts=accounts))
    app.include_router(_test_router())
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_accounts_at(
    tmp_path: Path, clock: Clock, web: WebSection = WEB, **options: Any
) -> Accounts:
    accounts = Accounts(
        f"sqlite:///{tmp_path / 'hotline.db'}", web, clock=clock, hasher=FAST, **options
    )
    for role, (name, password) in USERS.items():
        agent_id = "1001" if role is Role.AGENT else ""
        department = DEPARTMENT if role in DEPARTMENT_ROLES else ""
        accounts.add_user(name, role, password, agent_id=agent_id, department=department)
    return accounts


@pytest.fixture
def accounts(tmp_path: Path, clock: Clock) -> Iterator[Accounts]:
    with open_accounts_at(tmp_path, clock) as opened:
        yield opened


@pytest.fixture
def client(accounts: Accounts) -> TestClient:
    return TestClient(make_app(accounts))


def login(client: TestClient, username: str, password: str, next_path: str | None = None) -> Any:
    form = {"username": username, "password": password}
    if next_path is not None:
        form["next"] = next_path
    return client.post("/login", data=form, follow_redirects=False)


def sign_in_url(next_path: str) -> str:
    """Where a page sends nobody: the sign-in page, ``next`` the page."""
    return "/login?" + urlencode({"next": next_path})


def signed_in(client: TestClient, role: Role = Role.AGENT) -> str:
    """Log in as ``role``; the session's CSRF token."""
    assert login(client, *USERS[role]).status_code == 303
    return client.get("/api/me").json()["csrf_token"]
