"""Deadlines that enforce themselves: what the sweep does to one ticket at ``now``.

Run by the hub every few minutes and by ``hotline tickets sweep [--now ISO]``:

- **即将超期**: ``due_soon_days`` working days or fewer left → marked once;
- **超期**: past its due date → marked once, with a 催办 to the lead department
  and a 督办 (the supervisor's) on the ticket, which becomes a 督办件;
- **升级督办**: still overdue ``escalate_after_days`` working days after that →
  escalated once more;
- a department past its time to sign (签收) or, called in by a street's whistle,
  to report in (报到) → urged once (催办 naming it).

Each step is one lifecycle transition by ``system``, so one audit entry and one
outbox event; a second sweep at the same moment changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tickets.assignments import late
from tickets.deadlines import DeadlinePolicy
from tickets.lifecycle import Action, transition
from tickets.model import OPEN_STATUSES, RUNNING_STATUSES, AssignmentRole, Ticket

SWEEPER = "system"


@dataclass(slots=True)
class SweepReport:
    """What one sweep did, by ticket number."""

    due_soon: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    urged: list[tuple[str, str]] = field(default_factory=list)  # (number, department)

    @property
    def changed(self) -> int:
        return len({*self.due_soon, *self.overdue, *self.escalated, *(n for n, _ in self.urged)})

    def as_dict(self) -> dict[str, object]:
        return {
            "due_soon": self.due_soon,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "urged": [{"number": n, "department": d} for n, d in self.urged],
        }


def sweep_ticket(
    ticket: Ticket, now: datetime, policy: DeadlinePolicy, report: SweepReport | None = None
) -> Ticket:
    """``ticket`` after the sweep's steps at ``now`` (itself when none is due)."""
    report = report if report is not None else SweepReport()
    if ticket.status not in RUNNING_STATUSES:
        return ticket

    def step(action: Action, **options: object) -> None:
        nonlocal ticket
        ticket = transition(ticket, action, SWEEPER, now, policy=policy, **options)  # type: ignore[arg-type]

    left = policy.working_days_left(ticket.due_date, now)
    lead = ticket.lead_department or "中心"
    if left < 0 and ticket.overdue_at is None:
        step(Action.OVERDUE, note=f"已超过办理时限 {ticket.due_date}")
        if ticket.status in OPEN_STATUSES:
            step(Action.URGE, note=f"超期催办：请{lead}立即办理并答复")
            step(Action.SUPERVISE, note="超期督办")
        report.overdue.append(ticket.number)
    elif 0 <= left <= policy.due_soon_days and ticket.due_soon_at is None and not ticket.overdue_at:
        step(Action.DUE_SOON, note=f"剩余 {left} 个工作日（{ticket.due_date} 到期）")
        report.due_soon.append(ticket.number)
    if (
        ticket.overdue_at is not None
        and ticket.escalated_at is None
        and policy.working_days_left(policy.local_day(ticket.overdue_at), now)
        <= -policy.escalate_after_days
    ):
        step(Action.ESCALATE, note=f"超期 {policy.escalate_after_days} 个工作日仍未办结，升级督办")
        report.escalated.append(ticket.number)
    if ticket.status in OPEN_STATUSES:
        for part in late(ticket, now):
            what = "报到" if part.role is AssignmentRole.WHISTLE else "签收"
            step(Action.URGE, department=part.department, note=f"{what}超时催办")
            report.urged.append((ticket.number, part.department))
    return ticket
