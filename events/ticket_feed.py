"""The durable feed of ticket changes: one ``ticket.changed`` event per audit entry.

A :class:`TicketFeed` is the ticket store's change listener
(``TicketStore(..., on_change=feed)``): it writes each change's event into the
outbox *inside the transaction that changes the ticket*, so the change and its
event commit together or not at all, whatever made the change (a call's draft,
an agent at the desk, the REST API, the command line).  The hub's outbox
publisher sends the rows to the broker; a process without a publisher (the
command line) leaves them for the running hub, which looks at the outbox
every fraction of a second.

The event says what changed and where the ticket now stands; it leaves out the
citizen's personal data (name, phone numbers, address, what they said).  A
system that needs those reads the ticket over the REST API with a token whose
role may see them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from events import messages as m
from events import topics
from events.messages import Message
from events.outbox import Outbox

# Audit details that hold the citizen's phone numbers: not on the bus.
PRIVATE_DETAILS = frozenset({"callback_number", "previous_number", "caller_number"})


def _value(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


def change_event(ticket: Any, entry: Any, node: str) -> Message:
    """The ``ticket.changed`` message for one audit ``entry`` of ``ticket``
    (a :class:`tickets.model.Ticket` as written by that change)."""
    data = {
        "number": ticket.number,
        "action": entry.action,
        "actor": entry.actor,
        "at": _value(entry.at),
        "from_status": _value(entry.from_status),
        "to_status": _value(entry.to_status),
        "reason": entry.reason,
        "details": {k: v for k, v in dict(entry.details).items() if k not in PRIVATE_DETAILS},
        "status": _value(ticket.status),
        "channel": _value(ticket.channel),
        "call_id": ticket.call_id or None,
        "request_type": _value(ticket.request_type),
        "domain": ticket.domain,
        "category_code": ticket.category_code,
        "lead_department": ticket.lead_department,
        "co_departments": list(ticket.co_departments),
        "summary": ticket.summary,
        "due_date": _value(ticket.due_date),
        "owner": ticket.owner,
        "linked_to": ticket.linked_to or None,
        "confidential": ticket.confidential,
        "callback_pending": bool(ticket.callback_number) and ticket.callback_done_at is None,
        "rating": _value(ticket.rating),
        "resolution": _value(getattr(ticket, "resolution", None)),
        "verification_review": bool(getattr(ticket, "verification_review", False)),
        "departments": [
            {
                "department": part.department,
                "role": _value(part.role),
                "signed": part.signed_at is not None,
                "reported": part.reported_at is not None,
            }
            for part in getattr(ticket, "assignments", ())
        ],
        "supervised": bool(getattr(ticket, "supervised", False)),
        "overdue": getattr(ticket, "overdue_at", None) is not None,
    }
    return Message(m.TICKET_CHANGED, data, node=node)


class TicketFeed:
    """Writes ``ticket.changed`` events into ``outbox`` in the ticket's transaction;
    ``wake`` (any thread) is called once that transaction has committed."""

    def __init__(self, outbox: Outbox, node: str, wake: Callable[[], None] | None = None) -> None:
        self.outbox = outbox
        self.node = node
        self.wake = wake

    def changed(self, session: Any, ticket: Any, entries: Sequence[Any]) -> None:
        for entry in entries:
            message = change_event(ticket, entry, self.node)
            self.outbox.add(
                topics.ticket_event(ticket.number, "changed"), message, connection=session
            )

    def committed(self) -> None:
        if self.wake is not None:
            self.wake()
