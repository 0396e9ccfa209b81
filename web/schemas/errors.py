"""The JSON API's error bodies: one shape per kind of refusal, declared once.

- Every refusal but 422 answers :class:`Problem` — ``{"detail": "…"}``, the
  reason in words (Simplified Chinese where users read it).  A 409 on a
  ticket adds the ticket's state and the actions allowed now
  (``TransitionRefused``, a :class:`Problem` with more fields).
- 422 keeps FastAPI's shape (``HTTPValidationError``: ``{"detail": [{"loc",
  "msg", "type", …}]}``), also for the checks a route makes by hand
  (:func:`invalid`), so a client reads every 422 the same way.

Routes list what they can answer with :func:`refusals` (``responses=`` of the
route decorator); FastAPI adds the 422 of a route with parameters itself.

:func:`refusal` answers every ``HTTPException`` the app does not answer otherwise
(the pages' redirects and 403 page are ``web.navigation``'s): FastAPI's
``{"detail": …}``, with a 405's ``Allow`` naming every method of the path (Starlette
names only those of the first route that matched it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from web.roles import route_table

# What each status means on this API, for the routes' ``responses``.
MEANINGS: dict[int, str] = {
    400: "The request cannot be read.",
    401: "Not signed in: no session cookie or API token, or an invalid one.",
    403: "The role may not do this, the session's CSRF token is missing or wrong, "
    "or the session must change its password first.",
    404: "There is no such thing (or not one the caller may see).",
    409: "Not possible in the current state; `detail` says why.",
    413: "The upload is larger than this node takes; `detail` says the limit.",
    415: "The upload is not a type this node takes; `detail` names those it does.",
    503: "The part of the node this needs is not running on it.",
}


class Problem(BaseModel):
    """Why the request was refused, in words."""

    detail: str = Field(examples=["请先登录 (sign in first)"])


def refusals(*codes: int, json: bool = False, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries with the :class:`Problem` body for ``codes``; a
    ``described`` ``_404="…"`` replaces the general meaning of that code.  ``json``
    for a route whose own answers are not JSON (FastAPI would give the Problem
    body the route's media type)."""
    entries: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        text = described.get(f"_{code}", MEANINGS[code])
        if json:
            body = {"schema": {"$ref": "#/components/schemas/Problem"}}
            entries[code] = {"description": text, "content": {"application/json": body}}
        else:
            entries[code] = {"model": Problem, "description": text}
    return entries


def invalid(location: Sequence[str | int], message: str, value: Any = None) -> Exception:
    """A 422 for a check a route makes by hand, in FastAPI's shape (``loc`` as
    FastAPI writes it, e.g. ``("body", "scores")``, and ``msg`` for people)."""
    return RequestValidationError(
        [{"type": "value_error", "loc": tuple(location), "msg": message, "input": value}]
    )


async def refusal(request: Request, exc: Exception) -> Response:
    """An ``HTTPException`` as :class:`Problem` (FastAPI's handler), ``Allow`` complete."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        headers = {**(exc.headers or {}), "Allow": ", ".join(allowed_methods(request))}
        exc = HTTPException(405, exc.detail, headers)
    return await http_exception_handler(request, exc)


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's routes answer at the request's path, sorted."""
    app = request.app
    known = getattr(app.state, "route_patterns", None)
    if known is None or known[0] != len(app.routes):  # routes added since: read again
        patterns = [
            (compile_path(route.path)[0], route.methods)
            for route in route_table(app)
            if "WS" not in route.methods
        ]
        known = app.state.route_patterns = (len(app.routes), patterns)
    path = request.url.path
    return sorted({m for pattern, methods in known[1] if pattern.match(path) for m in methods})
