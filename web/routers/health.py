"""Health (``/healthz``: every part of the node) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, Field

from web.deps import ContextDep
from web.node_status import node_parts, read_node_status, system_load
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


@router.get(
    "/healthz",
    dependencies=[Depends(public())],
    response_model=Health,
    responses={503: {"model": Health, "description": "Some part of the node is down."}},
)
def healthz(context: ContextDep, response: Response) -> dict[str, Any]:
    """Every process of the node: the hub (this one), each media worker as it last
    reported, the ticket store.  503 when a part is down."""
    console = context.console
    workers: dict[str, str] = {}
    if console is not None:
        workers = {w: str(s.get("state", "")) for w, s in console.workers().items()}
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
def metrics(context: ContextDep) -> Response:
    """Prometheus text: calls in progress per worker, calls waiting, service level per
    seat group, agents by state, ASR streams and decoding latency, audio frames the
    ASR service could not take, and restarts of every part of the node."""
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
    refused = gauge(
        "hotline_calls_refused",
        "New calls the SIP front refused with 503 since it started, by why (rate: above "
        "the setup rate; load: outside the share admitted while saturated; hub_slow: the "
        "hub answered too late; full: no worker free)",
        ("reason",),
    )
    admitted = gauge(
        "hotline_admission_share", "Share of new calls admitted now (1: all; below: 系统繁忙)"
    )
    hub_latency = gauge(
        "hotline_hub_answer_latency_seconds", "The hub's answer latency, p90 of the last seconds"
    )
    console = context.console
    if console is not None:
        for worker, status in console.workers().items():
            in_progress.labels(worker).set(len(status.get("calls", [])))
            dropped.labels(worker).set(int(status.get("asr_frames_dropped", 0)))
        for name, status in console.asr_services().items():
            streams.labels(name).set(int(status.get("streams", 0)))
            capacity.labels(name).set(int(status.get("capacity", 0)))
        values = sorted(console.asr_latencies())
        for q in (0.5, 0.95, 0.99):
            if values:
                latency.labels(str(q)).set(values[min(len(values) - 1, int(q * len(values)))])
        for status_name, count in console.agent_counts().items():
            agents.labels(status_name).set(count)
        for group, levels in console.queue_levels().items():
            waiting.labels(group).set(levels["waiting"])
            for period, level in levels["service_level"].items():
                if level is not None:
                    service.labels(group, period).set(level)
    node = read_node_status(context.settings)
    for part in node_parts(node):
        restarts.labels(str(part.get("name"))).set(int(part.get("restarts", 0)))
    load = system_load(node)
    for reason, count in load["refused"].items():
        refused.labels(reason).set(count)
    admitted.set(load["admit_pct"] / 100)
    if isinstance(load["hub_p90_s"], int | float):
        hub_latency.set(load["hub_p90_s"])
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
