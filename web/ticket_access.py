"""Who may see which ticket and take which action, as the web applies it: the rule is
:mod:`tickets.permissions` (the CLI's ``--as`` refuses alike); this module binds it
to one request's principal.

- Supervisors, admins and QA staff see every ticket (QA changes none).
- A verifier (回访员) reads every ticket as QA staff do and takes no lifecycle
  action: what the citizen said reaches the ticket through the 回访 task
  (``web.routers.verification``); they may attach the photos of a 现场核查.
- An agent sees the tickets they own (``owner`` their agent id or user name) and
  the ticket of the call they are on now (the console's view).
- A department's handler or reviewer sees the tickets their department, or one of
  its sub-units, has a part in; to them any other ticket does not exist (404).

Numbers are masked by ``web.masking``'s rule (in full for supervisors and admins,
and for an agent on the ticket of their current call; masked for department roles
and verifiers).
"""

from __future__ import annotations

from typing import Any

from tickets.departments import Directory
from tickets.lifecycle import Action
from tickets.model import Ticket
from tickets.permissions import Actor, Refusal, actions_for, acts_for, may_see, refusal
from web.context import WebContext
from web.deps import department_directory
from web.masking import mask_for
from web.roles import DEPARTMENT_ROLES, Principal, Role

# tickets.permissions knows the roles that act on tickets; a verifier reads as QA does.
_READS_AS = {Role.VERIFIER: Role.QA}
VERIFIER_TAKES_NONE = (
    "a verifier (回访员) takes no ticket action: enter what the citizen said on the "
    "回访 task (/verification)"
)


def actor_name(principal: Principal) -> str:
    """The name the ticket's history records for ``principal`` (and ``accept`` makes owner)."""
    return principal.agent_id or principal.username


def current_ticket(context: WebContext, principal: Principal) -> str:
    """The ticket number of the call the agent is on (or is offered) now, or ""."""
    if principal.role is not Role.AGENT or not principal.agent_id or context.console is None:
        return ""
    try:
        call = context.console.agent_view(principal.agent_id).get("call") or {}
    except LookupError:
        return ""
    return str(call.get("ticket") or "")


class TicketAccess:
    """What one request's principal may see and do with tickets."""

    def __init__(self, context: WebContext, principal: Principal) -> None:
        self.context = context
        self.principal = principal
        self.directory: Directory = department_directory(context)
        self.on_call = current_ticket(context, principal)
        # ``name`` is the user name: an agent owns what was accepted under their agent
        # id or, for a user without one, their user name (tickets.permissions checks both).
        role = _READS_AS.get(principal.role, principal.role)
        self.actor = Actor(principal.username, role.value, principal.department, principal.agent_id)

    @property
    def in_department(self) -> bool:
        return self.principal.role in DEPARTMENT_ROLES

    @property
    def sees_all(self) -> bool:
        return self.principal.role in (Role.SUPERVISOR, Role.ADMIN, Role.QA, Role.VERIFIER)

    @property
    def by_department(self) -> str:
        """The department the principal acts for in the lifecycle ("" for the centre)."""
        return acts_for(self.actor)

    @property
    def scope(self) -> tuple[str, ...]:
        """A department user's department and its sub-units (the store's filter)."""
        mine = self.principal.department
        if not mine:
            return ()
        below = self.directory.descendants(mine) if mine in self.directory else ()
        return (mine, *(unit.id for unit in below))

    def may_see(self, ticket: Ticket) -> bool:
        return may_see(self.actor, ticket, self.directory, self.on_call)

    def refusal(self, ticket: Ticket, action: Action) -> Refusal | None:
        refused = refusal(self.actor, ticket, action, self.directory, self.on_call)
        if refused is not None and not refused.hidden and self.principal.role is Role.VERIFIER:
            return Refusal(VERIFIER_TAKES_NONE)
        return refused

    def actions(self, ticket: Ticket) -> tuple[Action, ...]:
        """The actions the principal may take on ``ticket`` now."""
        return actions_for(self.actor, ticket, self.directory, self.on_call)

    def may_take(self, ticket: Ticket, action: Action) -> bool:
        return self.refusal(ticket, action) is None

    def show(self, body: Any, ticket: Ticket) -> Any:
        """``body`` (JSON-ready) with numbers masked as ``web.masking`` says."""
        return mask_for(body, self.principal, on_call=ticket.number == self.on_call)

    def department_name(self, key: str) -> str:
        """The directory's name of a department id (the key itself when unknown)."""
        found = self.directory.find(key) if key else None
        return found.name if found is not None else key

    def resolve(self, key: str) -> str:
        """A department given by id, name or alias → its id; unknown keys stay as given
        (departments named before the directory, e.g. by the understanding)."""
        key = key.strip()
        found = self.directory.find(key) if key else None
        return found.id if found is not None else key
