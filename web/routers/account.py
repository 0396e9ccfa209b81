"""The signed-in user's own account: ``GET/POST /account/password`` (修改密码).

Open to every role, and to a session that must still change its password (a
one-time password): that is the one page it may reach (``web.roles``).
Changing the password ends the user's other sessions, clears the
must-change flag and is audited; the browser goes on to ``next`` (the page it
first asked for) or its console, where "密码已修改" is shown once (``web.flash``).
"""

from __future__ import annotations

import asyncio
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.accounts import PasswordRefused, WrongPassword
from web.accounts.credentials import MIN_PASSWORD_LENGTH
from web.audit import client_ip
from web.context import WebContext
from web.csrf import require_csrf
from web.flash import PASSWORD_CHANGED, flash
from web.navigation import landing
from web.redirects import safe_next
from web.roles import ALL_ROLES, PASSWORD_PAGE, Principal, require_roles
from web.routers.auth import MAX_PASSWORD

router = APIRouter(tags=["account"])

AnyUser = Annotated[Principal, Depends(require_roles(*ALL_ROLES, before_password_change=True))]


def _page(
    request: Request,
    principal: Principal,
    status_code: int = 200,
    error: str = "",
    next_path: str = "",
) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request,
        "password.html",
        {
            "principal": principal,
            "error": error,
            "min_length": MIN_PASSWORD_LENGTH,
            "must_change": principal.held_for_password_change,
            "next": safe_next(next_path),
        },
        status_code=status_code,
    )


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
def password_page(
    request: Request, principal: AnyUser, next_path: Annotated[str, Query(alias="next")] = ""
) -> HTMLResponse:
    """The form: current password, new password, the new one again; ``next`` is
    the page to go on to afterwards."""
    return _page(request, principal, next_path=next_path)


@router.post(PASSWORD_PAGE, response_class=HTMLResponse, dependencies=[Depends(require_csrf)])
async def change_password(
    request: Request,
    principal: AnyUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Change the signed-in user's password; on success 303 to ``next`` (a path on
    this site) or their console, which shows "密码已修改" once.  A refusal
    re-shows the form with the reason (``next`` kept): 400 (a field empty, the two new
    ones differ, the current one wrong, the new one too weak), 429 (locked after
    too many wrong current passwords), 503 (no accounts)."""
    context: WebContext = request.app.state.context
    accounts = context.accounts
    token = str(getattr(request.state, "session_token", "") or "")

    def refuse(status_code: int, error: str) -> HTMLResponse:
        return _page(request, principal, status_code, error, next_path)

    if accounts is None or not hasattr(accounts, "change_own_password"):
        return refuse(503, "账户服务未启用，暂时无法修改密码。")
    if principal.via != "session" or not token:
        return refuse(400, "API 令牌不能修改密码，请在浏览器登录后修改。")
    fields = (current_password, new_password, confirm_password)
    if not all(fields):
        return refuse(400, "请填写当前密码、新密码和确认新密码。")
    if any(len(field) > MAX_PASSWORD for field in fields):
        return refuse(400, f"密码不能超过 {MAX_PASSWORD} 位。")
    if new_password != confirm_password:
        return refuse(400, "两次输入的新密码不一致，请重新输入。")
    try:
        user = await asyncio.to_thread(
            accounts.change_own_password,
            principal.username,
            current_password,
            new_password,
            keep_session=token,
            ip=client_ip(request),
        )
    except WrongPassword as exc:
        if exc.until is None:
            return refuse(400, "当前密码不正确，请重新输入。")
        seconds = max(60, (exc.until - accounts.clock()).total_seconds())
        minutes = math.ceil(seconds / 60)
        page = refuse(429, f"当前密码输错次数过多，账户已暂时锁定，请 {minutes} 分钟后再试。")
        page.headers["Retry-After"] = str(minutes * 60)
        return page
    except PasswordRefused as exc:
        return refuse(400, f"新密码不符合要求：{exc.reason}。")
    onward = landing(user.role, next_path, leaving=PASSWORD_PAGE)
    done = RedirectResponse(onward, status.HTTP_303_SEE_OTHER)
    return flash(done, PASSWORD_CHANGED, secure=context.settings.web.secure_cookies)
