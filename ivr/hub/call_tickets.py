"""The hub's side of work orders: a draft ticket for every answered call.

After the caller's first understood words the hub opens a draft ticket (受理) from
the understanding, before the call is queued; a call that ends with nothing
understood still gets one, marked for an agent to listen to the recording.  The
recording directory is attached once the worker has saved it.  Store calls block
(SQL), so they run in a thread.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

from ivr.hub.flow import CallFlow
from ivr.hub.sql_work import in_sql_thread
from tickets.model import Channel, RequestType, Ticket, TicketDraft
from tickets.store import TicketStore

log = logging.getLogger("hub")


def category_path(categories: Any) -> str:
    """``level1/level2/level3`` of the understanding's place in the city's tree."""
    if categories is None:
        return ""
    parts = (categories.level1, categories.level2, categories.level3)
    return "/".join(p for p in parts if p)


def draft_for_call(flow: CallFlow, directory: Any = None) -> TicketDraft:
    """What the call tells us, as a draft work order; with the department
    ``directory``, its dispatch catalogue suggests the lead and co-handlers (the
    agent confirms or changes them), else the taxonomy's departments stand."""
    understanding = flow.understanding
    said = flow.said()
    if understanding is None:
        return TicketDraft(
            channel=Channel.PHONE,
            caller_number=flow.caller,
            request_type=RequestType.CONSULTATION,
            content=said,
            transcript="\n".join(line.get("text", "") for line in flow.transcript),
            call_id=flow.call_id,
            emergency_number=flow.emergency,
            needs_agent_review=True,
        )
    slots = understanding.slots
    departments = list(understanding.departments)
    address = slots.address
    where = (address.address or address.text) if address is not None else ""
    path = category_path(understanding.categories)
    if directory is not None and path:
        suggested = directory.suggest(*path.split("/"), address=where)
        if suggested.lead is not None:
            departments = [suggested.lead.id, *(d.id for d in suggested.co)]
    return TicketDraft(
        channel=Channel.PHONE,
        caller_number=flow.caller,
        caller_name=slots.names[0].value if slots.names else "",
        request_type=RequestType(understanding.request_type or RequestType.CONSULTATION.value),
        domain=understanding.domain,
        category_code=understanding.category_code,
        category_path=path,
        lead_department=departments[0] if departments else "",
        co_departments=tuple(departments[1:]),
        address=where,
        content=said,
        summary=understanding.summary,
        transcript="\n".join(line.get("text", "") for line in flow.transcript),
        call_id=flow.call_id,
        emergency_number=flow.emergency,
        needs_agent_review=not said or understanding.low_confidence,
    )


def conversation_text(flow: CallFlow) -> str:
    """The transcript as the ticket keeps it: one line per utterance, who said it."""
    who = {"caller": "市民", "agent": "坐席"}
    return "\n".join(
        f"{who.get(str(line.get('leg', 'caller')), '市民')}：{line.get('text', '')}"
        for line in flow.transcript
        if line.get("text")
    )


class CallTickets:
    def __init__(self, store: TicketStore, directory: Any = None) -> None:
        self.store = store
        self.directory = directory  # tickets.departments.Directory: the dispatch catalogue
        self.by_call: dict[str, str] = {}  # call id → ticket number
        self._tried: set[str] = set()  # one attempt per call: a broken store is not hammered

    async def open(self, flow: CallFlow) -> tuple[Ticket, str] | None:
        """The call's draft ticket (once per call); with the number it duplicates, if any."""
        if flow.call_id in self._tried:
            return None
        self._tried.add(flow.call_id)
        if len(self._tried) > 10_000:
            self._tried = set(self.by_call)
        draft = draft_for_call(flow, self.directory)
        try:
            intake = await in_sql_thread(self.store.intake, draft, datetime.now(UTC))
        except Exception:  # the call goes on; the recording and the transcript are kept
            log.exception("could not open a ticket", extra={"fields": {"call_id": flow.call_id}})
            return None
        self.by_call[flow.call_id] = intake.ticket.number
        linked = intake.duplicate.number if intake.duplicate else ""
        return intake.ticket, linked

    async def attach_recording(
        self, call_id: str, directory: str, flow: CallFlow | None = None
    ) -> None:
        """The recording's directory onto the ticket, with the whole conversation as
        its transcript (and as its content if the caller had said nothing before the
        ticket was opened: key 0, or a voice message)."""
        number = self.by_call.pop(call_id, None)  # the call's last word on its ticket
        if not number or not directory:
            return

        def attach() -> None:
            ticket = self.store.get(number)
            changes: dict[str, Any] = {"recording_dir": directory}
            if flow is not None and flow.transcript:
                changes["transcript"] = conversation_text(flow)
                said = "，".join(
                    line["content"]
                    for line in flow.transcript
                    if line.get("leg", "caller") == "caller" and line.get("content")
                )
                if not ticket.content and said:
                    changes["content"] = said
            self.store.save(dataclasses.replace(ticket, **changes))

        try:
            await in_sql_thread(attach)
        except Exception:
            log.exception("could not attach the recording", extra={"fields": {"call_id": call_id}})

    async def request_callback(self, number: str, callback_number: str, reason: str) -> None:
        """The ticket gets a callback task (key 1 while waiting, or a voice message)."""
        if not number or not callback_number:
            return
        try:
            await in_sql_thread(
                self.store.request_callback, number, callback_number, reason, datetime.now(UTC)
            )
        except Exception:  # the callback itself is kept by the ACD; the agent sees the call
            log.exception("could not note the callback", extra={"fields": {"ticket": number}})

    async def callback_done(self, number: str, agent_id: str) -> None:
        if not number:
            return
        try:
            await in_sql_thread(
                self.store.callback_done, number, datetime.now(UTC), agent_id or "system"
            )
        except Exception:
            log.exception("could not close the callback", extra={"fields": {"ticket": number}})

    async def called_recently(self, caller: str, own_ticket: str, hours: float) -> bool:
        """Whether ``caller`` opened another ticket in the last ``hours`` (a repeat caller)."""
        from datetime import timedelta

        from tickets.store import TicketQuery

        since = datetime.now(UTC) - timedelta(hours=hours)
        query = TicketQuery(caller_number=caller, created_from=since, limit=5)
        try:
            found = await in_sql_thread(self.store.find, query)
        except Exception:
            log.exception("could not look up the caller's tickets")
            return False
        return any(ticket.number != own_ticket for ticket in found)
