"""Who may see a ticket and take which action on it: the one rule the web, the CLI
(``hotline tickets transition … --as USER``) and integrations share.

- The centre: supervisors and admins see every ticket and take every person's
  action; QA staff see every ticket and change none; an agent sees the tickets
  they own (and the one of their current call, which the web knows) and takes
  the centre's everyday actions, not the supervisory ones
  (:data:`SUPERVISOR_ACTIONS`).
- Departments: a ``department_handler`` or ``department_reviewer`` is bound to a
  department.  They see the tickets their department has a part in (主办, 协办,
  吹哨报到) and those of its sub-units (a district sees its streets'), never
  others' — to them another ticket does not exist.  They act only where their
  own department has a part: the handler signs, handles, drafts the reply, asks
  for more time or to hand it back, sends it down, blows the whistle, reports
  in and reports a part; the reviewer approves or returns the draft (内部审核).
- The deadline sweep's marks (:data:`~tickets.lifecycle.SYSTEM_ACTIONS`) are the
  node's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tickets.assignments import DepartmentRules, lead_of
from tickets.lifecycle import SYSTEM_ACTIONS, Action, allowed_actions
from tickets.model import Ticket


class Role(StrEnum):
    """Account roles, as ``web.roles`` and the accounts store name them."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"
    DEPARTMENT_HANDLER = "department_handler"
    DEPARTMENT_REVIEWER = "department_reviewer"


DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_REVIEWER})

# Actions that decide over departments and deadlines: supervisors and admins only.
SUPERVISOR_ACTIONS = frozenset(
    {
        Action.APPROVE_RETURN,
        Action.REJECT_RETURN,
        Action.APPROVE_EXTENSION,
        Action.REFUSE_EXTENSION,
        Action.SUPERVISE,
        Action.URGE,
        Action.REOPEN,
    }
)
HANDLER_ACTIONS = frozenset(
    {
        Action.SIGN,
        Action.START,
        Action.NOTE,
        Action.RETURN,
        Action.REQUEST_EXTENSION,
        Action.REPLY,
        Action.REDISPATCH,
        Action.WHISTLE,
        Action.REPORT_IN,
        Action.REPORT,
    }
)
REVIEWER_ACTIONS = frozenset({Action.APPROVE_REPLY, Action.RETURN_REPLY, Action.NOTE})
DEPARTMENT_ACTIONS = HANDLER_ACTIONS | REVIEWER_ACTIONS


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone acting on tickets: the name their actions are recorded under, their
    role, the department they work for (department roles) and their agent id."""

    name: str
    role: Role
    department: str = ""
    agent_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            object.__setattr__(self, "role", Role(self.role))

    @property
    def in_department(self) -> bool:
        return self.role in DEPARTMENT_ROLES


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an actor may not: ``hidden`` means the ticket is not theirs to see (a 404,
    as if it did not exist); otherwise they see it but may not take the action."""

    reason: str
    hidden: bool = False


def _ids(rules: DepartmentRules | None, departments: set[str]) -> set[str]:
    """The departments as directory ids (a ticket dispatched before the directory
    may name its department by name or alias)."""
    if rules is None:
        return departments
    found = {getattr(rules.find(d), "id", "") for d in departments}
    return departments | {d for d in found if d}


def _theirs(actor: Actor, ticket: Ticket, rules: DepartmentRules | None) -> bool:
    """The actor's department, or one of its sub-units, has a part in the ticket."""
    mine = actor.department
    if not mine:
        return False
    lead = lead_of(ticket)
    departments = _ids(rules, {*ticket.departments, *((lead.department,) if lead else ())})
    if mine in departments:
        return True
    return rules is not None and any(rules.is_within(d, mine) for d in departments)


def may_see(
    actor: Actor, ticket: Ticket, rules: DepartmentRules | None = None, on_call: str = ""
) -> bool:
    """``actor`` may see ``ticket`` (``on_call``: the ticket of the agent's current call)."""
    if actor.in_department:
        return _theirs(actor, ticket, rules)
    if actor.role is Role.AGENT:
        own = bool(ticket.owner) and ticket.owner in {actor.agent_id, actor.name}
        return own or (bool(on_call) and ticket.number == on_call)
    return True


def acts_for(actor: Actor) -> str:
    """The department ``actor`` acts for in the lifecycle (empty: the centre)."""
    return actor.department if actor.in_department else ""


def _unit_refusal(actor: Actor, action: Action, rules: DepartmentRules | None) -> str | None:
    """What the actor's kind of unit cannot do: send down without sub-units, blow the
    whistle unless a street (街镇吹哨)."""
    if rules is None or not actor.in_department:
        return None
    if action is Action.REDISPATCH and not rules.children(actor.department):
        return "the department has no sub-units to send it down to"
    if action is Action.WHISTLE:
        level = getattr(rules.find(actor.department), "level", "")
        if str(level) != "street":
            return "only a street (街道) blows the whistle (街镇吹哨、部门报到)"
    return None


def _role_refusal(
    actor: Actor, ticket: Ticket, action: Action, rules: DepartmentRules | None = None
) -> str | None:
    if action in SYSTEM_ACTIONS:
        return f"{action.value} ({action.label}) is the node's own deadline sweep"
    match actor.role:
        case Role.QA:
            return "QA staff read tickets and change none"
        case Role.AGENT if action in SUPERVISOR_ACTIONS:
            return f"{action.value} ({action.label}) is for supervisors"
        case Role.DEPARTMENT_HANDLER if action not in HANDLER_ACTIONS:
            return f"a department's handler may not {action.value} ({action.label})"
        case Role.DEPARTMENT_REVIEWER if action not in REVIEWER_ACTIONS:
            return (
                f"a department's reviewer approves or returns the reply; "
                f"{action.value} ({action.label}) is not theirs"
            )
    if actor.in_department:
        lead = lead_of(ticket)
        parts = _ids(rules, {*ticket.departments, *((lead.department,) if lead else ())})
        if actor.department not in parts:
            return "a sub-unit's ticket: only the department with a part in it acts on it"
    return _unit_refusal(actor, action, rules)


def refusal(
    actor: Actor,
    ticket: Ticket,
    action: Action,
    rules: DepartmentRules | None = None,
    on_call: str = "",
) -> Refusal | None:
    """Why ``actor`` may not take ``action`` on ``ticket`` as a matter of who they are,
    or ``None`` (the lifecycle still decides whether the ticket's state allows it)."""
    if not may_see(actor, ticket, rules, on_call):
        return Refusal(f"there is no ticket {ticket.number}", hidden=True)
    reason = _role_refusal(actor, ticket, action, rules)
    return Refusal(reason) if reason else None


def actions_for(
    actor: Actor, ticket: Ticket, rules: DepartmentRules | None = None, on_call: str = ""
) -> tuple[Action, ...]:
    """The actions ``actor`` may take on ``ticket`` now: its state's and their role's."""
    if not may_see(actor, ticket, rules, on_call):
        return ()
    return tuple(
        a
        for a in allowed_actions(ticket, acts_for(actor))
        if _role_refusal(actor, ticket, a, rules) is None
    )
