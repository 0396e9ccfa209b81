"""Departments' parts in a ticket (主办, 协办, 吹哨报到) and how actions change them.

Pure functions from a :class:`~tickets.model.Ticket` to its new tuple of
:class:`~tickets.model.Assignment`; the lifecycle applies them.  Times to sign
or report in count office hours (:meth:`DeadlinePolicy.after_working_hours`)
of the department's own working hours when the directory names them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, time
from typing import Protocol

from tickets.deadlines import OFFICE_HOURS, DeadlinePolicy
from tickets.model import Assignment, AssignmentRole, Ticket

SIGN_WITHIN_HOURS = 2.0  # working hours to sign for a dispatched ticket, without a directory
REPORT_WITHIN_HOURS = 4.0  # working hours for a whistled department to report in


class DepartmentRules(Protocol):
    """What the lifecycle needs of the department directory (``tickets.departments``)."""

    sign_within_hours: float
    report_within_hours: float

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        """``unit_id`` is strictly below ``ancestor_id`` (a street within its district)."""
        ...

    def find(self, key: str) -> object | None:
        """The department with this id, name or alias (with ``working_hours`` and
        ``level``), or None."""
        ...

    def children(self, department_id: str) -> tuple[object, ...]:
        """The units directly below ``department_id``."""
        ...


def office_hours(rules: DepartmentRules | None, department: str) -> tuple[tuple[time, time], ...]:
    """``department``'s working hours from the directory, else the usual office hours."""
    found = rules.find(department) if rules is not None else None
    return tuple(getattr(found, "working_hours", ()) or ()) or OFFICE_HOURS


def lead_of(ticket: Ticket) -> Assignment | None:
    """The lead assignment; a ticket dispatched before assignments were kept has its
    ``lead_department`` only, which stands for one."""
    lead = ticket.lead
    if lead is None and ticket.lead_department:
        assigned = ticket.updated_at or ticket.created_at
        return Assignment(ticket.lead_department, AssignmentRole.LEAD, assigned, "system")
    return lead


def _with_lead(ticket: Ticket) -> tuple[Assignment, ...]:
    """The assignments with the implied lead of an older ticket made explicit."""
    lead = lead_of(ticket)
    if lead is not None and ticket.lead is None:
        return (lead, *ticket.assignments)
    return ticket.assignments


def _due(
    policy: DeadlinePolicy,
    rules: DepartmentRules | None,
    department: str,
    now: datetime,
    hours: float,
) -> datetime:
    return policy.after_working_hours(now, hours, office_hours(rules, department))


def dispatched(
    ticket: Ticket,
    lead: str,
    co: Sequence[str] | None,
    by: str,
    now: datetime,
    policy: DeadlinePolicy,
    rules: DepartmentRules | None,
) -> tuple[Assignment, ...]:
    """The parts after dispatching (or re-dispatching) to ``lead`` with co-handlers
    ``co`` (``None`` keeps the present co-handlers): each must sign within the
    directory's time.  Whistled departments keep their parts."""
    hours = rules.sign_within_hours if rules is not None else SIGN_WITHIN_HOURS

    def new(department: str, role: AssignmentRole) -> Assignment:
        return Assignment(department, role, now, by, _due(policy, rules, department, now, hours))

    kept_co = [a for a in ticket.assignments if a.role is AssignmentRole.CO]
    if co is not None:
        present = {a.department: a for a in kept_co}
        kept_co = [present.get(d) or new(d, AssignmentRole.CO) for d in dict.fromkeys(co)]
    kept_co = [a for a in kept_co if a.department != lead]
    whistle = [
        a for a in ticket.assignments if a.role is AssignmentRole.WHISTLE and a.department != lead
    ]
    return (new(lead, AssignmentRole.LEAD), *kept_co, *whistle)


def _replace(ticket: Ticket, department: str, **changes: object) -> tuple[Assignment, ...]:
    """The assignments with ``department``'s (the lead's when empty) changed."""
    parts = _with_lead(ticket)
    lead = lead_of(ticket)
    who = department or (lead.department if lead else "")
    return tuple(dataclasses.replace(a, **changes) if a.department == who else a for a in parts)


def signed(ticket: Ticket, department: str, now: datetime) -> tuple[Assignment, ...]:
    """``department`` (the lead's when empty) signed for it at ``now``."""
    return _replace(ticket, department, signed_at=now)


def reported_in(ticket: Ticket, department: str, now: datetime) -> tuple[Assignment, ...]:
    """A whistled department reported in (报到) at ``now``."""
    return _replace(ticket, department, signed_at=now)


def reported(ticket: Ticket, department: str, report: str, now: datetime) -> tuple[Assignment, ...]:
    """A co-handler or whistled department reported its part."""
    return _replace(ticket, department, reported_at=now, report=report)


def urged(ticket: Ticket, department: str, now: datetime) -> tuple[Assignment, ...]:
    """The sweep urged ``department`` for a missed time to sign or report in."""
    return _replace(ticket, department, urged_at=now)


def whistled(
    ticket: Ticket,
    called: Sequence[str],
    by: str,
    now: datetime,
    policy: DeadlinePolicy,
    rules: DepartmentRules | None,
) -> tuple[Assignment, ...]:
    """A street blew the whistle (街镇吹哨): each called department must report in
    (报到) within the directory's time; those already on the ticket keep their part."""
    hours = rules.report_within_hours if rules is not None else REPORT_WITHIN_HOURS
    parts = _with_lead(ticket)
    present = {a.department for a in parts}
    new = tuple(
        Assignment(d, AssignmentRole.WHISTLE, now, by, _due(policy, rules, d, now, hours))
        for d in dict.fromkeys(called)
        if d not in present
    )
    return (*parts, *new)


def late(ticket: Ticket, now: datetime) -> tuple[Assignment, ...]:
    """Parts past their time to sign or report in, not yet signed, not yet urged."""
    return tuple(
        a
        for a in ticket.assignments
        if a.due_at is not None and a.signed_at is None and a.urged_at is None and now > a.due_at
    )
