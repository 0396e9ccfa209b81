"""The web app: one router per resource, the context passed in (never built at
import time), the caller identified once per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from web.auth import authenticate
from web.context import WebContext
from web.csrf import csrf_input, csrf_token
from web.flash import carry_notice
from web.labels import end_reason_label
from web.navigation import (
    CONSOLE_PAGES,
    ROLE_LABELS,
    Navigation,
    console_links,
    page_forbidden,
    see_other,
)
from web.roles import PageForbidden, SeeOther, route_table
from web.routers import (
    account,
    auth,
    department,
    desk,
    dispatch,
    health,
    hotspots,
    qa,
    supervision,
    ticket_files,
    ticket_pages,
    tickets,
    verification,
    verification_pages,
    wallboard,
)
from web.schemas import openapi
from web.schemas.errors import refusal

WEB = Path(__file__).parent


def page_templates() -> Jinja2Templates:
    """The pages' Jinja2 templates (``web/templates``; pages extend ``base.html``),
    with ``csrf_input(request)``, ``csrf_token(request)``, ``role_labels`` and
    ``console_links(request)`` (the header's links, ``web.navigation``)."""
    templates = Jinja2Templates(directory=WEB / "templates")
    templates.env.globals.update(
        csrf_input=csrf_input,
        csrf_token=csrf_token,
        role_labels=ROLE_LABELS,
        console_links=console_links,
        end_reason_label=end_reason_label,
    )
    return templates


def create_app(context: WebContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="12345 hotline node",
        description="Consoles and REST API of a 12345 government service hotline node.",
        version="1",
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.templates = page_templates()
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    # Pages answer a browser: redirects without a JSON body, refusals as a page.
    app.add_exception_handler(SeeOther, see_other)
    app.add_exception_handler(PageForbidden, page_forbidden)
    # The rest as the API's Problem body (a 405's Allow naming every method).
    app.add_exception_handler(HTTPException, refusal)
    app.middleware("http")(carry_notice)

    @app.middleware("http")
    async def identify(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        request.state.principal = await authenticate(context, request)
        return await call_next(request)

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(tickets.router)
    app.include_router(ticket_files.router)
    app.include_router(dispatch.router)
    app.include_router(desk.router)
    app.include_router(wallboard.router)
    app.include_router(supervision.router)
    app.include_router(qa.router)
    app.include_router(ticket_pages.router)
    app.include_router(department.router)
    app.include_router(verification.router)
    app.include_router(verification_pages.router)
    app.include_router(hotspots.router)
    app.state.navigation = Navigation(route_table(app), CONSOLE_PAGES)
    openapi.install(app, context.settings.web.qa_criteria)  # the JSON API only
    return app
