"""The web app: one router per resource, the context passed in (never built at
import time), the caller identified once per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from web.auth import authenticate
from web.context import WebContext
from web.routers import health


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

    @app.middleware("http")
    async def identify(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        request.state.principal = await authenticate(context, request)
        return await call_next(request)

    app.include_router(health.router)
    return app
