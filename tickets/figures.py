"""Figures per department (承办单位考核), read from the tickets' audit trails.

For the tickets dispatched to a department in a period:

- 按时签收率: signed within the directory's working hours of being dispatched;
- 按时办结率: the department's answer approved by its reviewer (and so sent to the
  centre) on or before the ticket's due date;
- 退单率: hand-back requests per dispatch, and how many the centre upheld (改派);
- 重办率: answers the centre sent back (退回重办) or reopened after a bad rating,
  per answer given;
- average handling time: dispatch to the approved answer, in hours;
- overdue now: tickets it leads that are past their due date today.

Pure: the tickets, the period and ``now`` come in; nothing is read or written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tickets.assignments import SIGN_WITHIN_HOURS
from tickets.deadlines import DeadlinePolicy
from tickets.model import RUNNING_STATUSES, AuditEntry, Ticket

_DISPATCHES = frozenset({"dispatch", "approve_return", "redispatch"})


@dataclass(slots=True)
class DepartmentFigures:
    """One department's figures over a period (rates are ``None`` without cases)."""

    department: str
    dispatched: int = 0
    signed: int = 0
    signed_on_time: int = 0
    answered: int = 0
    answered_on_time: int = 0
    return_requests: int = 0
    returns_upheld: int = 0
    redone: int = 0
    overdue_now: int = 0
    handling_hours: list[float] = field(default_factory=list)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def signed_on_time_rate(self) -> float | None:
        return self._rate(self.signed_on_time, self.dispatched)

    @property
    def closed_on_time_rate(self) -> float | None:
        return self._rate(self.answered_on_time, self.answered)

    @property
    def return_rate(self) -> float | None:
        return self._rate(self.return_requests, self.dispatched)

    @property
    def redo_rate(self) -> float | None:
        return self._rate(self.redone, self.answered)

    @property
    def average_handling_hours(self) -> float | None:
        if not self.handling_hours:
            return None
        return round(sum(self.handling_hours) / len(self.handling_hours), 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "department": self.department,
            "dispatched": self.dispatched,
            "signed": self.signed,
            "signed_on_time_rate": self.signed_on_time_rate,
            "answered": self.answered,
            "closed_on_time_rate": self.closed_on_time_rate,
            "return_requests": self.return_requests,
            "returns_upheld": self.returns_upheld,
            "return_rate": self.return_rate,
            "redone": self.redone,
            "redo_rate": self.redo_rate,
            "average_handling_hours": self.average_handling_hours,
            "overdue_now": self.overdue_now,
        }


def _acting(entry: AuditEntry) -> str:
    return entry.details.get("by_department") or entry.details.get("department", "")


def department_figures(
    tickets: Iterable[Ticket],
    start: datetime,
    end: datetime,
    now: datetime,
    policy: DeadlinePolicy | None = None,
    sign_within_hours: float = SIGN_WITHIN_HOURS,
) -> list[DepartmentFigures]:
    """Figures for every department dispatched to in ``[start, end)``, most dispatched
    first.  ``tickets`` must carry their audit trails."""
    policy = policy or DeadlinePolicy()
    found: dict[str, DepartmentFigures] = defaultdict(lambda: DepartmentFigures(""))

    def of(department: str) -> DepartmentFigures:
        figures = found[department]
        figures.department = department
        return figures

    today = policy.local_day(now)
    for ticket in tickets:
        holder = ""  # the lead department as the trail goes
        dispatched_at: datetime | None = None
        counted = False  # dispatched in the period: its later steps count
        for entry in ticket.audit:
            action = entry.action
            if action in _DISPATCHES and entry.details.get("department"):
                holder = entry.details["department"]
                dispatched_at = entry.at
                counted = start <= entry.at < end
                if counted:
                    of(holder).dispatched += 1
                if action == "approve_return" and counted:
                    previous = entry.details.get("previous_department", "")
                    if previous:
                        of(previous).returns_upheld += 1
                continue
            if not counted or not holder:
                continue
            acting = _acting(entry) or holder
            if action == "sign" and acting == holder and dispatched_at is not None:
                figures = of(holder)
                figures.signed += 1
                due = policy.after_working_hours(dispatched_at, sign_within_hours)
                figures.signed_on_time += entry.at <= due
            elif action == "request_return" or action == "return":
                of(acting).return_requests += 1
            elif action == "approve_reply" or (action == "reply" and entry.to_status == "replied"):
                figures = of(holder)
                figures.answered += 1
                figures.answered_on_time += policy.local_day(entry.at) <= ticket.due_date
                if dispatched_at is not None:
                    hours = (entry.at - dispatched_at).total_seconds() / 3600
                    figures.handling_hours.append(hours)
            elif action in ("reject_reply", "reopen"):
                of(entry.details.get("department") or holder).redone += 1
        if (
            holder
            and ticket.status in RUNNING_STATUSES
            and today > ticket.due_date
            and ticket.lead_department == holder
        ):
            of(holder).overdue_now += 1
    return sorted(found.values(), key=lambda f: (-f.dispatched, f.department))
