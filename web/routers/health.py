"""Health (``/healthz``: every part of the node) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from web.context import WebContext
from web.roles import Role, public, require_roles

router = APIRouter(tags=["health"])


def _context(request: Request) -> WebContext:
    return request.app.state.context


@router.get("/healthz", dependencies=[Depends(public())])
def healthz(request: Request, response: Response) -> dict[str, Any]:
    """Every process of the node: the hub (this one), each media worker as it last
    reported, the ticket store.  503 when a part is down."""
    context = _context(request)
    hub = context.hub
    workers: dict[str, str] = {}
    if hub is not None:
        workers = {w: str(s.get("state", "")) for w, s in hub.workers.items()}
    parts = {"hub": "up", **{f"worker-{w}": s for w, s in workers.items()}}
    parts["tickets"] = "up" if context.tickets is not None else "down"
    healthy = all(state == "up" for state in parts.values())
    if not healthy:
        response.status_code = 503
    return {"status": "ok" if healthy else "degraded", "parts": parts, "ts": time.time()}


@router.get("/metrics", dependencies=[Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))])
def metrics(request: Request) -> Response:
    """Prometheus text: calls in progress per worker, waiting calls, agents by state."""
    context = _context(request)
    registry = CollectorRegistry()
    in_progress = Gauge(
        "hotline_calls_in_progress", "Calls on each media worker", ["worker"], registry=registry
    )
    waiting = Gauge("hotline_calls_waiting", "Calls waiting for an agent", registry=registry)
    agents = Gauge("hotline_agents", "Agents by state", ["status"], registry=registry)
    hub = context.hub
    if hub is not None:
        for worker, status in hub.workers.items():
            in_progress.labels(worker).set(len(status.get("calls", [])))
        if hub.seating is not None:
            waiting.set(len(hub.seating.waiting))
            counts: dict[str, int] = {}
            for state in hub.seating.acd.agents():
                counts[state.status.value] = counts.get(state.status.value, 0) + 1
            for status_name, count in counts.items():
                agents.labels(status_name).set(count)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
