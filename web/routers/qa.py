"""QA review (质检): the calls list, a call's page (recording, transcript, ticket,
integrity, score form), and the JSON API behind them.

QA staff, supervisors and admins see every call; an agent sees only their own
calls (others answer 404, as unknown ones do) and cannot score.  Recordings are
streamed from the file the call's manifest names, found through the catalog,
never from a path in the request; Starlette's ``FileResponse`` answers range
requests (206, 416) in chunks without reading the file into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, WithJsonSchema
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from recordings import manifest as manifests
from recordings.catalog import (
    MAX_SCORE,
    UNRATED,
    CallCatalog,
    CallQuery,
    CatalogedCall,
    QaScore,
    RecordingRefused,
    UnknownCall,
)
from recordings.transcript import read_transcript
from tickets.model import Rating, RequestType
from tickets.store import UnknownTicket
from web import audit
from web.csrf import require_csrf
from web.deps import call_catalog, get_context
from web.masking import mask_for
from web.roles import Principal, Role, require_roles
from web.schemas.errors import invalid, refusals
from web.schemas.query import MomentText, SecondsText, YesNo, day_start, in_zone, parse_moment

router = APIRouter(tags=["qa"])

Viewer = Annotated[
    Principal, Depends(require_roles(Role.QA, Role.SUPERVISOR, Role.ADMIN, Role.AGENT))
]
Reviewer = Annotated[Principal, Depends(require_roles(Role.QA, Role.SUPERVISOR, Role.ADMIN))]
PAGE_SIZE = 50
LEG_NAMES = {
    "qa": "双声道（市民左 / 坐席右）",
    "caller": "市民",
    "agent": "坐席",
    "played": "系统放音",
}


# -- the pieces the routes share ---------------------------------------------------


def _catalog(request: Request) -> CallCatalog:
    """The hub's call catalog (``WebContext.catalog``); 503 without one."""
    return call_catalog(get_context(request))


def _templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates  # web.app.page_templates(): pages extend base.html


def _root(request: Request) -> FilePath:
    return get_context(request).settings.recordings_dir


