"""The ticket lists' filters (the API's ``GET /api/tickets`` and the 工单管理
console's form), turned into the store's :class:`~tickets.store.TicketQuery` within
what the principal may see, and the page of tickets a principal may see.

A department's users get only their department's and its sub-units' tickets: the
store filters by department, so their pages are read directly; agents' tickets (the
store has no owner filter) are read in batches and kept when theirs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tickets.deadlines import DeadlinePolicy
from tickets.model import Channel, RequestType, Status, Ticket
from tickets.store import TicketQuery, TicketStore
from web.ticket_access import TicketAccess

BATCH = 200  # tickets read at a time when filtering an agent's own
NOWHERE = "\0"  # a department no ticket has: the filter names one outside the scope


@dataclass(frozen=True)
class TicketFilters:
    """What a list asks for; empty values mean any.  ``department`` is an id, name or
    alias (``lead_only``: as the lead); ``category`` a code or its prefix; ``q`` free
    text in the number, summary, content or address."""

    status: str = ""
    request_type: str = ""
    domain: str = ""
    category: str = ""
    department: str = ""
    lead_only: bool = False
    channel: str = ""
    caller: str = ""
    q: str = ""
    overdue: bool = False
    due_soon: bool = False
    supervised: bool = False
    duplicates: bool = False
    verification_review: bool = False  # 待回访复核
    callback_due: bool = False
    created_from: datetime | None = None
    created_before: datetime | None = None
    page: int = 1

    def query(
        self,
        access: TicketAccess,
        policy: DeadlinePolicy,
        now: datetime,
        limit: int,
        offset: int = 0,
    ) -> TicketQuery:
        """The store's query: ``limit`` rows from ``offset``."""
        today = policy.local_day(now)
        departments: tuple[str, ...] = ()
        if self.department:
            departments = (access.resolve(self.department),)
        if access.in_department:
            scope = access.scope
            if departments:
                departments = tuple(d for d in departments if d in scope) or (NOWHERE,)
            else:
                departments = scope or (NOWHERE,)
        return TicketQuery(
            status=Status(self.status) if self.status else None,
            request_type=RequestType(self.request_type) if self.request_type else None,
            domain=self.domain.strip(),
            category_code=self.category.strip(),
            departments=departments,
            lead_only=self.lead_only and bool(self.department),
            channel=Channel(self.channel) if self.channel else None,
            caller_number=self.caller.strip(),
            text=self.q.strip(),
            overdue_on=today if self.overdue else None,
            due_by=policy.calendar.add_working_days(today, policy.due_soon_days)
            if self.due_soon
            else None,
            supervised=self.supervised,
            duplicates=self.duplicates,
            verification_review=self.verification_review,
            callback_due=self.callback_due,
            created_from=self.created_from,
            created_before=self.created_before,
            limit=limit,
            offset=offset,
        )

    def link(self, **changes: Any) -> str:
        """The page's query string with ``changes`` (empty values left out)."""
        values = {**dataclasses.asdict(self), **changes}
        kept = {
            key: ("1" if value is True else value)
            for key, value in values.items()
            if value not in ("", None, False)
            and not (key == "page" and value == 1)
            and not isinstance(value, datetime)
        }
        return "?" + urlencode(kept)


def find_visible(store: TicketStore, query: TicketQuery, access: TicketAccess) -> list[Ticket]:
    """The page ``query`` asks for among the tickets ``access`` may see (blocking)."""
    if access.sees_all:
        return store.find(query)
    wanted = query.offset + query.limit
    seen: list[Ticket] = []
    start = 0
    while len(seen) < wanted:
        batch = store.find(dataclasses.replace(query, limit=BATCH, offset=start))
        seen.extend(t for t in batch if access.may_see(t))
        if len(batch) < BATCH:
            break
        start += BATCH
    return seen[query.offset : wanted]
