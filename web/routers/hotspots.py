"""热点问题 for supervisors: the 数据分析 console (/analytics) and its JSON
(``GET /api/analytics/hotspots``): the hotspots among the tickets of the last
days, hottest first, with their trend, and the bursts among them (the same
method the hub's watch publishes ``hotspot.emerging`` with)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics.bursts import BurstOptions
from web.deps import SupervisorDep, get_context, ticket_store
from web.hotspot_sources import HotspotCache, HotspotView
from web.schemas.errors import refusals

router = APIRouter(tags=["analytics"])

Days = Annotated[int, Query(ge=1, le=366, description="Tickets of the last N days.")]
Top = Annotated[int, Query(ge=1, le=200, description="How many hotspots.")]


def _cache(request: Request) -> HotspotCache:
    context = get_context(request)
    cache = context.extras.get("hotspots")
    if cache is None:
        cache = context.extras["hotspots"] = HotspotCache(context.settings.routing.model)
    return cache


def _bursts(request: Request) -> BurstOptions:
    settings = get_context(request).settings.analytics
    return BurstOptions(
        window_hours=settings.burst_window_hours,
        min_requests=settings.burst_min_requests,
        alpha=settings.burst_alpha,
    )


async def _view(request: Request, days: int) -> HotspotView:
    store = ticket_store(get_context(request))
    now = datetime.now(UTC)
    return await asyncio.to_thread(_cache(request).view, store, now, days, _bursts(request))


def view_json(view: HotspotView, top: int) -> dict[str, Any]:
    return {
        "now": view.now.isoformat(),
        "days": view.days,
        "tickets": view.tickets,
        "hotspots": [h.as_json() for h in view.hotspots[:top]],
        "emerging": [e.as_json() for e in view.emerging],
    }


@router.get(
    "/api/analytics/hotspots",
    responses=refusals(401, 403, 503, _503="No ticket store on this node."),
)
async def hotspots_json(
    request: Request, principal: SupervisorDep, days: Days = 30, top: Top = 20
) -> dict[str, Any]:
    """The hotspots among the tickets of the last ``days`` days (hottest first), as
    ``hotline hotspots list --json`` prints them, and the bursts among them."""
    return view_json(await _view(request, days), top)


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(
    request: Request, principal: SupervisorDep, days: Days = 30
) -> HTMLResponse:
    """数据分析: the hotspots with their trends, and the bursts on top."""
    context = get_context(request)
    view = None if context.tickets is None else await _view(request, days)
    return request.app.state.templates.TemplateResponse(
        request,
        "analytics.html",
        {
            "principal": principal,
            "days": days,
            "window_hours": context.settings.analytics.burst_window_hours,
            "view": view,
            "data": view_json(view, 20) if view is not None else None,
            "unavailable": "" if view is not None else "工单库不可用（本节点未配置工单库）",
        },
    )
