"""One ticket's page, shared by the 工单管理 console (``/tickets/{number}``) and the
承办单位工作台 (``/department/tickets/{number}``): everything the ticket holds as the
API shows it to this principal (``web.routers.tickets.detail_json``: masked, with
the actions they may take), its history with Chinese labels, the call's recordings
for the centre, and the action forms with the pickers each needs.

The forms post to the ticket API from ``web/static/tickets.js``; which fields an
action's form has is :data:`ACTION_FIELDS`.  For the centre the page also lists the
ticket's 回访 tasks (answers, attempts, recordings) and, while a 回访 result awaits
review, the 回访复核 panel with 重办 (its reason prefilled with what the citizen
said) and 维持办结 (:func:`verification_view`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request

from recordings import manifest as manifests
from recordings.catalog import RecordingRefused, UnknownCall
from tickets.departments import Directory
from tickets.lifecycle import ACTION_LABELS, RULES, Action, parse_action
from tickets.model import Rating, Status
from web.context import WebContext
from web.deps import department_directory, get_context
from web.roles import DEPARTMENT_ROLES, Principal, Role

# The fields of each action's form (the ticket API's TransitionRequest names, but for
# the pickers: ``lead`` the lead department, ``co`` co-handlers, ``below`` a sub-unit,
# ``elsewhere`` where a return should go, ``return_to`` 改派's target, ``called`` the
# departments a whistle calls in).  Actions not listed take no field.
ACTION_FIELDS: dict[Action, tuple[str, ...]] = {
    Action.DISCARD: ("reason",),
    Action.LINK: ("linked_to",),
    Action.UNLINK: ("reason",),
    Action.CLOSE_AT_ONCE: ("reply",),
    Action.DISPATCH: ("lead", "co", "note"),
    Action.REDISPATCH: ("below", "reason"),
    Action.RETURN: ("elsewhere", "reason"),
    Action.APPROVE_RETURN: ("return_to", "reason"),
    Action.REJECT_RETURN: ("reason",),
    Action.NOTE: ("note",),
    Action.WHISTLE: ("called", "note"),
    Action.REPORT: ("note",),
    Action.REQUEST_EXTENSION: ("working_days", "reason"),
    Action.APPROVE_EXTENSION: ("working_days",),
    Action.REFUSE_EXTENSION: ("reason",),
    Action.SUPERVISE: ("note",),
    Action.URGE: ("note",),
    Action.REPLY: ("reply",),
    Action.RETURN_REPLY: ("reason",),
    Action.REJECT_REPLY: ("reason",),
    Action.RATE: ("rating",),
    Action.REOPEN: ("reason",),
    Action.UPHOLD: ("reason",),
}
# Where an action's form goes on the page: with the reply under review, with the
# return request, with the extension request, or among the other actions.
REVIEW = frozenset({Action.APPROVE_REPLY, Action.RETURN_REPLY, Action.REJECT_REPLY, Action.CLOSE})
ARBITRATION = frozenset({Action.APPROVE_RETURN, Action.REJECT_RETURN})
EXTENSION = frozenset({Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION})
VERIFICATION_REVIEW = frozenset({Action.REOPEN, Action.UPHOLD})  # 回访复核
# Actions whose button is the page's main one (the next step of the ticket's life).
PRIMARY = frozenset(
    {
        Action.ACCEPT,
        Action.DISPATCH,
        Action.SIGN,
        Action.REPORT_IN,
        Action.REPLY,
        Action.APPROVE_REPLY,
        Action.CLOSE,
        Action.APPROVE_RETURN,
    }
)
# Audit details shown in the history, in Chinese; department ids among them by name.
DETAIL_LABELS = {
    "department": "单位",
    "previous_department": "原承办单位",
    "co_departments": "协办单位",
    "departments": "吹哨部门",
    "suggested": "建议改派",
    "by_department": "办理单位",
    "note": "说明",
    "reply": "答复",
    "report": "反馈",
    "working_days": "工作日",
    "due_date": "办理时限",
    "linked_to": "关联工单",
    "rating": "评价",
    "attachments": "附件",
    "drafted_by": "拟稿人",
}
_NAMED = frozenset(
    {
        "department",
        "previous_department",
        "co_departments",
        "departments",
        "suggested",
        "by_department",
    }
)
LEG_NAMES = {"qa": "双声道录音", "caller": "市民", "agent": "坐席", "played": "系统放音"}


def zone_of(context: WebContext) -> ZoneInfo:
    return ZoneInfo(context.settings.tickets.timezone)


def local_time(value: str | datetime | None, zone: ZoneInfo) -> str:
    """An ISO time (as the API gives it) in hotline time, to the minute."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def action_label(name: str) -> str:
    """An audit action's Chinese name (创建 for the ticket's creation)."""
    if name == "create":
        return "创建"
    try:
        return parse_action(name).label
    except ValueError:
        return name


def status_label(value: str | None) -> str:
    try:
        return Status(value).label if value else ""
    except ValueError:
        return value or ""


def department_options(directory: Directory) -> list[dict[str, Any]]:
    """The directory grouped by level for a picker: ``[{label, units: [{id, name}]}]``."""
    groups: dict[str, list[dict[str, str]]] = {}
    labels: dict[str, str] = {}
    for unit in directory:
        groups.setdefault(unit.level.value, []).append({"id": unit.id, "name": unit.name})
        labels[unit.level.value] = unit.level.label
    return [{"label": labels[level], "units": units} for level, units in groups.items()]


