"""The supervisor wallboard (值班长): per seat group the calls waiting, the longest
wait, service level at 15 s today and in the last 30 minutes, abandonment, agents
by state with time in state, staffing advice; and the overflow switches, which take
effect at once and are audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from web import audit
from web.console_view import ConsoleView
from web.csrf import require_csrf
from web.deps import ConsoleDep, ContextDep, SupervisorDep, supervisors
from web.node_status import read_node_status, system_load
from web.schemas.errors import refusals
from web.schemas.text import NOT_BLANK, strip_blanks

router = APIRouter(tags=["wallboard"])

WRITE = [Depends(supervisors), Depends(require_csrf)]
REFRESH_S = 2


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard_page(request: Request, principal: SupervisorDep) -> HTMLResponse:
    """The wallboard page; it polls ``GET /api/wallboard`` every 2 s."""
    return request.app.state.templates.TemplateResponse(
        request,
        "wallboard.html",
        {"principal": principal, "refresh_s": REFRESH_S},
    )


_BOARD = refusals(401, 403, 503, _503="This node has no agents.")


@router.get("/api/wallboard", responses=_BOARD)
def wallboard(principal: SupervisorDep, console: ConsoleDep, context: ContextDep) -> dict[str, Any]:
    """Every seat group's queue, service level, abandonment, agents and staffing advice,
    the node's callback offer, and ``system``: whether the node is refusing new calls
    because it is saturated (系统繁忙) and how many it refused."""
    return {**console.wallboard(), "system": system_load(read_node_status(context.settings))}


SeatGroup = Annotated[
    str,
    Field(max_length=100, json_schema_extra={"pattern": NOT_BLANK}, description="A seat group."),
]


def _named(value: str) -> str:
    group = strip_blanks(value)  # after the length check, as the schema counts
    if not group:
        raise ValueError("name the seat group")
    return group


class CallbackOfferSwitch(BaseModel):
    """``callback_offer``: callers waiting long are offered a callback (node-wide)."""

    model_config = ConfigDict(extra="forbid")

    switch: Literal["callback_offer"]
    group: str = Field("", max_length=100, description="Not used.")
    on: StrictBool


class BackupNowSwitch(BaseModel):
    """``backup_now``: a group with backup groups overflows to them at once."""

    model_config = ConfigDict(extra="forbid")

    switch: Literal["backup_now"]
    group: SeatGroup
    on: StrictBool

    _group = field_validator("group")(_named)


class GroupSwitch(BaseModel):
    """``group``: an extra seat group switched on or off now; ``null``: back to its
    windows."""

    model_config = ConfigDict(extra="forbid")

    switch: Literal["group"]
    group: SeatGroup
    on: StrictBool | None

    _group = field_validator("group")(_named)


Switch = Annotated[
    CallbackOfferSwitch | BackupNowSwitch | GroupSwitch, Field(discriminator="switch")
]


@router.post(
    "/api/wallboard/switches",
    dependencies=WRITE,
    responses={**_BOARD, **refusals(409, _409="The switch was refused; `detail` says why.")},
)
async def flip_switch(
    request: Request,
    body: Annotated[Switch, Body()],
    principal: SupervisorDep,
    console: ConsoleDep,
) -> dict[str, Any]:
    """Flip an overflow switch; it takes effect at once (409 with the reason when
    refused).  Answers the wallboard as it is after the change."""
    before = _state(console, body)
    match body:
        case CallbackOfferSwitch():
            refused = await console.set_callback_offer(body.on)
        case BackupNowSwitch():
            refused = await console.set_backup_now(body.group, body.on)
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


def _state(console: ConsoleView, body: Switch) -> Any:
    """The switch's setting before the change, for the audit log."""
    board = console.wallboard()
    if body.switch == "callback_offer":
        return board["callback_offer"]
    for group in board["groups"]:
        if group["group"] == body.group:
            return group["backup_now"] if body.switch == "backup_now" else group["forced"]
    return None
