"""Tickets as an older schema stored them: the ``tickets`` table without the columns
later migrations added, and a row of plain values, for tests that write at an old
revision and then let the store migrate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table

from tickets.store import TicketRow


def tickets_table_before(added_later: Callable[[str], bool]) -> Table:
    """The ``tickets`` table without the columns for which ``added_later(name)``."""
    return Table(
        "tickets",
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key)
            for c in TicketRow.__table__.columns
            if not added_later(c.name)
        ),
    )


def old_ticket_values(
    table: Table, number: str, created_at: datetime, due_date: date, **values: Any
) -> dict[str, Any]:
    """A row of ``table``: an accepted phone ticket with blank texts, and ``values``."""
    row: dict[str, Any] = {
        "number": number,
        "created_at": created_at,
        "updated_at": created_at,
        "status": "accepted",
        "due_date": due_date,
        "channel": "phone",
        "caller_number": "13800138000",
        "caller_name": "",
        "confidential": False,
        "request_type": "咨询",
        "domain": "",
        "category_code": "",
        "lead_department": "",
        "co_departments": [],
        "address": "",
        "content": "",
        "summary": "",
        "transcript": "",
        "call_id": "",
        "recording_dir": "",
        "emergency_number": "",
        "needs_agent_review": False,
        "owner": "",
        "linked_to": "",
        "reply": "",
        "version": 1,
        "callback_number": "",
        "callback_reason": "",
        **values,
    }
    return {name: value for name, value in row.items() if name in table.c}
