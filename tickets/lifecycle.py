"""The ticket lifecycle: which action is allowed in which state, and what it changes.

``transition(ticket, action, actor, now, ...)`` returns a new :class:`Ticket`
with the change applied and one audit entry appended; anything the process does
not allow raises :class:`TransitionError`, which lists the actions that are
allowed.  The clock is the caller's ``now``; due dates come from a
:class:`DeadlinePolicy`.

Departments act with ``department`` (the department the actor works for):
the lead department (主办) signs, handles, drafts the reply, asks for more time
or to hand the ticket back, sends it down to a sub-unit (三级派单) or, as a
street, blows the whistle (街镇吹哨); co-handlers (协办) and whistled departments
sign or report in and report their part; the department's reviewer approves the
draft before it reaches the centre (内部审核).  Without ``department`` the
actor is the centre acting on the ticket as a whole.  Who may take which action
at all is :mod:`tickets.permissions`; the department-level changes are
:mod:`tickets.assignments`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from tickets.assignments import (
    DepartmentRules,
    dispatched,
    lead_of,
    reported,
    reported_in,
    signed,
    urged,
    whistled,
)
from tickets.deadlines import DeadlinePolicy
from tickets.model import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    WITH_DEPARTMENT,
    AssignmentRole,
    AuditEntry,
    ExtensionRequest,
    MergedCaller,
    Rating,
    ReplyDraft,
    RequestType,
    Resolution,
    ReturnRequest,
    Status,
    Ticket,
)

_Choice = TypeVar("_Choice", Rating, Resolution)


class Action(StrEnum):
    """What someone does to a ticket.  Chinese names (and a few older English
    ones) are accepted as aliases by :func:`parse_action`."""

    ACCEPT = "accept"
    DISCARD = "discard"
    LINK = "link"
    UNLINK = "unlink"
    MERGE = "merge"
    CLOSE_AT_ONCE = "close_at_once"
    DISPATCH = "dispatch"
    REDISPATCH = "redispatch"
    SIGN = "sign"
    RETURN = "request_return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    START = "start"
    NOTE = "note"
    WHISTLE = "whistle"
    REPORT_IN = "report_in"
    REPORT = "report"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    SUPERVISE = "supervise"
    URGE = "urge"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ESCALATE = "escalate"
    REPLY = "reply"
    APPROVE_REPLY = "approve_reply"
    RETURN_REPLY = "return_reply"
    REJECT_REPLY = "reject_reply"
    CLOSE = "close"
    CALLBACK = "callback"
    RATE = "rate"
    FLAG_REVIEW = "flag_review"
    VERIFICATION_ATTEMPT = "verification_attempt"
    UPHOLD = "uphold"
    REOPEN = "reopen"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: Mapping[Action, str] = {
    Action.ACCEPT: "受理",
    Action.DISCARD: "作废",
    Action.LINK: "关联重复",
    Action.UNLINK: "取消关联",
    Action.MERGE: "并单",
    Action.CLOSE_AT_ONCE: "即时办结",
    Action.DISPATCH: "派单",
    Action.REDISPATCH: "下派",
    Action.SIGN: "签收",
    Action.RETURN: "申请退单",
    Action.APPROVE_RETURN: "改派",
    Action.REJECT_RETURN: "退单驳回",
    Action.START: "办理",
    Action.NOTE: "办理进展",
    Action.WHISTLE: "吹哨",
    Action.REPORT_IN: "报到",
    Action.REPORT: "反馈",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.APPROVE_EXTENSION: "同意延期",
    Action.REFUSE_EXTENSION: "不同意延期",
    Action.SUPERVISE: "督办",
    Action.URGE: "催办",
    Action.DUE_SOON: "即将超期",
    Action.OVERDUE: "超期",
    Action.ESCALATE: "升级督办",
    Action.REPLY: "答复",
    Action.APPROVE_REPLY: "审核通过",
    Action.RETURN_REPLY: "审核退回",
    Action.REJECT_REPLY: "退回重办",
    Action.CLOSE: "办结",
    Action.CALLBACK: "回访",
    Action.RATE: "评价",
    Action.FLAG_REVIEW: "回访复核",
    Action.VERIFICATION_ATTEMPT: "回访记录",
    Action.UPHOLD: "维持办结",
    Action.REOPEN: "重办",
}

ACTION_ALIASES: Mapping[str, Action] = {
    **{label: action for action, label in ACTION_LABELS.items()},
    "退单": Action.RETURN,
    "return": Action.RETURN,
    "延期": Action.REQUEST_EXTENSION,
    "审核": Action.APPROVE_REPLY,
}

# Taken by the node itself (the deadline sweep), never by a person.
SYSTEM_ACTIONS = frozenset(
    {
        Action.DUE_SOON,
        Action.OVERDUE,
        Action.ESCALATE,
        Action.MERGE,
        Action.FLAG_REVIEW,
        Action.VERIFICATION_ATTEMPT,
    }
)
# A co-handler's or whistled department's own part: allowed while a department
# holds the ticket, whatever the lead is doing.
PART_ACTIONS = frozenset({Action.SIGN, Action.REPORT_IN, Action.REPORT, Action.NOTE})
# Only the lead department itself: sending the ticket down, calling others in.
LEAD_ONLY = frozenset({Action.REDISPATCH, Action.WHISTLE})


class TransitionError(Exception):
    """The action is not allowed now, or lacks what the process requires (a reason,
    a department, a rating).  Retrying the same call cannot help."""

    retryable = False

    def __init__(self, message: str, allowed: tuple[Action, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True, slots=True)
class Rule:
    """An action's states before (``sources``) and after (``target``; ``None``
    keeps the state), and whether a reason must be given."""

    sources: frozenset[Status]
    target: Status | None
    needs_reason: bool = False


def _from(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


_HELD = _from(Status.SIGNED, Status.HANDLING)
_MERGEABLE = OPEN_STATUSES | _from(Status.DRAFT, Status.ACCEPTED, Status.REPLIED)
_VERIFIED = _from(Status.CLOSED, Status.CALLED_BACK, Status.RATED)  # closed, maybe called back

RULES: Mapping[Action, Rule] = {
    Action.ACCEPT: Rule(_from(Status.DRAFT), Status.ACCEPTED),
    Action.DISCARD: Rule(_from(Status.DRAFT), Status.DISCARDED, needs_reason=True),
    Action.LINK: Rule(_from(Status.DRAFT, Status.ACCEPTED), Status.LINKED),
    Action.UNLINK: Rule(_from(Status.LINKED), Status.DRAFT, needs_reason=True),
    Action.MERGE: Rule(_MERGEABLE, None),
    Action.CLOSE_AT_ONCE: Rule(_from(Status.ACCEPTED), Status.CLOSED),
    Action.DISPATCH: Rule(_from(Status.ACCEPTED), Status.DISPATCHED),
    Action.REDISPATCH: Rule(_from(Status.DISPATCHED) | _HELD, Status.DISPATCHED),
    Action.SIGN: Rule(_from(Status.DISPATCHED), Status.SIGNED),
    Action.RETURN: Rule(_from(Status.DISPATCHED) | _HELD, Status.RETURNED, needs_reason=True),
    Action.APPROVE_RETURN: Rule(_from(Status.RETURNED), Status.DISPATCHED, needs_reason=True),
    Action.REJECT_RETURN: Rule(_from(Status.RETURNED), None, needs_reason=True),
    Action.START: Rule(_from(Status.SIGNED), Status.HANDLING),
    Action.NOTE: Rule(_HELD | _from(Status.REVIEWING), None),
    Action.WHISTLE: Rule(_HELD, None),
    Action.REPORT_IN: Rule(WITH_DEPARTMENT, None),
    Action.REPORT: Rule(WITH_DEPARTMENT, None),
    Action.REQUEST_EXTENSION: Rule(_HELD | _from(Status.REVIEWING), None, needs_reason=True),
    Action.APPROVE_EXTENSION: Rule(_HELD | _from(Status.REVIEWING), None),
    Action.REFUSE_EXTENSION: Rule(_HELD | _from(Status.REVIEWING), None, needs_reason=True),
    Action.SUPERVISE: Rule(OPEN_STATUSES, None),
    Action.URGE: Rule(OPEN_STATUSES, None),
    Action.DUE_SOON: Rule(RUNNING_STATUSES, None),
    Action.OVERDUE: Rule(RUNNING_STATUSES, None),
    Action.ESCALATE: Rule(RUNNING_STATUSES, None),
    Action.REPLY: Rule(_HELD, Status.REVIEWING),
    Action.APPROVE_REPLY: Rule(_from(Status.REVIEWING), Status.REPLIED),
    Action.RETURN_REPLY: Rule(_from(Status.REVIEWING), Status.HANDLING, needs_reason=True),
    Action.REJECT_REPLY: Rule(_from(Status.REPLIED), Status.HANDLING, needs_reason=True),
    Action.CLOSE: Rule(_from(Status.REPLIED), Status.CLOSED),
    Action.CALLBACK: Rule(_from(Status.CLOSED), Status.CALLED_BACK),
    Action.RATE: Rule(_from(Status.CALLED_BACK), Status.RATED),
    Action.FLAG_REVIEW: Rule(_VERIFIED, None),
    Action.VERIFICATION_ATTEMPT: Rule(_VERIFIED, None),  # a 回访 try that rated nothing
    Action.UPHOLD: Rule(_VERIFIED, None, needs_reason=True),
    Action.REOPEN: Rule(_VERIFIED, Status.HANDLING, needs_reason=True),
}

# Request types an agent may close during the call (即时办结): a question answered.
CLOSABLE_AT_ONCE = frozenset({RequestType.CONSULTATION})


def parse_action(text: str) -> Action:
    """An action from its English name (``approve_return``, ``approve-return``) or
    its Chinese name (改派); ``ValueError`` naming the choices otherwise."""
    key = text.strip()
    if key in ACTION_ALIASES:
        return ACTION_ALIASES[key]
    normal = key.lower().replace("-", "_")
    if normal in ACTION_ALIASES:
        return ACTION_ALIASES[normal]
    try:
        return Action(normal)
    except ValueError:
        names = ", ".join(a.value for a in Action)
        raise ValueError(f"there is no action {text!r}; actions are: {names}") from None


def _part_refusal(ticket: Ticket, action: Action, department: str) -> str | None | bool:
    """For a department with a co or whistle part: why it cannot take ``action``,
    ``None`` when it can, ``False`` when the action is not about its part."""
    part = ticket.assignment_of(department) if department else None
    if part is None or part.role is AssignmentRole.LEAD or action not in PART_ACTIONS:
        return False
    if ticket.status not in WITH_DEPARTMENT:
        return f"not while the ticket is {ticket.status.label}"
    whistled = part.role is AssignmentRole.WHISTLE
    if action is Action.SIGN:
        if whistled:
            return "a department called in by the whistle reports in (report_in), not sign"
        return "already signed" if part.signed_at else None
    if action is Action.REPORT_IN:
        if not whistled:
            return "only a department called in by the whistle reports in"
        return "already reported in" if part.signed_at else None
    if action is Action.REPORT:
        if part.signed_at is None:
            return "sign for it (or report in) first"
        return "its part is already reported" if part.reported_at else None
    return None  # a note


def _state_refusal(ticket: Ticket, action: Action, department: str = "") -> str | None:
    """Why ``action`` cannot be taken on ``ticket`` as it stands (by ``department``,
    when a department acts), or ``None``."""
    part = _part_refusal(ticket, action, department)
    if part is not False:
        return part if isinstance(part, str) else None
    rule = RULES[action]
    if ticket.status not in rule.sources:
        return f"not allowed in state {ticket.status} ({ticket.status.label})"
    if action is Action.CLOSE_AT_ONCE and ticket.request_type not in CLOSABLE_AT_ONCE:
        return (
            f"only a {RequestType.CONSULTATION.value} can be closed at once; "
            f"this is a {ticket.request_type.value}: dispatch it"
        )
    if action is Action.REOPEN and not (ticket.verification_review or disputed(ticket)):
        return "only a ticket the citizen said is unsolved, or rated 差评, is handled again"
    if action is Action.UPHOLD and not ticket.verification_review:
        return "no 回访 result of this ticket awaits review"
    if action is Action.FLAG_REVIEW and ticket.verification_review:
        return "already awaiting review"
    if action is Action.REQUEST_EXTENSION and ticket.extension is not None:
        return "an extension request is already waiting for approval"
    if action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION) and ticket.extension is None:
        return "there is no extension request to decide"
    if action in (Action.REPORT_IN, Action.REPORT):
        return "only a co-handling or whistled department reports its part"
    lead = lead_of(ticket)
    if action in LEAD_ONLY and (not department or lead is None or department != lead.department):
        return "only the lead department does that"
    if action is Action.APPROVE_REPLY and ticket.reply_draft is None:
        return "there is no drafted reply to approve"
    if action is Action.REPLY and ticket.reports_missing:
        return f"waiting for the parts of {', '.join(ticket.reports_missing)}"
    if action is Action.DUE_SOON and (ticket.due_soon_at or ticket.overdue_at):
        return "already marked"
    if action is Action.OVERDUE and ticket.overdue_at:
        return "already marked overdue"
    if action is Action.ESCALATE and (ticket.overdue_at is None or ticket.escalated_at):
        return "escalated already, or not overdue"
    return None


def allowed_actions(
    ticket: Ticket, department: str = "", with_system: bool = False
) -> tuple[Action, ...]:
    """Every action a person may take as the ticket's state stands now (acting for
    ``department``, when given); ``with_system`` adds the node's own (sweep, merge)."""
    return tuple(
        a
        for a in Action
        if (with_system or a not in SYSTEM_ACTIONS)
        and _state_refusal(ticket, a, department) is None
    )


