"""Signing in and out: ``/`` (the sign-in page, or one's console when signed in),
the login page, ``POST /login`` (sets the session cookie and sends the browser on
to ``next`` — the page it first asked for — or its role's console, by way of the
password page while the password must be changed), ``POST /logout`` and
``GET /api/me``."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from web.accounts import SESSION_COOKIE, Accounts, LoginOutcome
from web.audit import client_ip
from web.context import WebContext
from web.csrf import csrf_token, require_csrf
from web.navigation import ROLE_LABELS, home_for, landing
from web.redirects import safe_next, with_next
from web.roles import ALL_ROLES, PASSWORD_PAGE, Principal, Role, public, require_roles
from web.schemas.errors import refusals

router = APIRouter(tags=["auth"])

MAX_PASSWORD = 1024  # longer is refused unchecked (Argon2 of megabytes costs CPU)

SignedIn = Annotated[Principal, Depends(require_roles(*ALL_ROLES))]
# Logging out is allowed to a session still held at the password page.
SignedInAnyway = Annotated[
    Principal, Depends(require_roles(*ALL_ROLES, before_password_change=True))
]
# Where to go after signing in: a path on this site (anything else is ignored).
NextQuery = Annotated[str, Query(alias="next")]
NextField = Annotated[str, Form(alias="next")]


class Me(BaseModel):
    """The signed-in user, as the consoles' scripts see it."""

    user_id: int
    username: str
    display_name: str
    role: Role
    role_label: str
    agent_id: str
    via: str  # "session" (cookie) or "token" (Authorization: Bearer)
    csrf_token: str | None  # send back as X-CSRF-Token; None for API tokens
    home: str


def _accounts(request: Request) -> Accounts | None:
    context: WebContext = request.app.state.context
    return context.accounts


def _templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def _minutes_until(until: datetime | None, now: datetime) -> int:
    if until is None:
        return 1
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _page(request: Request, status_code: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("error", "")
    values.setdefault("username", "")
    values["next"] = safe_next(values.get("next"))
    return _templates(request).TemplateResponse(
        request, "login.html", values, status_code=status_code
    )


def _onward(role: Role, must_change_password: bool, next_path: str) -> str:
    """Where a browser just signed in goes: ``next_path`` or the role's console, by
    way of the password page while the password must be changed."""
    if must_change_password:
        return with_next(PASSWORD_PAGE, next_path)
    return landing(role, next_path)


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public())])
def front_page(request: Request, next_path: NextQuery = "") -> Response:
    """The node's address: the sign-in page, or (signed in) one's console."""
    return login_page(request, next_path)


@router.get("/login", response_class=HTMLResponse, dependencies=[Depends(public())])
def login_page(request: Request, next_path: NextQuery = "") -> Response:
    """The login page (登录); ``next`` is the page to go on to (a path on this
    site).  Someone already signed in goes there, or to their console (by way of
    the password page while they must change their password)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None and principal.via == "session":
        where = _onward(principal.role, principal.must_change_password, next_path)
        return RedirectResponse(where, status.HTTP_303_SEE_OTHER)
    return _page(request, next=next_path)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(public())])
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: NextField = "",
) -> Response:
    """Check the password; on success set the ``hotline_session`` cookie (HttpOnly,
    SameSite=Strict, Secure with ``web.secure_cookies``) and redirect (303) to
    ``next`` when it is a path on this site, else to the role's console; by way
    of the password page (``next`` kept) when the password must be changed first
    (a one-time password).  Refusals re-show the page (``next`` kept): 400 (a
    field empty), 401 (wrong or locked), 403 (disabled), 429 (too many failures
    from this address), 503 (no accounts)."""
    accounts = _accounts(request)
    if accounts is None:
        return _page(
            request, 503, error="账户服务未启用，暂时无法登录。", username=username, next=next_path
        )
    if not username or not password or len(password) > MAX_PASSWORD:
        return _page(request, 400, error="请输入用户名和密码。", username=username, next=next_path)
    result = await asyncio.to_thread(accounts.login, username, password, client_ip(request))
    web = accounts.web
    minutes = _minutes_until(result.until, accounts.clock())
    match result.outcome:
        case LoginOutcome.OK:
            assert result.user is not None
            user = result.user
            where = _onward(user.role, user.must_change_password, next_path)
            response = RedirectResponse(where, status.HTTP_303_SEE_OTHER)
            response.set_cookie(
                SESSION_COOKIE,
                result.session_token,
                max_age=int(accounts.session_lifetime.total_seconds()),
                path="/",
                httponly=True,
                samesite="strict",
                secure=web.secure_cookies,
            )
            return response
        case LoginOutcome.LOCKED:
            error = f"登录失败次数过多，账户已暂时锁定，请 {minutes} 分钟后再试。"
            return _page(request, 401, error=error, username=username, next=next_path)
        case LoginOutcome.DISABLED:
            error = "该账户已停用，请联系管理员。"
            return _page(request, 403, error=error, username=username, next=next_path)
        case LoginOutcome.THROTTLED:
            error = f"本机登录尝试过于频繁，请 {minutes} 分钟后再试。"
            page = _page(request, 429, error=error, next=next_path)
            page.headers["Retry-After"] = str(minutes * 60)
            return page
        case _:
            error = (
                f"用户名或密码错误。连续输错 {web.login_attempts} 次，"
                f"账户将被锁定 {web.lockout_minutes:g} 分钟。"
            )
            return _page(request, 401, error=error, username=username, next=next_path)


@router.post("/logout", dependencies=[Depends(require_csrf)])
async def logout(request: Request, principal: SignedInAnyway) -> Response:
    """End this session (audited) and clear the cookie; 303 to the login page."""
    accounts = _accounts(request)
    token = str(getattr(request.state, "session_token", "") or "")
    if accounts is not None and principal.via == "session" and token:
        await asyncio.to_thread(accounts.logout, token, client_ip(request))
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    secure = accounts.web.secure_cookies if accounts is not None else False
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure
    )
    return response


@router.get("/api/me", responses=refusals(401, 403, 503, _503="Accounts are not configured."))
async def me(request: Request, principal: SignedIn) -> Me:
    """Who is signed in, and the CSRF token a page's scripts send back."""
    accounts = _accounts(request)
    if accounts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "accounts are not configured")
    display_name = principal.username
    get_user = getattr(accounts, "get_user", None)
    if get_user is not None:
        display_name = (await asyncio.to_thread(get_user, principal.username)).display_name
    return Me(
        user_id=principal.user_id,
        username=principal.username,
        display_name=display_name,
        role=principal.role,
        role_label=ROLE_LABELS[principal.role],
        agent_id=principal.agent_id,
        via=principal.via,
        csrf_token=csrf_token(request) if principal.via == "session" else None,
        home=home_for(principal.role),
    )