def _recordings(context: WebContext, principal: Principal, call_id: str) -> dict[str, Any] | None:
    """The call's recording legs for the centre (an agent: their own calls), as the QA
    console streams them; None when there is none to show."""
    catalog = context.catalog
    if not call_id or catalog is None or principal.role in DEPARTMENT_ROLES:
        return None
    try:
        call = catalog.get(call_id)
        folder = catalog.directory(call, context.settings.recordings_dir)
        legs = manifests.read(folder).legs
    except (UnknownCall, RecordingRefused, OSError, ValueError, TypeError):
        return None
    if principal.role is Role.AGENT and call.agent_id != principal.agent_id:
        return None
    order = {"qa": 0, "caller": 1, "agent": 2, "played": 3}
    return {
        "call_id": call_id,
        "page": f"/qa/calls/{call_id}",
        "legs": [
            {
                "leg": leg.leg,
                "name": LEG_NAMES.get(leg.leg, leg.leg),
                "url": f"/api/calls/{call_id}/recordings/{leg.leg}",
            }
            for leg in sorted(legs, key=lambda leg: order.get(leg.leg, 9))
        ],
    }


def _history(
    history: list[dict[str, Any]], directory: Directory, files: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The audit trail with department ids and attachment ids in its details named."""
    file_names = {str(f["id"]): f["name"] for f in files}

    def named(value: str) -> str:
        found = [directory.find(part.strip()) for part in value.split(",")]
        return "、".join(
            f.name if f else part for f, part in zip(found, value.split(","), strict=True)
        )

    shown = []
    for entry in history:
        details = entry["details"]
        acting = details.get("by_department", "")
        shown.append(
            {
                **entry,
                "details": {
                    key: named(value)
                    if key in _NAMED
                    else "、".join(file_names.get(i, i) for i in value.split(","))
                    if key == "attachments"
                    else value
                    for key, value in details.items()
                    if value and not (key == "department" and value == acting)
                },
            }
        )
    return shown


def _forms(allowed: list[str], under_review: bool = False) -> list[dict[str, Any]]:
    """The action forms; 重办 and 维持办结 go to the 回访复核 panel while a 回访 result
    awaits review (a 重办 of a disputed ticket upheld before is among the others)."""
    forms = []
    for name in allowed:
        action = Action(name)
        forms.append(
            {
                "action": action.value,
                "label": action.label,
                "needs_reason": RULES[action].needs_reason,
                "fields": ACTION_FIELDS.get(action, ()),
                "primary": action in PRIMARY,
                "place": "review"
                if action in REVIEW
                else "arbitration"
                if action in ARBITRATION
                else "extension"
                if action in EXTENSION
                else "verification"
                if action in VERIFICATION_REVIEW and under_review
                else "other",
            }
        )
    return sorted(forms, key=lambda form: not form["primary"])


def reopen_reason(ticket: dict[str, Any], tasks: list[dict[str, Any]]) -> str:
    """What a 重办's reason starts from: the citizen's comment of the round under
    review (a disputed answer's first), else what they answered."""
    current = [t for t in tasks if t["round"] == ticket.get("redo_count", 0) + 1] or tasks
    answered = [t for t in current if t["state"] == "done"]
    disputed = [t for t in answered if t["resolution"] in ("未解决", "部分解决")] + [
        t for t in answered if t["rating"] in ("不满意", "非常不满意")
    ]
    for task in [*disputed, *answered]:
        if task["comment"] or task["notes"]:
            return str(task["comment"] or task["notes"])
    said = [str(v) for v in (ticket.get("resolution"), ticket.get("rating")) if v]
    return "市民回访：" + "，".join(said) if said else ""


def page_context(
    request: Request,
    principal: Principal,
    ticket: dict[str, Any],
    home: str,
    verification: list[dict[str, Any]] | None = None,
    may_play: bool = False,
) -> dict[str, Any]:
    """What ``ticket.html`` renders: ``ticket`` (the API's detail as this principal
    sees it), the forms, the pickers, the recordings and the formatters.  ``home``:
    the console the page belongs to (``/tickets`` or ``/department``);
    ``verification``: the ticket's 回访 tasks as ``web.verification_views`` shows
    them (the centre's page), ``may_play`` whether this user may open their
    recordings and pages."""
    context = get_context(request)
    directory = department_directory(context)
    zone = zone_of(context)
    mine = principal.department
    below = (
        [{"id": d.id, "name": d.name} for d in directory.descendants(mine)]
        if mine and mine in directory
        else []
    )
    suggestion = ticket.get("suggestion") or {}
    asked = ticket.get("return_request") or {}
    centre = principal.role not in DEPARTMENT_ROLES
    return {
        "principal": principal,
        "home": home,
        "ticket_base": "/tickets" if home == "/tickets" else "/department/tickets",
        "ticket": {
            **ticket,
            "history": _history(ticket["history"], directory, ticket["attachments"]),
        },
        "detail_labels": DETAIL_LABELS,
        "may_upload": principal.role is not Role.QA
        and (centre or "note" in ticket["allowed_actions"]),
        "forms": _forms(ticket["allowed_actions"], bool(ticket.get("verification_review"))),
        "options": department_options(directory),
        "below": below,
        "own_department": mine,
        "suggested_lead": (suggestion.get("lead") or {}).get("id", ""),
        "suggested_co": [d["id"] for d in suggestion.get("co") or []],
        "return_to": asked.get("suggested", "") or (suggestion.get("lead") or {}).get("id", ""),
        "ratings": [r.value for r in Rating],
        "recordings": _recordings(context, principal, str(ticket.get("call_id") or "")),
        "local": lambda value: local_time(value, zone),
        "action_label": action_label,
        "status_label": status_label,
        "action_labels": {a.value: label for a, label in ACTION_LABELS.items()},
        "read_only": principal.role is Role.QA or not ticket["allowed_actions"],
        "verification": verification or [],
        "may_play": may_play,
        "reopen_reason": reopen_reason(ticket, verification or []),
    }
