"""The ticket lifecycle: which action is allowed in which state, and what it changes.

``transition(ticket, action, actor, now, ...)`` returns a new :class:`Ticket`
with the change applied and one audit entry appended; anything the process does
not allow raises :class:`TransitionError`, which lists the actions that are
allowed.  The clock is the caller's ``now``; due dates come from a
:class:`DeadlinePolicy`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tickets.deadlines import DeadlinePolicy
from tickets.model import (
    OPEN_STATUSES,
    AuditEntry,
    ExtensionRequest,
    Rating,
    RequestType,
    Status,
    Ticket,
)


class Action(StrEnum):
    """What someone does to a ticket.  Chinese names are accepted as aliases by
    :func:`parse_action`."""

    ACCEPT = "accept"
    DISCARD = "discard"
    LINK = "link"
    UNLINK = "unlink"
    CLOSE_AT_ONCE = "close_at_once"
    DISPATCH = "dispatch"
    SIGN = "sign"
    RETURN = "return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    START = "start"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    SUPERVISE = "supervise"
    URGE = "urge"
    REPLY = "reply"
    REJECT_REPLY = "reject_reply"
    CLOSE = "close"
    CALLBACK = "callback"
    RATE = "rate"
    REOPEN = "reopen"


ACTION_ALIASES: Mapping[str, Action] = {
    "受理": Action.ACCEPT,
    "派单": Action.DISPATCH,
    "签收": Action.SIGN,
    "办理": Action.START,
    "答复": Action.REPLY,
    "办结": Action.CLOSE,
    "回访": Action.CALLBACK,
    "评价": Action.RATE,
    "退单": Action.RETURN,
    "改派": Action.APPROVE_RETURN,
    "延期": Action.REQUEST_EXTENSION,
    "督办": Action.SUPERVISE,
    "催办": Action.URGE,
    "重办": Action.REOPEN,
    "即时办结": Action.CLOSE_AT_ONCE,
}


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


_EXTENDABLE = _from(Status.SIGNED, Status.HANDLING)

RULES: Mapping[Action, Rule] = {
    Action.ACCEPT: Rule(_from(Status.DRAFT), Status.ACCEPTED),
    Action.DISCARD: Rule(_from(Status.DRAFT), Status.DISCARDED, needs_reason=True),
    Action.LINK: Rule(_from(Status.DRAFT, Status.ACCEPTED), Status.LINKED),
    Action.UNLINK: Rule(_from(Status.LINKED), Status.DRAFT, needs_reason=True),
    Action.CLOSE_AT_ONCE: Rule(_from(Status.ACCEPTED), Status.CLOSED),
    Action.DISPATCH: Rule(_from(Status.ACCEPTED), Status.DISPATCHED),
    Action.SIGN: Rule(_from(Status.DISPATCHED), Status.SIGNED),
    Action.RETURN: Rule(_from(Status.DISPATCHED, Status.SIGNED), Status.RETURNED, True),
    Action.APPROVE_RETURN: Rule(_from(Status.RETURNED), Status.DISPATCHED, needs_reason=True),
    Action.REJECT_RETURN: Rule(_from(Status.RETURNED), Status.DISPATCHED, needs_reason=True),
    Action.START: Rule(_from(Status.SIGNED), Status.HANDLING),
    Action.REQUEST_EXTENSION: Rule(_EXTENDABLE, None, needs_reason=True),
    Action.APPROVE_EXTENSION: Rule(_EXTENDABLE, None),
    Action.REFUSE_EXTENSION: Rule(_EXTENDABLE, None, needs_reason=True),
    Action.SUPERVISE: Rule(OPEN_STATUSES, None),
    Action.URGE: Rule(OPEN_STATUSES, None),
    Action.REPLY: Rule(_from(Status.HANDLING), Status.REPLIED),
    Action.REJECT_REPLY: Rule(_from(Status.REPLIED), Status.HANDLING, needs_reason=True),
    Action.CLOSE: Rule(_from(Status.REPLIED), Status.CLOSED),
    Action.CALLBACK: Rule(_from(Status.CLOSED), Status.CALLED_BACK),
    Action.RATE: Rule(_from(Status.CALLED_BACK), Status.RATED),
    Action.REOPEN: Rule(_from(Status.RATED), Status.HANDLING, needs_reason=True),
}

# Request types an agent may close during the call (即时办结): a question answered.
CLOSABLE_AT_ONCE = frozenset({RequestType.CONSULTATION})


def parse_action(text: str) -> Action:
    """An action from its English name (``approve_return``, ``approve-return``) or
    its Chinese name (改派); ``ValueError`` naming the choices otherwise."""
    key = text.strip()
    if key in ACTION_ALIASES:
        return ACTION_ALIASES[key]
    try:
        return Action(key.lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(a.value for a in Action)
        raise ValueError(f"there is no action {text!r}; actions are: {names}") from None


def _state_refusal(ticket: Ticket, action: Action) -> str | None:
    """Why ``action`` cannot be taken on ``ticket`` as it stands, or ``None``."""
    rule = RULES[action]
    if ticket.status not in rule.sources:
        return f"not allowed in state {ticket.status} ({ticket.status.label})"
    if action is Action.CLOSE_AT_ONCE and ticket.request_type not in CLOSABLE_AT_ONCE:
        return (
            f"only a {RequestType.CONSULTATION.value} can be closed at once; "
            f"this is a {ticket.request_type.value}: dispatch it"
        )
    if action is Action.REOPEN and ticket.rating is not Rating.DISSATISFIED:
        return f"only a ticket rated {Rating.DISSATISFIED.value} can be handled again"
    if action is Action.REQUEST_EXTENSION and ticket.extension is not None:
        return "an extension request is already waiting for approval"
    if action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION) and ticket.extension is None:
        return "there is no extension request to decide"
    return None


def allowed_actions(ticket: Ticket) -> tuple[Action, ...]:
    """Every action the ticket's state allows now."""
    return tuple(a for a in Action if _state_refusal(ticket, a) is None)


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
    working_days: int | None = None,
    linked_to: str = "",
    note: str = "",
    policy: DeadlinePolicy | None = None,
) -> Ticket:
    """The ticket after ``actor`` takes ``action`` at ``now``.

    - ``department`` (and ``co_departments``): the lead department for dispatch
      and for approving a return (改派, which must name another department);
    - ``rating``: 满意, 基本满意 or 不满意, for rate;
    - ``working_days``: days asked for by request_extension (approve_extension
      may grant a different number);
    - ``linked_to``: the earlier ticket's number, for link;
    - ``note``: the reply text for reply and close_at_once, free text otherwise.

    Raises :class:`TransitionError` naming the allowed actions.
    """
    if isinstance(action, str) and not isinstance(action, Action):
        try:
            action = parse_action(action)
        except ValueError as exc:
            raise TransitionError(str(exc), allowed_actions(ticket)) from None
    allowed = allowed_actions(ticket)

    def refuse(message: str) -> TransitionError:
        names = ", ".join(a.value for a in allowed) or "none (the ticket is finished)"
        return TransitionError(
            f"{ticket.number}: cannot {action}: {message}; allowed now: {names}", allowed
        )

    problem = _state_refusal(ticket, action)
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
    department = department.strip()
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
        case Action.CLOSE_AT_ONCE:
            if not note.strip():
                raise refuse("needs the answer given to the caller (note)")
            changes["reply"] = note.strip()
            changes["closed_at"] = now
        case Action.DISPATCH | Action.APPROVE_RETURN:
            if not department:
                raise refuse("needs a lead department")
            if action is Action.APPROVE_RETURN and department == ticket.lead_department:
                raise refuse(f"re-dispatch to another department, not {department} again")
            changes["lead_department"] = details["department"] = department
            if co_departments is not None:
                changes["co_departments"] = tuple(co_departments)
                details["co_departments"] = ",".join(co_departments)
            changes["due_date"] = policy.due_date(ticket.request_type, now)
            if action is Action.APPROVE_RETURN:
                details["previous_department"] = ticket.lead_department
        case Action.RETURN | Action.REJECT_RETURN:
            details["department"] = ticket.lead_department
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
            details["working_days"] = str(granted)
        case Action.REFUSE_EXTENSION:
            changes["extension"] = None
        case Action.REPLY:
            if not note.strip():
                raise refuse("needs the department's answer (note)")
            changes["reply"] = note.strip()
        case Action.CLOSE:
            changes["closed_at"] = now
        case Action.RATE:
            try:
                value = Rating(rating) if rating is not None else None
            except ValueError:
                value = None
            if value is None:
                choices = ", ".join(r.value for r in Rating)
                raise refuse(f"needs a rating: one of {choices}")
            changes["rating"] = value
            details["rating"] = value.value
        case Action.REOPEN:
            changes["rating"] = None
            changes["reply"] = ""
            changes["closed_at"] = None
            changes["due_date"] = policy.due_date(ticket.request_type, now)
        case _:
            pass  # state change (or none) and the audit entry only
    if "due_date" in changes and changes["due_date"] != ticket.due_date:
        details["due_date"] = f"{ticket.due_date} → {changes['due_date']}"
    if note.strip() and action not in (Action.REPLY, Action.CLOSE_AT_ONCE):
        details["note"] = note.strip()
    target = rule.target or ticket.status
    entry = AuditEntry(now, actor, action.value, ticket.status, target, reason, details)
    return dataclasses.replace(
        ticket, status=target, updated_at=now, audit=(*ticket.audit, entry), **changes
    )
