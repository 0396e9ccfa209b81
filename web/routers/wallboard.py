"""The supervisor wallboard (值班长): per seat group the calls waiting, the longest
wait, service level at 15 s today and in the last 30 minutes, abandonment, agents
by state with time in state, staffing advice; and the overflow switches, which take
effect at once and are audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from web import audit
from web.context import WebContext
from web.csrf import require_csrf
from web.roles import Principal, Role, require_roles

if TYPE_CHECKING:
    from ivr.console import Console

router = APIRouter(tags=["wallboard"])

_supervisors = require_roles(Role.SUPERVISOR, Role.ADMIN)
Supervisor = Annotated[Principal, Depends(_supervisors)]
WRITE = [Depends(_supervisors), Depends(require_csrf)]
REFRESH_S = 2


def _console(request: Request) -> Console:
    context: WebContext = request.app.state.context
    if context.console is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "本节点未配置坐席 (no agents)")
    return context.console


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard_page(request: Request, principal: Supervisor) -> HTMLResponse:
    """The wallboard page; it polls ``GET /api/wallboard`` every 2 s."""
    return request.app.state.templates.TemplateResponse(
        request,
        "wallboard.html",
        {"principal": principal, "refresh_s": REFRESH_S},
    )


@router.get("/api/wallboard")
def wallboard(request: Request, principal: Supervisor) -> dict[str, Any]:
    """Every seat group's queue, service level, abandonment, agents and staffing advice,
    and the node's callback offer."""
    return _console(request).wallboard()


class Switch(BaseModel):
    """An overflow switch: ``callback_offer`` (node-wide, on/off), ``backup_now`` (a
    group with backup groups overflows to them at once, on/off) or ``group`` (an extra
    seat group switched on/off now; ``null``: back to its windows)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    switch: Literal["callback_offer", "backup_now", "group"]
    group: str = Field("", max_length=100)
    on: bool | None


@router.post("/api/wallboard/switches", dependencies=WRITE)
async def flip_switch(request: Request, body: Switch, principal: Supervisor) -> dict[str, Any]:
    """Flip an overflow switch; it takes effect at once (409 with the reason when
    refused).  Answers the wallboard as it is after the change."""
    console = _console(request)
    if body.switch != "group" and body.on is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.switch} needs on: true|false"
        )
    if body.switch != "callback_offer" and not body.group:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.switch} needs a group")
    before = _state(console, body)
    match body.switch:
        case "callback_offer":
            refused = await console.set_callback_offer(bool(body.on))
        case "backup_now":
            refused = await console.set_backup_now(body.group, bool(body.on))
        case _:
            refused = await console.force_group(body.group, body.on)
    if refused:
        raise HTTPException(status.HTTP_409_CONFLICT, refused)
    await audit.record(
        request,
        f"wallboard.{body.switch}",
        body.group or "node",
        {"switch": body.switch, "on": body.on, "before": before},
    )
    return console.wallboard()


def _state(console: Console, body: Switch) -> Any:
    """The switch's setting before the change, for the audit log."""
    board = console.wallboard()
    if body.switch == "callback_offer":
        return board["callback_offer"]
    for group in board["groups"]:
        if group["group"] == body.group:
            return group["backup_now"] if body.switch == "backup_now" else group["forced"]
    return None
