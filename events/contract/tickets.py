"""Tickets (工单): the draft written during a call, and every later change."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.common import CALL_ID, CID, TICKET_NUMBER
from events.contract.model import Delivery, EventSpec, call_topic
from events.contract.model import field as _f

TICKET_FIELDS = (
    _f("number", "string", "the ticket (工单) number"),
    CALL_ID,
    _f("status", "string", "ticket status (draft when made during a call)"),
    _f("request_type", "string", "咨询/求助/投诉/举报/建议/表扬"),
    _f("domain", "string", "the service domain"),
    _f("summary", "string", "one-line summary"),
    _f("due_date", "string|null", "ISO date the ticket is due"),
    _f("needs_agent_review", "boolean", "an agent must check the draft"),
    _f("duplicate_of", "string|null", "the open ticket this one probably repeats"),
)
EXAMPLE_TICKET = {
    "number": TICKET_NUMBER,
    "call_id": CID,
    "status": "draft",
    "request_type": "投诉",
    "domain": "环境保护",
    "summary": "工地夜间施工噪音扰民",
    "due_date": "2026-04-03",
    "needs_agent_review": False,
    "duplicate_of": None,
}


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        m.TICKET_DRAFTED,
        (topics.ticket_event("{number}", "drafted"), call_topic(m.TICKET_DRAFTED)),
        "hub",
        Delivery.DURABLE,
        "A draft ticket (工单) was written for the call, before any agent picks up. "
        "Published on both topics (two messages, two ids); on the call topic it also "
        "carries worker.",
        (*TICKET_FIELDS, _f("worker", "string", "the worker (call topic only)", required=False)),
        EXAMPLE_TICKET,
    ),
    EventSpec(
        m.TICKET_CHANGED,
        (topics.ticket_event("{number}", "changed"),),
        "hub",
        Delivery.DURABLE,
        "A ticket changed: one event per entry in its audit trail (created, accepted, "
        "dispatched, replied, closed, rated, a callback task …), whatever made the "
        "change: a call, an agent at the desk, the REST API or the command line. "
        "Written to the outbox in the same transaction as the change, so a change is "
        "never without its event. The citizen's personal data (name, phone numbers, "
        "address, what they said) is left out: read it with "
        "`GET /api/tickets/{number}` and an API token.",
        (
            _f("number", "string", "the ticket (工单) number"),
            _f(
                "action",
                "string",
                "what was done: create, accept, dispatch, sign, reply, approve_reply, close, "
                "urge, supervise, overdue, escalate, merge, …",
            ),
            _f("actor", "string", "who did it: an agent or user id, or system"),
            _f("at", "string", "when (ISO 8601, UTC)"),
            _f("from_status", "string|null", "the status before (null when created)"),
            _f("to_status", "string", "the status after"),
            _f("reason", "string", "the reason given, if any"),
            _f("details", "object", "what else the change recorded (department, note, …)"),
            _f("status", "string", "the ticket's status now"),
            _f("channel", "string", "phone, web or qr"),
            _f("call_id", "string|null", "the call it came from"),
            _f("request_type", "string", "咨询/求助/投诉/举报/建议/表扬"),
            _f("domain", "string", "the service domain"),
            _f("category_code", "string", "the taxonomy code"),
            _f("lead_department", "string", "the department in charge"),
            _f("co_departments", "array", "departments that assist"),
            _f("summary", "string", "one-line summary"),
            _f("due_date", "string", "ISO date the ticket is due"),
            _f("owner", "string", "the agent responsible (首接负责)"),
            _f("linked_to", "string|null", "the earlier ticket this one repeats"),
            _f("confidential", "boolean", "the citizen asked for confidentiality"),
            _f("callback_pending", "boolean", "a callback task is waiting"),
            _f(
                "rating",
                "string|null",
                "the citizen's 好差评 once rated: 非常满意, 满意, 基本满意, 不满意, 非常不满意",
            ),
            _f(
                "resolution",
                "string|null",
                "solved or not, as the citizen said: 已解决/部分解决/未解决",
            ),
            _f(
                "verification_review",
                "boolean",
                "未解决 or 差评 at the 回访: the centre decides 重办 or 维持办结",
            ),
            _f(
                "departments",
                "array",
                "every department with a part now: {department, role (lead 主办, co 协办, "
                "whistle 吹哨报到), signed, reported}",
            ),
            _f("supervised", "boolean", "a 督办件: the centre supervises it"),
            _f("overdue", "boolean", "the deadline sweep marked it 超期"),
        ),
        {
            "number": TICKET_NUMBER,
            "action": "dispatch",
            "actor": "a1001",
            "at": "2026-03-27T02:21:40+00:00",
            "from_status": "accepted",
            "to_status": "dispatched",
            "reason": "",
            "details": {"department": "区生态环境局"},
            "status": "dispatched",
            "channel": "phone",
            "call_id": CID,
            "request_type": "投诉",
            "domain": "环境保护",
            "category_code": "HB-03",
            "lead_department": "区生态环境局",
            "co_departments": [],
            "summary": "工地夜间施工噪音扰民",
            "due_date": "2026-04-03",
            "owner": "a1001",
            "linked_to": None,
            "confidential": False,
            "callback_pending": False,
            "rating": None,
            "resolution": None,
            "verification_review": False,
            "departments": [
                {"department": "区生态环境局", "role": "lead", "signed": False, "reported": False}
            ],
            "supervised": False,
            "overdue": False,
        },
    ),
)
