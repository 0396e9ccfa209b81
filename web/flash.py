"""One-time notices across a redirect (flash): "密码已修改" on the console the
browser is sent to after changing its password.

The redirect sets a short-lived cookie naming a notice from :data:`NOTICES`
(never the text itself, so a forged cookie can show nothing but these);
:func:`carry_notice` (an HTTP middleware) reads it into ``request.state.notice``
for ``base.html`` to show, and clears it once an HTML page has been answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response

FLASH_COOKIE = "hotline_flash"
PASSWORD_CHANGED = "password_changed"
NOTICES = {
    PASSWORD_CHANGED: "密码已修改。今后请使用新密码登录；您在其他设备上的登录已退出。",
}
_LIFETIME_S = 120  # long enough for the redirect, short enough not to linger


def flash(response: Response, notice: str, *, secure: bool = False) -> Response:
    """Show ``notice`` (a key of :data:`NOTICES`) on the next page this browser opens."""
    if notice not in NOTICES:
        raise ValueError(f"unknown notice {notice!r}; add it to web.flash.NOTICES")
    response.set_cookie(
        FLASH_COOKIE,
        notice,
        max_age=_LIFETIME_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


async def carry_notice(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Put the flash cookie's notice on ``request.state.notice`` ("" without one);
    an HTML page answered 200 has shown it, so the cookie is cleared there."""
    key = request.cookies.get(FLASH_COOKIE, "")
    request.state.notice = NOTICES.get(key, "")
    response = await call_next(request)
    page = response.headers.get("content-type", "").startswith("text/html")
    if key and page and response.status_code == 200:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="strict")
    return response
