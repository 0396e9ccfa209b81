"""The consoles' HTTP server, run inside the hub's event loop (uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("hub")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the hub owns SIGTERM/SIGINT and stops the server itself


async def serve(app: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` on ``host:port`` until ``stop`` is set."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    log.info("consoles up", extra={"fields": {"url": f"http://{host}:{port}/"}})
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopped.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