def transition(
    ticket: Ticket,
    action: Action | str,
    actor: str,
    now: datetime,
    *,
    reason: str = "",
    department: str = "",
    co_departments: tuple[str, ...] | None = None,
    rating: Rating | str | None = None,
    resolution: Resolution | str | None = None,
    working_days: int | None = None,
    linked_to: str = "",
    note: str = "",
    caller_number: str = "",
    attachments: tuple[str, ...] = (),
    by_department: str = "",
    policy: DeadlinePolicy | None = None,
    rules: DepartmentRules | None = None,
) -> Ticket:
    """The ticket after ``actor`` takes ``action`` at ``now``.

    - ``department`` (and ``co_departments``): the department the ticket goes to,
      for dispatch, redispatch (a sub-unit of the lead) and approving a return (改派:
      another department; empty takes the one the request suggested); for
      request_return, the department it should go to; for whistle,
      ``co_departments`` are the departments called in;
    - ``by_department``: the department ``actor`` acts for (empty: the centre);
    - ``rating``: 非常满意, 满意, 基本满意, 不满意 or 非常不满意, for rate, with
      ``resolution`` (已解决, 部分解决, 未解决) when the citizen said it: 未解决,
      部分解决 or 差评 leave the ticket awaiting the centre's review (重办 or 维持办结);
    - ``working_days``: days asked for by request_extension (approve_extension
      may grant a different number);
    - ``linked_to``: the earlier ticket's number, for link; the repeat's number, for merge
      (with ``caller_number``, the citizen to call back too);
    - ``note``: the reply text for reply and close_at_once, a department's part for
      report, free text otherwise; ``attachments``: stored attachments' ids a note refers to;
    - ``rules``: the department directory (its sub-units, sign and report-in times).

    Raises :class:`TransitionError` naming the allowed actions.
    """
    if rules is not None:
        ticket = in_directory(ticket, rules)
    if isinstance(action, str) and not isinstance(action, Action):
        try:
            action = parse_action(action)
        except ValueError as exc:
            raise TransitionError(str(exc), allowed_actions(ticket, by_department)) from None
    allowed = allowed_actions(ticket, by_department)

    def refuse(message: str) -> TransitionError:
        names = ", ".join(a.value for a in allowed) or "none (the ticket is finished)"
        return TransitionError(
            f"{ticket.number}: cannot {action}: {message}; allowed now: {names}", allowed
        )

    problem = _state_refusal(ticket, action, by_department)
    if problem is not None:
        raise refuse(problem)
    if not actor.strip():
        raise refuse("needs an actor (who does it)")
    rule = RULES[action]
    reason = reason.strip()
    if rule.needs_reason and not reason:
        raise refuse("needs a reason")
    policy = policy or DeadlinePolicy()
    changes: dict[str, object] = {}
    details: dict[str, str] = {}
    if by_department:
        details["by_department"] = by_department
    try:
        department = _unit(rules, department)
        if co_departments is not None:
            co_departments = tuple(_unit(rules, d) for d in co_departments if d.strip())
    except LookupError as exc:
        raise refuse(str(exc)) from None
    target = rule.target
    note = note.strip()
    match action:
        case Action.ACCEPT:
            # First contact: the agent who takes it answers for it to the end.
            changes["owner"] = ticket.owner or actor
        case Action.UNLINK:
            details["linked_to"] = ticket.linked_to
            changes["linked_to"] = ""
            changes["closed_at"] = None
        case Action.LINK:
            if not linked_to or linked_to == ticket.number:
                raise refuse("needs the number of an earlier ticket (linked_to)")
            changes["linked_to"] = details["linked_to"] = linked_to
            changes["closed_at"] = now
        case Action.MERGE:
            if not linked_to or linked_to == ticket.number:
                raise refuse("needs the number of the repeat merged in (linked_to)")
            merged = MergedCaller(caller_number.strip(), linked_to, now)
            if all(m.ticket != linked_to for m in ticket.merged_callers):
                changes["merged_callers"] = (*ticket.merged_callers, merged)
            details["linked_to"] = linked_to
            if caller_number.strip():
                details["caller_number"] = caller_number.strip()
        case Action.CLOSE_AT_ONCE:
            if not note:
                raise refuse("needs the answer given to the caller (note)")
            changes["reply"] = note
            changes["closed_at"] = now
        case Action.DISPATCH | Action.APPROVE_RETURN | Action.REDISPATCH:
            asked = ticket.return_request
            if action is Action.APPROVE_RETURN and not department and asked is not None:
                department = asked.suggested
            if not department:
                raise refuse("needs a lead department")
            current = lead_of(ticket)
            leaving = current.department if current else ticket.lead_department
            if action is not Action.DISPATCH and department == leaving:
                raise refuse(f"send it to another department, not {department} again")
            if (
                action is Action.REDISPATCH
                and rules is not None
                and not rules.is_within(department, by_department)
            ):
                raise refuse(
                    f"{department} is not a sub-unit of {by_department}: "
                    "only the centre sends a ticket sideways"
                )
            co = tuple(co_departments) if co_departments is not None else None
            if action is Action.REDISPATCH:
                co = None  # the co-handlers stay
            assignments = dispatched(ticket, department, co, actor, now, policy, rules)
            changes["assignments"] = assignments
            changes["lead_department"] = details["department"] = department
            changes["co_departments"] = tuple(
                a.department for a in assignments if a.role is AssignmentRole.CO
            )
            if co is not None:
                details["co_departments"] = ",".join(co)
            if action is not Action.REDISPATCH:
                changes["due_date"] = policy.due_date(
                    ticket.request_type, now, ticket.category_code, bool(ticket.emergency_number)
                )
                changes["due_soon_at"] = changes["overdue_at"] = changes["escalated_at"] = None
            if leaving and action is not Action.DISPATCH:
                details["previous_department"] = leaving
            changes["return_request"] = None
        case Action.SIGN | Action.REPORT_IN:
            changes["assignments"] = (
                signed(ticket, by_department, now)
                if action is Action.SIGN
                else reported_in(ticket, by_department, now)
            )
            details["department"] = by_department or ticket.lead_department
            # A co-handler's own signature leaves the ticket where the lead has it.
            target = Status.SIGNED if action is Action.SIGN else None
            if _is_part(ticket, by_department):
                target = None
        case Action.NOTE:
            if not note:
                raise refuse("needs the progress to record (note)")
        case Action.REPORT:
            if not note:
                raise refuse("needs the department's part (note)")
            changes["assignments"] = reported(ticket, by_department, note, now)
            details["department"] = by_department
            details["report"] = note
        case Action.WHISTLE:
            called = tuple(d.strip() for d in (co_departments or ()) if d.strip())
            if not called:
                raise refuse("needs the departments called in (co_departments)")
            changes["assignments"] = whistled(ticket, called, actor, now, policy, rules)
            details["departments"] = ",".join(called)
        case Action.RETURN:
            if not department:
                raise refuse("needs the department it should go to (department)")
            returning = by_department or ticket.lead_department
            if department == returning:
                raise refuse("name another department than the one handing it back")
            changes["return_request"] = ReturnRequest(
                now, actor, returning, reason, department, ticket.status
            )
            details["department"] = returning
            details["suggested"] = department
        case Action.REJECT_RETURN:
            asked = ticket.return_request
            target = asked.previous_status if asked else Status.DISPATCHED
            details["department"] = asked.department if asked else ticket.lead_department
            changes["return_request"] = None
        case Action.REQUEST_EXTENSION:
            if working_days is None or working_days < 1:
                raise refuse("needs the working days asked for (1 or more)")
            changes["extension"] = ExtensionRequest(now, actor, working_days, reason)
            details["working_days"] = str(working_days)
        case Action.APPROVE_EXTENSION:
            assert ticket.extension is not None
            granted = working_days or ticket.extension.working_days
            if granted < 1:
                raise refuse("grant 1 working day or more")
            changes["due_date"] = policy.extend(ticket.due_date, granted)
            changes["extension"] = None
            changes["due_soon_at"] = changes["overdue_at"] = changes["escalated_at"] = None
            details["working_days"] = str(granted)
        case Action.REFUSE_EXTENSION:
            changes["extension"] = None
        case Action.SUPERVISE:
            changes["supervised"] = True
        case Action.URGE if department:
            # 催办 of one department: the sweep's for a missed time to sign or report in.
            changes["assignments"] = urged(ticket, department, now)
            details["department"] = department
        case Action.DUE_SOON:
            changes["due_soon_at"] = now
        case Action.OVERDUE:
            changes["overdue_at"] = now
            changes["supervised"] = True
        case Action.ESCALATE:
            changes["escalated_at"] = now
        case Action.REPLY:
            if not note:
                raise refuse("needs the department's answer (note)")
            lead = lead_of(ticket)
            drafter = by_department or (lead.department if lead else ticket.lead_department)
            changes["reply_draft"] = ReplyDraft(note, now, actor, drafter)
            details["reply"] = note
        case Action.APPROVE_REPLY:
            draft = ticket.reply_draft
            assert draft is not None
            changes["reply"] = draft.text
            changes["reply_draft"] = None
            details["drafted_by"] = draft.drafted_by
        case Action.RETURN_REPLY:
            changes["reply_draft"] = None
        case Action.REJECT_REPLY:
            details["redo"] = "1"  # 重办: counted in the department's figures
            details["department"] = ticket.lead_department
        case Action.CLOSE:
            changes["closed_at"] = now
        case Action.RATE:
            value = _choice(Rating, rating, "rating", refuse)
            solved = _choice(Resolution, resolution, "resolution", refuse)
            if value is None and solved is None:
                choices = ", ".join(r.value for r in Rating)
                raise refuse(f"needs a rating ({choices}) or whether it was solved")
            changes["rating"], changes["resolution"] = value, solved
            if value is not None:
                details["rating"] = value.value
            if solved is not None:
                details["resolution"] = solved.value
            if _disputed(value, solved):
                changes["verification_review"] = True
        case Action.FLAG_REVIEW:
            changes["verification_review"] = True
        case Action.VERIFICATION_ATTEMPT if caller_number.strip():
            details["caller_number"] = caller_number.strip()  # which citizen was tried
        case Action.UPHOLD:
            changes["verification_review"] = False
        case Action.REOPEN:
            changes["rating"] = None
            changes["resolution"] = None
            changes["verification_review"] = False
            changes["redo_count"] = ticket.redo_count + 1
            changes["reply"] = ""
            changes["closed_at"] = None
            changes["due_date"] = policy.due_date(ticket.request_type, now, ticket.category_code)
            changes["due_soon_at"] = changes["overdue_at"] = changes["escalated_at"] = None
            details["redo"] = "1"
            details["department"] = ticket.lead_department
        case _:
            pass  # state change (or none) and the audit entry only
    if "due_date" in changes and changes["due_date"] != ticket.due_date:
        details["due_date"] = f"{ticket.due_date} → {changes['due_date']}"
    if note and action not in (Action.REPLY, Action.CLOSE_AT_ONCE, Action.REPORT):
        details["note"] = note
    if attachments:
        details["attachments"] = ",".join(attachments)
    target = target or ticket.status
    entry = AuditEntry(now, actor, action.value, ticket.status, target, reason, details)
    return dataclasses.replace(
        ticket, status=target, updated_at=now, audit=(*ticket.audit, entry), **changes
    )


