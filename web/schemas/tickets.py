"""The ticket API's request and response bodies.

Built from the domain's :class:`~tickets.model.Ticket` at the router's edge
(:meth:`TicketDetail.from_ticket`); the router masks phone and ID-card numbers
(``web.masking``) for roles that must not see them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from tickets.lifecycle import ACTION_ALIASES, Action, parse_action
from tickets.model import Channel, Rating, RequestType, Resolution, Status, Ticket
from web.schemas.errors import Problem
from web.schemas.text import NOT_BLANK, strip_blanks
from web.schemas.ticket_work import (
    AssessmentOut,
    AssignmentOut,
    AttachmentOut,
    DeadlinesOut,
    FlagsOut,
    MergedCallerOut,
    ReplyDraftOut,
    ReturnRequestOut,
    SuggestionOut,
)

# Digits (3 to 20; full-width ones as an IME types them are read as ASCII), a +
# in front, spaces and dashes anywhere; or nothing.  The schema's pattern allows
# blanks around it, which the validator strips first.
_NUMBER = r"(?:[ -]*(?:\+[ -]*)?(?:[0-9０-９][ -]*){3,20})?"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
PHONE_PATTERN = rf"^\s*{_NUMBER}\s*$"
_PHONE = re.compile(_NUMBER)
_SEPARATORS = re.compile(r"[ -]")
_ANSWERS = frozenset({Action.REPLY, Action.CLOSE_AT_ONCE})


def _whole(value: object) -> object:
    """257.0 is the JSON integer 257 (as JSON Schema counts); true or "257" is none."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# 1 to 365, an integer as JSON Schema counts it: 257.0 too, but not true or "257".
WorkingDays = Annotated[Annotated[StrictInt, Field(ge=1, le=365)], BeforeValidator(_whole)]

ActionName = StrEnum(  # type: ignore[misc]  # the names are data (tickets.lifecycle)
    "ActionName", {name: name for name in [*(a.value for a in Action), *ACTION_ALIASES]}
)
ActionName.__doc__ = "An action by its English name, or its Chinese one (受理, 派单 …)."
ANSWER_NAMES = [name.value for name in ActionName if parse_action(name.value) in _ANSWERS]


class IntakeChannel(StrEnum):
    """Channels that reach the node through the API (calls come in by phone)."""

    WEB = Channel.WEB.value  # a web form (网页)
    QR = Channel.QR.value  # a QR-code report from a poster or a sign (扫码)


