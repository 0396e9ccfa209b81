"""A ticket's departmental work as the consoles and the API show it: the parts
(主办/协办/吹哨报到) with department names, deadlines with a countdown, the sweep's
flags, the reply awaiting review, a return request, merged callers, attachments,
what the dispatch catalogue suggests, and the automatic assessment of a reply
(形式办结 flags) for the centre's review.

Plain functions from domain values to JSON-ready dicts (the shapes of
``web.schemas.ticket_work``); :func:`assessment_view` and :func:`attachments_view`
read the store, so they block (run them in a thread).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

from call_routing.category_tree import CategoryTree, CategoryTreeError
from call_routing.taxonomy import load_taxonomy
from sip_config import Settings
from tickets.attachments import Attachment
from tickets.deadlines import DeadlinePolicy
from tickets.departments import Directory
from tickets.model import RUNNING_STATUSES, AssignmentRole, Status, Ticket
from tickets.store import TicketQuery, TicketStore, UnknownTicket
from verification.reply_assessment import assess_reply

ASSESSED = frozenset({Status.REVIEWING, Status.REPLIED})  # a reply the centre reviews
LATER_AT_MOST = 20  # later tickets of the same caller read for "complained again"


def _name(directory: Directory, key: str) -> str:
    found = directory.find(key) if key else None
    return found.name if found is not None else key


def countdown(due: date, today: date, days_left: int, running: bool) -> str:
    """剩余N个工作日, 今日到期 or 已超期N天 while the citizen waits; "" otherwise."""
    if not running:
        return ""
    if today > due:
        return f"已超期{(today - due).days}天"
    if days_left <= 0:
        return "今日到期"
    return f"剩余{days_left}个工作日"


def _span(seconds: float) -> str:
    """A span of time in words: 2天7小时, 5小时20分, 40分."""
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分"


def hours_countdown(due_at: datetime | None, done_at: datetime | None, now: datetime) -> str:
    """A time to sign or report in: 已完成, 剩余… or 已超时…."""
    if due_at is None:
        return ""
    if done_at is not None:
        return "已完成"
    seconds = (due_at - now).total_seconds()
    return f"已超时{_span(seconds)}" if seconds < 0 else f"剩余{_span(seconds)}"


def work_view(
    ticket: Ticket, directory: Directory, policy: DeadlinePolicy, now: datetime
) -> dict[str, Any]:
    """``assignments``, ``deadlines``, ``flags``, ``reply_draft``, ``return_request``,
    ``merged_callers`` and ``lead_department_name`` of ``ticket`` at ``now``."""
    today = policy.local_day(now)
    left = policy.working_days_left(ticket.due_date, now)
    running = ticket.status in RUNNING_STATUSES
    lead = ticket.lead
    parts = []
    for part in ticket.assignments:
        whistled = part.role is AssignmentRole.WHISTLE
        parts.append(
            {
                "department": part.department,
                "department_name": _name(directory, part.department),
                "role": part.role.value,
                "role_label": part.role.label,
                "assigned_at": part.assigned_at,
                "assigned_by": part.assigned_by,
                "due_at": part.due_at,
                "due_label": "报到时限" if whistled else "签收时限",
                "countdown": hours_countdown(part.due_at, part.signed_at, now),
                "signed_at": part.signed_at,
                "late": part.signed_at is None and part.due_at is not None and now > part.due_at,
                "reported_at": part.reported_at,
                "report": part.report,
                "urged_at": part.urged_at,
                "owes_report": part.owes_report,
            }
        )
    draft = ticket.reply_draft
    asked = ticket.return_request
    return {
        "lead_department_name": _name(directory, ticket.lead_department),
        "assignments": parts,
        "deadlines": {
            "due_date": ticket.due_date,
            "working_days_left": left,
            "overdue": ticket.is_overdue(today),
            "countdown": countdown(ticket.due_date, today, left, running),
            "sign_due_at": lead.due_at if lead else None,
            "signed_at": lead.signed_at if lead else None,
        },
        "flags": {
            "due_soon_at": ticket.due_soon_at,
            "overdue_at": ticket.overdue_at,
            "escalated_at": ticket.escalated_at,
            "supervised": ticket.supervised,
            "reports_missing": [
                {"department": d, "department_name": _name(directory, d)}
                for d in ticket.reports_missing
            ],
        },
        "reply_draft": None
        if draft is None
        else {
            "text": draft.text,
            "drafted_at": draft.drafted_at,
            "drafted_by": draft.drafted_by,
            "department": draft.department,
            "department_name": _name(directory, draft.department),
        },
        "return_request": None
        if asked is None
        else {
            "requested_at": asked.requested_at,
            "requested_by": asked.requested_by,
            "department": asked.department,
            "department_name": _name(directory, asked.department),
            "reason": asked.reason,
            "suggested": asked.suggested,
            "suggested_name": _name(directory, asked.suggested),
            "previous_status": asked.previous_status,
        },
        "merged_callers": [
            {"caller_number": m.number, "ticket": m.ticket, "at": m.at}
            for m in ticket.merged_callers
        ],
    }


# -- the dispatch catalogue's suggestion -----------------------------------------------


@functools.lru_cache(maxsize=4)
def _tree(categories: Path | None, taxonomy: Path | None) -> CategoryTree | None:
    try:
        return CategoryTree.load(categories, load_taxonomy(taxonomy).domains)
    except (CategoryTreeError, OSError, ValueError):
        return None  # the preflight names the problem; dispatch goes without a suggestion


def category_path(ticket: Ticket, settings: Settings) -> tuple[str, str, str]:
    """The ticket's place in the city's category tree: as the understanding kept it
    (``category_path``), else its domain's level1 (the tree's domain map) and the
    level2/level3 its words point to inside it (as the understanding picks them)."""
    if ticket.category_path:
        parts = [*ticket.category_path.split("/"), "", ""][:3]
        return (parts[0], parts[1], parts[2])
    tree = _tree(settings.routing.categories, settings.routing.taxonomy)
    if tree is None or not ticket.domain:
        return ("", "", "")
    try:
        level1 = tree.level1_for(ticket.domain)
    except KeyError:
        return ("", "", "")
    words = " ".join(part for part in (ticket.summary, ticket.content) if part)
    found = tree.classify(words, level1)
    return (found.level1, found.level2, found.level3)


def suggestion_view(ticket: Ticket, directory: Directory, settings: Settings) -> dict[str, Any]:
    """What the dispatch catalogue proposes: lead (主办), co-handlers (协办) and why."""
    level1, level2, level3 = category_path(ticket, settings)
    suggestion = directory.suggest(level1, level2, level3, address=ticket.address)

    def unit(department: Any) -> dict[str, Any]:
        return {
            "id": department.id,
            "name": department.name,
            "level": department.level.value,
            "level_label": department.level.label,
            "parent": department.parent,
        }

    return {
        "category": "/".join(part for part in (level1, level2, level3) if part),
        "lead": unit(suggestion.lead) if suggestion.lead else None,
        "co": [unit(d) for d in suggestion.co],
        "rule": suggestion.rule,
    }


# -- the reply's assessment ---------------------------------------------------------------


def _replied_at(ticket: Ticket) -> datetime | None:
    """When the department last drafted its reply (the clock for "complained again")."""
    return next((e.at for e in reversed(ticket.audit) if e.action == "reply"), None)


def later_complaints(store: TicketStore, ticket: Ticket) -> list[tuple[str, str]]:
    """(number, text) of what the citizen said again since the reply: the same caller's
    later tickets and the repeats merged into this one (并单) after it."""
    since = _replied_at(ticket)
    if since is None:
        return []
    found: dict[str, str] = {}
    if ticket.caller_number.strip():
        query = TicketQuery(
            caller_number=ticket.caller_number, created_from=since, limit=LATER_AT_MOST
        )
        for later in store.find(query):
            if later.number != ticket.number:
                found[later.number] = later.content or later.summary
    for merged in ticket.merged_callers:
        if merged.at >= since and merged.ticket not in found:
            try:
                repeat = store.get(merged.ticket)
            except UnknownTicket:
                continue
            found[repeat.number] = repeat.content or repeat.summary
    return [(number, text) for number, text in found.items() if text]


def assessment_view(store: TicketStore, ticket: Ticket) -> dict[str, Any] | None:
    """The assessment of the reply under review (the draft while 待审核, the reply
    once 答复): score, flag and every reason; None in other states."""
    if ticket.status not in ASSESSED:
        return None
    draft = ticket.reply_draft
    if ticket.status is Status.REVIEWING and draft is not None:
        reply, which = draft.text, "draft"
    else:
        reply, which = ticket.reply, "reply"
    again = later_complaints(store, ticket)
    complaint = ticket.content or ticket.transcript or ticket.summary
    assessed = assess_reply(complaint, reply, later_complaints=[text for _, text in again])
    return {
        "reply": which,
        "score": round(assessed.score, 4),
        "flag": assessed.flag,
        "reasons": [{"code": r.code, "text": r.text} for r in assessed.reasons],
        "complained_again": [number for number, _ in again],
    }


def attachments_view(store: TicketStore, ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's attachments, oldest first, each with its download URL."""
    return [attachment_json(ticket.number, a) for a in store.attachments(ticket.number)]


def attachment_json(number: str, attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "at": attachment.at,
        "actor": attachment.actor,
        "department": attachment.department,
        "url": f"/api/tickets/{number}/attachments/{attachment.id}",
    }
