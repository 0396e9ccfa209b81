"""Who is asking: resolves the session cookie or API token of a request to a
:class:`~web.roles.Principal` through ``context.accounts``
(:meth:`web.accounts.Accounts.principal_for`, or any object with that method,
e.g. a fake in tests).  No accounts configured means nobody is signed in."""

from __future__ import annotations

from fastapi import Request

from web.context import WebContext
from web.roles import Principal


async def authenticate(context: WebContext, request: Request) -> Principal | None:
    """The principal of ``request``, or None when it carries no valid credentials."""
    accounts = context.accounts
    if accounts is None:
        return None
    return await accounts.principal_for(request)
