"""CSRF protection for requests signed in with the session cookie.

Each session has a random CSRF token (``request.state.csrf_token``, set by
``web.accounts`` when it reads the cookie; ``GET /api/me`` returns it too).
Pages embed it — ``{{ csrf_input(request) }}`` in a form, or
``<meta name="csrf-token">`` for scripts — and every state-changing request
must send it back, as the form field ``csrf_token`` or the header
``X-CSRF-Token``.  Requests authenticated by an API token (``Authorization:
Bearer``) need none: a browser never adds that header by itself.

Declare it on each state-changing route, beside the roles::

    @router.post(
        "/api/things",
        dependencies=[Depends(require_roles(Role.AGENT)), Depends(require_csrf)],
    )

Without a principal it does nothing (the roles dependency answers 401);
a session request without the right token gets 403.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status
from markupsafe import Markup, escape

from web.roles import Principal

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session ("" without a session)."""
    return str(getattr(request.state, "csrf_token", "") or "")


def csrf_input(request: Request) -> Markup:
    """A hidden form field carrying the session's CSRF token (for templates)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, escape(csrf_token(request))
    )


async def require_csrf(request: Request) -> None:
    """403 unless a session request that changes state carries its CSRF token."""
    if request.method in SAFE_METHODS:
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or principal.via != "session":
        return
    expected = csrf_token(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()  # Starlette keeps it for the endpoint
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "CSRF 校验失败，请刷新页面后重试 (missing or wrong CSRF token)",
        )