class TicketCreate(BaseModel):
    """A citizen's request from a web form, a QR-code report or an integration."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "web",
                    "caller_number": "13800138000",
                    "caller_name": "王女士",
                    "content": "天河区天河路100号小区门口路灯坏了一个星期，晚上很黑",
                    "address": "天河区天河路100号",
                    "confidential": False,
                }
            ]
        },
    )

    channel: IntakeChannel = Field(description="`web` (web form) or `qr` (QR-code report).")
    caller_number: str = Field(
        "",
        max_length=40,
        json_schema_extra={"pattern": PHONE_PATTERN},
        description="The citizen's phone number (digits, + in front; spaces and dashes "
        "are dropped); empty when anonymous.",
    )
    caller_name: str = Field("", max_length=100, description="The citizen's name, if given.")
    content: str = Field(
        max_length=4000,
        json_schema_extra={"pattern": NOT_BLANK},
        description="The citizen's own words: what the problem is.  Understanding runs on it.",
    )
    address: str = Field(
        "",
        max_length=500,
        description="Where it happens; for a QR code, the place of the sign.  "
        "Taken from the content when empty.",
    )
    confidential: StrictBool = Field(
        False, description="The citizen asked to stay anonymous (保密)."
    )
    declined_callback: StrictBool = Field(
        False, description="The citizen does not want to be called back about it (不需回访)."
    )

    @field_validator("caller_number")
    @classmethod
    def _dialable(cls, value: str) -> str:
        number = strip_blanks(value)  # after the length check, as the schema counts
        if not _PHONE.fullmatch(number):
            raise ValueError(f"{value!r} is not a phone number (digits, + in front)")
        return _SEPARATORS.sub("", number).translate(_FULL_WIDTH)

    @field_validator("caller_name", "address", "content")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)  # after the length check, as the schema counts

    @field_validator("content")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not value:
            raise ValueError("content is empty: say what the problem is")
        return value


class TransitionRequest(BaseModel):
    """An action on a ticket and what that action needs."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "accept"},
                {"action": "dispatch", "department": "district.tianhe"},
                {"action": "sign"},
                {
                    "action": "request_return",
                    "reason": "不属于本单位职责",
                    "department": "city.transport",
                },
                {"action": "reply", "reply": "路灯已于今日修复"},
                {"action": "approve_reply"},
                {"action": "reject_reply", "reason": "答复未说明处理结果"},
                {"action": "rate", "rating": "满意"},
            ],
            # reply only with an answer (see _reply_only_to_answer)
            "anyOf": [
                {"properties": {"action": {"enum": ANSWER_NAMES}}},
                {"properties": {"reply": {"pattern": r"^\s*$"}}},
            ],
        },
    )

    action: ActionName = Field(
        description="accept, discard, link, unlink, close_at_once, dispatch, redispatch, sign, "
        "note, request_return, approve_return, reject_return, start, whistle, report_in, "
        "report, request_extension, approve_extension, refuse_extension, supervise, urge, "
        "reply, approve_reply, return_reply, reject_reply, close, callback, rate, reopen; "
        "or a Chinese name (受理, 派单, 签收, 退单, 改派, 答复, 审核通过, 办结, 回访, 评价 …)."
    )
    reason: str = Field("", max_length=2000, description="Why (return, re-dispatch, reopen …).")
    department: str = Field(
        "",
        max_length=100,
        description="Department, by id, name or alias: the lead for dispatch, redispatch "
        "(a sub-unit) and approve_return (改派); for request_return the one it should go to.",
    )
    co_departments: list[Annotated[str, Field(max_length=100)]] | None = Field(
        None,
        max_length=20,
        description="Co-handling departments (dispatch, approve_return); the departments "
        "called in (whistle).",
    )
    rating: Rating | None = Field(None, description="满意, 基本满意 or 不满意 (rate).")
    working_days: WorkingDays | None = Field(
        None, description="Working days asked for or granted (extensions)."
    )
    linked_to: str = Field("", max_length=40, description="The earlier ticket's number (link).")
    reply: str = Field(
        "", max_length=4000, description="The answer to the citizen (reply, close_at_once)."
    )
    note: str = Field(
        "",
        max_length=2000,
        description="A remark kept in the history; progress (note); a department's part (report).",
    )
    attachments: list[Annotated[int, Field(ge=1)]] = Field(
        [], max_length=20, description="Ids of this ticket's attachments the note refers to."
    )

    @field_validator("reason", "department", "linked_to", "reply", "note")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)  # after the length check, as the schema counts

    @field_validator("co_departments")
    @classmethod
    def _each_stripped(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [strip_blanks(name) for name in value]

    @model_validator(mode="after")
    def _reply_only_to_answer(self) -> Self:
        if self.reply and self.parsed_action not in _ANSWERS:
            raise ValueError("reply is only for reply and close_at_once; write a note instead")
        return self

    @property
    def parsed_action(self) -> Action:
        return parse_action(self.action.value)

    @property
    def note_for_lifecycle(self) -> str:
        """The lifecycle's ``note``: the answer for reply and close_at_once, else the remark."""
        if self.parsed_action in _ANSWERS:
            return self.reply or self.note
        return self.note


class AuditEntryOut(BaseModel):
    """One change in a ticket's history."""

    at: datetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status
    reason: str
    details: dict[str, str]


class ExtensionOut(BaseModel):
    """A pending request for more time (延期申请)."""

    requested_at: datetime
    requested_by: str
    working_days: int
    reason: str


class TicketSummary(BaseModel):
    """A ticket as lists show it."""

    number: str = Field(examples=["GD12345-20261128-000123"])
    created_at: datetime
    updated_at: datetime | None
    status: Status
    status_label: str = Field(description="The state in Chinese (受理, 派单 …).")
    channel: Channel
    request_type: RequestType
    domain: str
    category_code: str
    lead_department: str
    caller_number: str = Field(description="Masked (138****8000) for roles that need no numbers.")
    caller_name: str
    confidential: bool
    declined_callback: bool = Field(description="The citizen asked not to be called back.")
    address: str
    summary: str
    due_date: date
    overdue: bool = Field(description="Past its due date while the citizen still waits.")
    owner: str = Field(description="The agent who accepted it (首接负责).")
    linked_to: str = Field(description="The earlier ticket this one repeats, if any.")
    callback_due: bool = Field(description="A callback task is waiting.")
    emergency_number: str = Field(description="110, 119 or 120 when emergency words were heard.")
    needs_agent_review: bool
    call_id: str = Field(description="The call it came from (its recordings in QA), if any.")
    lead_department_name: str = Field("", description="The lead department's name.")
    working_days_left: int | None = Field(
        None, description="Working days to the due date (negative once past)."
    )
    countdown: str = Field("", description="剩余N个工作日, 今日到期 or 已超期N天.")
    supervised: bool = Field(False, description="督办件.")
    due_soon: bool = Field(False, description="Marked 即将超期 by the sweep.")
    escalated: bool = Field(False, description="Escalated (升级督办) by the sweep.")
    verification_review: bool = Field(
        False, description="Its 回访 result awaits the centre's 回访复核 (重办 or 维持办结)."
    )

    @classmethod
    def from_ticket(cls, ticket: Ticket, today: date, **facts: object) -> Self:
        """``facts``: ``lead_department_name``, ``working_days_left``, ``countdown``
        (``web.ticket_views``)."""
        return cls(**_summary_fields(ticket, today), **facts)


def _summary_fields(ticket: Ticket, today: date) -> dict[str, object]:
    return {
        "supervised": ticket.supervised,
        "due_soon": ticket.due_soon_at is not None,
        "escalated": ticket.escalated_at is not None,
        "verification_review": ticket.verification_review,
        "number": ticket.number,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "status": ticket.status,
        "status_label": ticket.status.label,
        "channel": ticket.channel,
        "request_type": ticket.request_type,
        "domain": ticket.domain,
        "category_code": ticket.category_code,
        "lead_department": ticket.lead_department,
        "caller_number": ticket.caller_number,
        "caller_name": ticket.caller_name,
        "confidential": ticket.confidential,
        "declined_callback": ticket.declined_callback,
        "address": ticket.address,
        "summary": ticket.summary,
        "due_date": ticket.due_date,
        "overdue": ticket.is_overdue(today),
        "owner": ticket.owner,
        "linked_to": ticket.linked_to,
        "callback_due": ticket.callback_due,
        "emergency_number": ticket.emergency_number,
        "needs_agent_review": ticket.needs_agent_review,
        "call_id": ticket.call_id,
    }


class TicketDetail(TicketSummary):
    """A ticket with everything it holds and its history (audit entries, oldest first)."""

    co_departments: list[str]
    content: str
    transcript: str
    reply: str
    rating: Rating | None
    resolution: Resolution | None = Field(
        None, description="What the citizen said at the 回访: 已解决, 部分解决 or 未解决."
    )
    redo_count: int = Field(0, description="Times reopened (重办) after a 回访.")
    extension: ExtensionOut | None
    callback_number: str
    callback_reason: str
    callback_done_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str] = Field(description="Actions the caller of the API may take now.")
    history: list[AuditEntryOut]
    assignments: list[AssignmentOut] = Field(
        [], description="The departments' parts: 主办, 协办, 吹哨报到."
    )
    deadlines: DeadlinesOut | None = None
    flags: FlagsOut | None = None
    reply_draft: ReplyDraftOut | None = Field(
        None, description="The reply awaiting the department's reviewer (待审核)."
    )
    return_request: ReturnRequestOut | None = Field(
        None, description="A return request awaiting the centre (退单)."
    )
    merged_callers: list[MergedCallerOut] = Field([], description="Callers merged in (并单).")
    attachments: list[AttachmentOut] = []
    suggestion: SuggestionOut | None = Field(
        None, description="What the dispatch catalogue proposes (主办, 协办, why)."
    )
    assessment: AssessmentOut | None = Field(
        None, description="The reply's automatic assessment (形式办结 flags), 待审核 and 答复."
    )

    @classmethod
    def from_ticket(
        cls,
        ticket: Ticket,
        today: date,
        allowed: tuple[Action, ...] = (),
        **extra: object,
    ) -> Self:
        """``extra``: the departmental work (``web.ticket_views.work_view``), the
        attachments, suggestion and assessment, and the summary's facts."""
        ext = ticket.extension
        return cls(
            **_summary_fields(ticket, today),
            co_departments=list(ticket.co_departments),
            content=ticket.content,
            transcript=ticket.transcript,
            reply=ticket.reply,
            rating=ticket.rating,
            resolution=ticket.resolution,
            redo_count=ticket.redo_count,
            extension=None
            if ext is None
            else ExtensionOut(
                requested_at=ext.requested_at,
                requested_by=ext.requested_by,
                working_days=ext.working_days,
                reason=ext.reason,
            ),
            callback_number=ticket.callback_number,
            callback_reason=str(ticket.callback_reason),
            callback_done_at=ticket.callback_done_at,
            closed_at=ticket.closed_at,
            allowed_actions=[a.value for a in allowed],
            history=[
                AuditEntryOut(
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    reason=e.reason,
                    details=dict(e.details),
                )
                for e in ticket.audit
            ],
            **extra,
        )


class TicketIntake(TicketDetail):
    """A new ticket; when it repeats an earlier one it is linked to it at once."""

    duplicate_of: str | None = Field(
        description="The earlier ticket this one repeats (it is linked to it), or null."
    )
    duplicate_reason: str = Field(description="Why it is a repeat (same address and similar …).")
    similarity: float | None = Field(description="How alike the two contents are (0 … 1).")


class TicketPage(BaseModel):
    """One page of tickets, newest first."""

    items: list[TicketSummary]
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last.")


class TransitionRefused(Problem):
    """The action is not allowed now (or lacks what it needs): a :class:`Problem`
    with the ticket's state and the actions allowed now."""

    status: Status
    allowed_actions: list[str] = Field(description="The actions allowed now.")