def _own_call(request: Request, principal: Principal, call_id: str) -> CatalogedCall:
    """The call, if ``principal`` may see it: 404 for unknown ids and for an agent's
    look at another agent's call (the same answer, so ids cannot be probed)."""
    try:
        call = _catalog(request).get(call_id)
    except UnknownCall:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个通话 (no such call)") from None
    if principal.role is Role.AGENT and (
        not principal.agent_id or call.agent_id != principal.agent_id
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个通话 (no such call)")
    return call


# -- masking ------------------------------------------------------------------------------


def _masked(value: Any, principal: Principal, call: CatalogedCall | None = None) -> Any:
    """``value`` as ``principal`` may see it (``web.masking``): QA staff masked,
    supervisors and admins in full, an agent their own calls in full."""
    own = (
        call is not None
        and principal.role is Role.AGENT
        and bool(principal.agent_id)
        and call.agent_id == principal.agent_id
    )
    return mask_for(value, principal, on_call=own)


def _listed(call: CatalogedCall, principal: Principal) -> dict[str, Any]:
    return _masked(call.as_dict(), principal, call)


# -- filters --------------------------------------------------------------------------


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(get_context(request).settings.tickets.timezone)


def _when(value: str, zone: ZoneInfo, end: bool) -> datetime | None:
    """A date (``2026-11-02``: the whole day), a local time (``2026-11-02T09:30``)
    or an RFC 3339 time; FastAPI has checked the text (``MomentText``)."""
    if not value:
        return None
    moment = parse_moment(value)
    if isinstance(moment, datetime):
        return in_zone(moment, zone)
    return day_start(moment, zone, days_after=1 if end else 0)


RatingFilter = Rating | Literal["", "未评价"]  # 未评价: recordings.catalog.UNRATED


@dataclass(frozen=True)
class CallFilters:
    """The list's filters as the request gave them (kept as text for the form);
    FastAPI has checked them (:func:`call_filters`)."""

    start: str = ""
    end: str = ""
    agent: str = ""
    seat_group: str = ""
    domain: str = ""
    request_type: str = ""
    rating: str = ""
    min_duration: str = ""
    max_duration: str = ""
    emergency: str = ""  # "yes", "no" or ""
    page: int = 1

    def query(self, request: Request, principal: Principal, limit: int) -> CallQuery:
        zone = _zone(request)
        agent = self.agent
        if principal.role is Role.AGENT:
            agent = principal.agent_id or "\0"  # an agent without an id sees nothing
        return CallQuery(
            started_from=_when(self.start, zone, False),
            started_before=_when(self.end, zone, True),
            agent_id=agent,
            seat_group=self.seat_group,
            domain=self.domain,
            request_type=self.request_type,
            rating=self.rating,
            min_duration_s=float(self.min_duration) if self.min_duration else None,
            max_duration_s=float(self.max_duration) if self.max_duration else None,
            emergency={"yes": True, "no": False}.get(self.emergency),
            limit=limit,
            offset=(self.page - 1) * limit,
        )

    def link(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


def call_filters(
    start: Annotated[
        MomentText, Query(description="Started at or after; a date: from that day's start.")
    ] = "",
    end: Annotated[
        MomentText, Query(description="Started before; a date: to that day's end.")
    ] = "",
    agent: Annotated[str, Query(max_length=100, description="The agent's id.")] = "",
    seat_group: Annotated[str, Query(max_length=100, description="The seat group.")] = "",
    domain: Annotated[str, Query(max_length=100, description="Domain (领域).")] = "",
    request_type: Annotated[
        RequestType | Literal[""], Query(description="咨询, 求助, 投诉, 举报, 建议 or 表扬.")
    ] = "",
    rating: Annotated[
        RatingFilter, Query(description="The ticket's rating, or 未评价 (none yet).")
    ] = "",
    min_duration: Annotated[SecondsText, Query(description="At least this many seconds.")] = "",
    max_duration: Annotated[SecondsText, Query(description="At most this many seconds.")] = "",
    emergency: Annotated[
        YesNo, Query(description="yes: handed to 110/119/120; no: the others.")
    ] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> CallFilters:
    """Filters from the query string; empty fields (as a form sends them) mean any."""
    return CallFilters(
        start, end, agent, seat_group, domain, str(request_type), str(rating),
        min_duration, max_duration, emergency, page,
    )  # fmt: skip


Filters = Annotated[CallFilters, Depends(call_filters)]


# -- a call's details -------------------------------------------------------------------


def _transcript(directory: FilePath) -> list[dict[str, Any]]:
    """The transcript's lines, oldest first, each with ``at``: where in the recording
    it starts (``call_s`` when the hub gave it, else ``start_s``)."""
    try:
        record = read_transcript(directory)
    except (OSError, ValueError):
        return []
    lines = []
    for line in record.get("lines") or []:
        if not isinstance(line, dict):
            continue
        at = line.get("call_s", line.get("start_s"))
        lines.append(
            {
                "leg": str(line.get("leg", "")),
                "turn": line.get("turn"),
                "text": str(line.get("text", "")),
                "start_s": line.get("start_s"),
                "end_s": line.get("end_s"),
                "call_s": line.get("call_s"),
                "at": float(at) if isinstance(at, int | float) else None,
                "confidence": line.get("confidence"),
            }
        )
    return sorted(lines, key=lambda g: (g["at"] is None, g["at"] or 0.0))


def _ticket(request: Request, number: str) -> dict[str, Any] | None:
    store = get_context(request).tickets
    if not number or store is None:
        return None
    try:
        ticket = store.get(number)
    except UnknownTicket:
        return None
    return {
        "number": ticket.number,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "request_type": ticket.request_type.value,
        "domain": ticket.domain,
        "category_code": ticket.category_code,
        "lead_department": ticket.lead_department,
        "caller_number": ticket.caller_number,
        "caller_name": ticket.caller_name,
        "address": ticket.address,
        "content": ticket.content,
        "summary": ticket.summary,
        "reply": ticket.reply,
        "owner": ticket.owner,
        "due_date": ticket.due_date.isoformat(),
        "rating": ticket.rating.value if ticket.rating else None,
        "created_at": ticket.created_at.isoformat(),
        "history": [
            {
                "at": entry.at.isoformat(),
                "actor": entry.actor,
                "action": entry.action,
                "from_status": entry.from_status.value if entry.from_status else None,
                "to_status": entry.to_status.value,
                "from_label": entry.from_status.label if entry.from_status else None,
                "to_label": entry.to_status.label,
                "reason": entry.reason,
            }
            for entry in ticket.audit
        ],
    }


def _legs(directory: FilePath, call: CatalogedCall) -> list[dict[str, Any]]:
    """The legs the manifest lists, the stereo one first, with their offsets."""
    try:
        listed = manifests.read(directory).legs
    except (OSError, ValueError, TypeError):
        return []
    order = {"qa": 0, "caller": 1, "agent": 2, "played": 3}
    return [
        {
            "leg": g.leg,
            "name": LEG_NAMES.get(g.leg, g.leg),
            "url": f"/api/calls/{call.call_id}/recordings/{g.leg}",
            "offset_s": g.offset_s,
            "duration_s": g.duration_s,
            "channels": g.channels,
        }
        for g in sorted(listed, key=lambda g: order.get(g.leg, 9))
    ]


def _details(request: Request, principal: Principal, call: CatalogedCall) -> dict[str, Any]:
    catalog = _catalog(request)
    try:
        directory = catalog.directory(call, _root(request))
    except RecordingRefused:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "录音目录不在录音根目录下") from None
    details = {
        "call": call.as_dict(),
        "legs": _legs(directory, call),
        "transcript": _transcript(directory),
        "ticket": _ticket(request, call.ticket),
        "scores": [s.as_dict() for s in catalog.scores(call.call_id)],
    }
    return _masked(details, principal, call)


# -- JSON API -----------------------------------------------------------------------------


def _in_range(score: float) -> float:
    if not 0 <= score <= MAX_SCORE:
        raise PydanticCustomError("score", f"每项 0–{MAX_SCORE:g} 分")
    return score


# A number (not true or "8") from 0 to 10.
Score = Annotated[
    StrictFloat,
    AfterValidator(_in_range),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_SCORE}),
]


