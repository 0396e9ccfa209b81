"""A ticket's departmental work as plain data: who has which part, the deadlines and
how much time is left, the sweep's flags, and the review trail (the reply drafted,
approved, returned, rejected; returns asked for and decided).

``hotline tickets show --json`` prints it; consoles may show the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.deadlines import DeadlinePolicy
from tickets.model import Ticket

# Audit actions that belong to the review of a department's work.
REVIEW_ACTIONS = frozenset(
    {
        "reply",
        "approve_reply",
        "return_reply",
        "reject_reply",
        "close",
        "request_return",
        "return",
        "approve_return",
        "reject_return",
        "request_extension",
        "approve_extension",
        "refuse_extension",
        "reopen",
    }
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def work_summary(ticket: Ticket, now: datetime, policy: DeadlinePolicy) -> dict[str, Any]:
    """``assignments``, ``deadlines``, ``flags`` and ``review`` of ``ticket`` at ``now``."""
    left = policy.working_days_left(ticket.due_date, now)
    return {
        "assignments": [
            {
                "department": a.department,
                "role": a.role.value,
                "role_label": a.role.label,
                "assigned_at": _time(a.assigned_at),
                "assigned_by": a.assigned_by,
                "due_at": _time(a.due_at),
                "signed_at": _time(a.signed_at),
                "late": a.signed_at is None and a.due_at is not None and now > a.due_at,
                "reported_at": _time(a.reported_at),
                "report": a.report,
                "urged_at": _time(a.urged_at),
            }
            for a in ticket.assignments
        ],
        "deadlines": {
            "due_date": ticket.due_date.isoformat(),
            "working_days_left": left,
            "overdue": ticket.is_overdue(policy.local_day(now)),
        },
        "flags": {
            "due_soon_at": _time(ticket.due_soon_at),
            "overdue_at": _time(ticket.overdue_at),
            "escalated_at": _time(ticket.escalated_at),
            "supervised": ticket.supervised,
            "reports_missing": list(ticket.reports_missing),
            "merged_callers": len(ticket.merged_callers),
        },
        "review": {
            "reply_draft": None
            if ticket.reply_draft is None
            else {
                "text": ticket.reply_draft.text,
                "drafted_at": _time(ticket.reply_draft.drafted_at),
                "drafted_by": ticket.reply_draft.drafted_by,
                "department": ticket.reply_draft.department,
            },
            "return_request": None
            if ticket.return_request is None
            else {
                "requested_at": _time(ticket.return_request.requested_at),
                "requested_by": ticket.return_request.requested_by,
                "department": ticket.return_request.department,
                "reason": ticket.return_request.reason,
                "suggested": ticket.return_request.suggested,
            },
            "trail": [
                {
                    "at": _time(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "reason": e.reason,
                    "details": dict(e.details),
                }
                for e in ticket.audit
                if e.action in REVIEW_ACTIONS
            ],
        },
    }
