"""Health (``/healthz``: every part of the node) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, Field

from web.context import WebContext
from web.roles import Role, public, require_roles
from web.schemas.errors import refusals

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The node's parts and how each is."""

    status: Literal["ok", "degraded"] = Field(description="degraded: some part is not up.")
    parts: dict[str, str] = Field(
        description="hub, tickets, worker-<id>: up, or the state the part last reported."
    )
    ts: float = Field(description="When, as Unix time.")


def _context(request: Request) -> WebContext:
    return request.app.state.context


@router.get(
    "/healthz",
    dependencies=[Depends(public())],
    response_model=Health,
    responses={503: {"model": Health, "description": "Some part of the node is down."}},
)
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


@router.get(
    "/metrics",
    dependencies=[Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))],
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "The Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        303: {"description": "A session that must change its password first: to that page."},
        **refusals(401, 403, json=True),  # JSON, though the page itself is text
    },
)
def metrics(request: Request) -> Response:
    """Prometheus text: calls in progress per worker, calls waiting, service level per
    seat group, agents by state, ASR streams and decoding latency, audio frames the
    ASR service could not take, and restarts of every part of the node."""
    context = _context(request)
    registry = CollectorRegistry()

    def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, text, list(labels), registry=registry)

    in_progress = gauge("hotline_calls_in_progress", "Calls on each media worker", ("worker",))
    waiting = gauge("hotline_calls_waiting", "Calls waiting for an agent", ("group",))
    service = gauge(
        "hotline_service_level", "Share answered within 15 s today", ("group", "period")
    )
    agents = gauge("hotline_agents", "Agents by state", ("status",))
    streams = gauge("hotline_asr_streams", "Streams the ASR service decodes now", ("service",))
    capacity = gauge("hotline_asr_capacity", "Streams the ASR service accepts", ("service",))
    latency = gauge(
        "hotline_asr_final_latency_seconds",
        "End of speech to transcript, over the last 500 utterances",
        ("quantile",),
    )
    dropped = gauge(
        "hotline_asr_frames_dropped", "Audio frames the ASR service could not take", ("worker",)
    )
    restarts = gauge("hotline_part_restarts", "Restarts of each part of the node", ("part",))
    hub = context.hub
    if hub is not None:
        for worker, status in hub.workers.items():
            in_progress.labels(worker).set(len(status.get("calls", [])))
            dropped.labels(worker).set(int(status.get("asr_frames_dropped", 0)))
        for topic, status in hub.asr.items():
            name = topic.split("/")[-2]
            streams.labels(name).set(int(status.get("streams", 0)))
            capacity.labels(name).set(int(status.get("capacity", 0)))
        values = sorted(hub.asr_latencies)
        for q in (0.5, 0.95, 0.99):
            if values:
                latency.labels(str(q)).set(values[min(len(values) - 1, int(q * len(values)))])
        seating = hub.seating
        if seating is not None:
            counts: dict[str, int] = {}
            for state in seating.acd.agents():
                counts[state.status.value] = counts.get(state.status.value, 0) + 1
            for status_name, count in counts.items():
                agents.labels(status_name).set(count)
            wall = seating.wall_clock()
            periods = {
                "today": wall.replace(hour=0, minute=0, second=0, microsecond=0),
                "30m": wall - timedelta(minutes=30),
            }
            for group in seating.acd.groups():
                waiting.labels(group.id).set(
                    sum(1 for w in seating.waiting.values() if w.group == group.id)
                )
                for period, since in periods.items():
                    level = seating.log.summary(group.id, since).service_level
                    if level is not None:
                        service.labels(group.id, period).set(level)
    for part in _node_parts(context):
        restarts.labels(str(part.get("name"))).set(int(part.get("restarts", 0)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _node_parts(context: WebContext) -> list[dict[str, Any]]:
    """The supervisor's view of the node's parts (run/node.json), if it is there."""
    try:
        node = json.loads((context.settings.run_dir / "node.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    parts = node.get("parts", [])
    return parts if isinstance(parts, list) else []
