"""What the hotspot finder reads: one citizen's request, from a ticket or from a
message-board export, stripped to what grouping needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Request:
    id: str  # the ticket number or the message's id
    at: datetime
    title: str  # a ticket's summary, a message's subject
    text: str = ""
    person: str = ""  # who asked (a caller's number, a board user); "" unknown
    place_hint: str = ""  # the address or business the desk or slots found
    category: str = ""  # the category path or first-level label
    department: str = ""  # the department it went to
    likes: int = 0  # 点赞 (web messages)
    dislikes: int = 0  # 反对

    @property
    def document(self) -> str:
        """The text compared: the title twice (it says what the request is about),
        then the opening of the text (a long complaint wanders)."""
        return f"{self.title}。{self.title}。{self.text[:400]}"


def ticket_request(ticket: Any) -> Request:
    """A 工单 (``tickets.model.Ticket``, read by its attributes) as a request: its
    summary as the title, the caller's number as who asked (a repeat caller counts
    once), its address as the place, its category and lead department."""
    content = ticket.content or ticket.transcript
    return Request(
        id=ticket.number,
        at=ticket.created_at,
        title=ticket.summary or content[:40],
        text=content,
        person=ticket.caller_number,
        place_hint=ticket.address,
        category=ticket.category_path or ticket.domain,
        department=ticket.lead_department,
    )