class ScoreIn(BaseModel):
    """A QA score: every configured criterion 0–10, and a comment.  The OpenAPI
    document names this node's criteria (``web.qa_criteria``; ``web.schemas.openapi``)."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, Score] = Field(description="Every criterion, 0–10.")
    comment: str = Field("", max_length=2000)


def _save_score(
    request: Request, principal: Principal, call_id: str, scores: dict[str, float], comment: str
) -> QaScore:
    """Check the criteria against the settings, save, and write the audit entry
    (the audit log is looked up first: a score is never saved unaudited)."""
    criteria = list(get_context(request).settings.web.qa_criteria)
    missing = [c for c in criteria if c not in scores]
    unknown = [c for c in scores if c not in criteria]
    if missing or unknown:
        raise invalid(
            ("body", "scores"),
            f"评分项不符: 缺少 {missing or '无'}，多余 {unknown or '无'} (criteria: {criteria})",
            scores,
        )
    sink = audit.audit_log(request)
    _own_call(request, principal, call_id)
    try:
        saved = _catalog(request).save_score(
            call_id, {c: scores[c] for c in criteria}, comment, principal.username
        )
    except ValueError as exc:
        raise invalid(("body", "scores"), f"每项 0–{MAX_SCORE:g} 分: {exc}", scores) from None
    sink.add(
        audit.Actor.from_request(request),
        "qa.score",
        call_id,
        {"scores": saved.scores, "total": saved.total, "comment": saved.comment},
    )
    return saved


_NO_CALL = "No such call, or another agent's (for an agent)."
_READ = refusals(401, 403, 503)
_CALL = refusals(
    401,
    403,
    404,
    503,
    _403="The role may not do this, or the call's directory is outside the recordings root.",
    _404=_NO_CALL,
)
CallId = Annotated[str, Path(description="The call's id.", examples=["c1"])]


@router.get("/api/calls", responses=_READ)
def list_calls(
    request: Request,
    principal: Viewer,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> dict[str, Any]:
    """Finished calls, newest first; agents get only their own."""
    query = filters.query(request, principal, limit)
    catalog = _catalog(request)
    return {
        "total": catalog.count(query),
        "limit": query.limit,
        "offset": query.offset,
        "calls": [_listed(c, principal) for c in catalog.find(query)],
    }


@router.get("/api/calls/{call_id}", responses=_CALL)
def get_call(request: Request, principal: Viewer, call_id: CallId) -> dict[str, Any]:
    """The call with its legs, transcript (lines with ``at``), ticket and history, scores."""
    return _details(request, principal, _own_call(request, principal, call_id))


@router.get("/api/calls/{call_id}/integrity", responses=_CALL)
def get_integrity(request: Request, principal: Viewer, call_id: CallId) -> dict[str, Any]:
    """Every file hashed and compared with the manifest, the manifest with the chain."""
    call = _own_call(request, principal, call_id)
    try:
        return _catalog(request).integrity(call.call_id, _root(request)).as_dict()
    except RecordingRefused:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "录音目录不在录音根目录下") from None


@router.post(
    "/api/calls/{call_id}/score",
    status_code=201,
    dependencies=[Depends(require_csrf)],
    responses=refusals(401, 403, 404, 503, _404=_NO_CALL),
)
def post_score(
    request: Request, principal: Reviewer, call_id: CallId, body: ScoreIn
) -> dict[str, Any]:
    """Save a QA score (audited as ``qa.score``)."""
    return _save_score(request, principal, call_id, body.scores, body.comment).as_dict()


_RANGE_REFUSED = {"text/plain": {"schema": {"type": "string"}}}


@router.head(
    "/api/calls/{call_id}/recordings/{leg}",
    operation_id="head_call_recording",
    include_in_schema=False,
)
@router.get(
    "/api/calls/{call_id}/recordings/{leg}",
    operation_id="get_call_recording",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The WAV file.",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
        206: {
            "description": "The part a `Range` header asked for.",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
        400: {"description": "A malformed `Range` header.", "content": _RANGE_REFUSED},
        416: {"description": "A `Range` beyond the file.", "content": _RANGE_REFUSED},
        **refusals(401, 403, 503),
        **refusals(404, _404="No such call (or not the agent's), or no such leg in its manifest."),
    },
)
def get_recording(
    request: Request,
    principal: Viewer,
    call_id: CallId,
    leg: Annotated[str, Path(description="qa (stereo), caller, agent or played.", examples=["qa"])],
) -> FileResponse:
    """One leg's WAV, with range requests; only legs the manifest lists, only files
    inside the call's directory under the recordings root."""
    call = _own_call(request, principal, call_id)
    try:
        path = _catalog(request).leg_path(call.call_id, leg, _root(request))
    except RecordingRefused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这段录音 (no such recording)") from None
    return FileResponse(
        path,
        media_type="audio/wav",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# -- pages ------------------------------------------------------------------------------------


def _local(moment: str | None, zone: ZoneInfo) -> str:
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _page_globals(request: Request, principal: Principal) -> dict[str, Any]:
    zone = _zone(request)
    return {
        "principal": principal,
        "local": lambda moment: _local(moment, zone),
        "clock": lambda seconds: (
            "" if seconds is None else f"{int(seconds) // 60:02d}:{seconds % 60:04.1f}"
        ),
    }


@router.get("/qa", response_class=HTMLResponse)
def qa_list_page(request: Request, principal: Viewer, filters: Filters) -> HTMLResponse:
    """The calls list (质检 · 通话列表) with its filters."""
    query = filters.query(request, principal, PAGE_SIZE)
    catalog = _catalog(request)
    total = catalog.count(query)
    return _templates(request).TemplateResponse(
        request,
        "qa_list.html",
        {
            **_page_globals(request, principal),
            "filters": filters,
            "calls": [_listed(c, principal) for c in catalog.find(query)],
            "total": total,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "choices": catalog.choices(),
            "request_types": [t.value for t in RequestType],
            "ratings": [r.value for r in Rating] + [UNRATED],
        },
    )


@router.get("/qa/calls/{call_id}", response_class=HTMLResponse)
def qa_call_page(request: Request, principal: Viewer, call_id: str, saved: int = 0) -> HTMLResponse:
    """One call: recording, transcript, ticket, integrity and the score form."""
    call = _own_call(request, principal, call_id)
    try:
        integrity = _catalog(request).integrity(call.call_id, _root(request)).as_dict()
    except RecordingRefused:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "录音目录不在录音根目录下") from None
    criteria = list(get_context(request).settings.web.qa_criteria)
    return _templates(request).TemplateResponse(
        request,
        "qa_call.html",
        {
            **_page_globals(request, principal),
            **_details(request, principal, call),
            "integrity": integrity,
            "criteria": criteria,
            "max_score": MAX_SCORE,
            "may_score": principal.role is not Role.AGENT,
            "saved": bool(saved),
        },
    )


@router.post(
    "/qa/calls/{call_id}/score",
    dependencies=[Depends(require_csrf)],
    response_class=RedirectResponse,
)
async def qa_score_form(request: Request, principal: Reviewer, call_id: str) -> RedirectResponse:
    """The call page's score form: ``score:<criterion>`` fields and ``comment``."""
    form = await request.form()
    scores: dict[str, float] = {}
    for name, value in form.items():
        if name.startswith("score:") and isinstance(value, str):
            try:
                scores[name.removeprefix("score:")] = float(value)
            except ValueError:
                raise invalid(
                    ("body", name), f"{name}: 应为 0–{MAX_SCORE:g} 的数字", value
                ) from None
    comment = form.get("comment", "")
    await run_in_threadpool(
        _save_score,
        request,
        principal,
        call_id,
        scores,
        comment if isinstance(comment, str) else "",
    )
    return RedirectResponse(f"/qa/calls/{call_id}?saved=1#score", status_code=303)