def _choice(
    kind: type[_Choice], value: object, name: str, refuse: Callable[[str], TransitionError]
) -> _Choice | None:
    """``value`` as one of ``kind`` (None when not given); refused naming the choices."""
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise refuse(f"{value!r} is not a {name}: one of {choices}") from None


def _disputed(rating: Rating | None, resolution: Resolution | None) -> bool:
    unsolved = resolution in (Resolution.UNSOLVED, Resolution.PARTLY)
    return unsolved or (rating is not None and rating.is_bad)


def disputed(ticket: Ticket) -> bool:
    """未解决, 部分解决 or 差评: what the citizen said calls for the centre's review."""
    return _disputed(ticket.rating, ticket.resolution)


def in_directory(ticket: Ticket, rules: DepartmentRules) -> Ticket:
    """``ticket`` with its departments named by their directory ids (one dispatched
    before the directory named them by name or alias: 生态环境局 → city.ecology)."""

    def known(name: str) -> str:
        return str(getattr(rules.find(name), "id", "") or name) if name else name

    parts = tuple(
        dataclasses.replace(a, department=known(a.department)) for a in ticket.assignments
    )
    lead, co = known(ticket.lead_department), tuple(known(d) for d in ticket.co_departments)
    if (
        parts == ticket.assignments
        and lead == ticket.lead_department
        and co == ticket.co_departments
    ):
        return ticket
    return dataclasses.replace(ticket, assignments=parts, lead_department=lead, co_departments=co)


def _unit(rules: DepartmentRules | None, name: str) -> str:
    """The directory id of the department ``name`` (an id, name or alias); as given
    without a directory.  ``LookupError`` naming near departments if unknown."""
    name = name.strip()
    if not name or rules is None:
        return name
    found = rules.find(name)
    if found is None:
        near = getattr(rules, "near", None)
        close = ", ".join(str(getattr(d, "id", d)) for d in (near(name) if near else ())[:3])
        hint = f"; did you mean {close}?" if close else "; see hotline departments list"
        raise LookupError(f"there is no department {name!r} in the directory{hint}")
    return str(getattr(found, "id", name))


def _is_part(ticket: Ticket, department: str) -> bool:
    """``department`` co-handles the ticket or was called in by the whistle."""
    part = ticket.assignment_of(department) if department else None
    return part is not None and part.role is not AssignmentRole.LEAD
