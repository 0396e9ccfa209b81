"""The ticket API's bodies for the departments' work: parts (主办/协办/吹哨报到),
deadlines, flags, the reply awaiting review, return requests, merged callers,
attachments, the dispatch catalogue's suggestion, the reply's assessment
(形式办结 flags), bulk dispatch, the directory for pickers and the departments'
figures.  Built from ``web.ticket_views``' dicts at the router's edge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tickets.model import AssignmentRole, Status
from web.schemas.text import strip_blanks

DepartmentKey = Annotated[str, Field(min_length=1, max_length=100)]


class AssignmentOut(BaseModel):
    """One department's part in the ticket."""

    department: str = Field(description="The department's id in the directory.")
    department_name: str
    role: AssignmentRole = Field(description="lead (主办), co (协办) or whistle (吹哨报到).")
    role_label: str = Field(description="主办, 协办 or 吹哨报到.")
    assigned_at: datetime
    assigned_by: str
    due_at: datetime | None = Field(description="When it must sign (签收) or report in (报到).")
    due_label: str = Field(description="签收时限 or 报到时限.")
    countdown: str = Field(description="剩余N小时M分, 已超时…, or 已完成.")
    signed_at: datetime | None = Field(description="When it signed or reported in.")
    late: bool = Field(description="Past its time to sign or report in, not done.")
    reported_at: datetime | None = Field(description="When a 协办/吹哨 part reported.")
    report: str
    urged_at: datetime | None = Field(description="When the sweep urged it (催办).")
    owes_report: bool = Field(description="A 协办/吹哨 part that has not reported.")


class DeadlinesOut(BaseModel):
    """The ticket's deadlines, counted in working days on the holiday calendar."""

    due_date: date
    working_days_left: int = Field(description="0 on the due day, negative once past.")
    overdue: bool
    countdown: str = Field(
        description="剩余N个工作日, 今日到期 or 已超期N天 (empty once answered)."
    )
    sign_due_at: datetime | None = Field(description="The lead department's time to sign.")
    signed_at: datetime | None


class MissingReport(BaseModel):
    department: str
    department_name: str


class FlagsOut(BaseModel):
    """What the deadline sweep marked, and 督办."""

    due_soon_at: datetime | None = Field(description="Marked 即将超期.")
    overdue_at: datetime | None = Field(description="Marked 超期 (催办 and 督办 sent).")
    escalated_at: datetime | None = Field(description="Escalated again (升级督办).")
    supervised: bool = Field(description="督办件: the centre supervises it.")
    reports_missing: list[MissingReport] = Field(
        description="协办/吹哨 departments that have not reported their part."
    )


class ReplyDraftOut(BaseModel):
    """The handler's answer awaiting the department's reviewer (内部审核)."""

    text: str
    drafted_at: datetime
    drafted_by: str
    department: str
    department_name: str


class ReturnRequestOut(BaseModel):
    """A department's request to hand the ticket back (申请退单), awaiting the centre."""

    requested_at: datetime
    requested_by: str
    department: str = Field(description="The department that asks.")
    department_name: str
    reason: str
    suggested: str = Field(description="Where it should go, in the asker's view.")
    suggested_name: str
    previous_status: Status = Field(description="Where a refusal sends it back.")


class MergedCallerOut(BaseModel):
    """Another citizen whose repeat was merged in (并单); called back too."""

    caller_number: str = Field(description="Masked for roles that need no numbers.")
    ticket: str = Field(description="The repeat's own ticket number.")
    at: datetime


class AttachmentOut(BaseModel):
    """A photo or document attached to the ticket."""

    id: int
    name: str
    media_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    at: datetime
    actor: str
    department: str = Field(description="The department it was attached for (empty: the centre).")
    url: str = Field(description="Where to download it.")


class DepartmentOut(BaseModel):
    """A unit of the directory, as pickers list it."""

    id: str = Field(examples=["district.tianhe"])
    name: str = Field(examples=["天河区人民政府"])
    level: str = Field(description="city, district, street or community.")
    level_label: str = Field(description="市级部门, 区, 街道 or 社区.")
    parent: str = Field(description="The id of the unit above it; empty at the top.")


class SuggestionOut(BaseModel):
    """What the dispatch catalogue (派单目录) proposes; the 派单员 confirms or changes it."""

    category: str = Field(description="The ticket's category path it was looked up for.")
    lead: DepartmentOut | None = Field(description="主办; null when no entry fits.")
    co: list[DepartmentOut] = Field(description="协办.")
    rule: str = Field(description="Which catalogue entry, and why (in Chinese).")


class ReasonOut(BaseModel):
    code: str = Field(examples=["boilerplate"])
    text: str = Field(description="For the reviewer, in Chinese.")


class AssessmentOut(BaseModel):
    """The automatic assessment of the reply under review (形式办结 flags)."""

    reply: str = Field(description="draft (awaiting the department's reviewer) or reply.")
    score: float = Field(ge=0, le=1, description="How well the reply answers the complaint.")
    flag: bool = Field(description="The reviewer should look closely.")
    reasons: list[ReasonOut] = Field(description="Why, the weightiest first.")
    complained_again: list[str] = Field(
        description="Tickets in which the citizen complained again since the reply."
    )


class DispatchRequest(BaseModel):
    """Bulk dispatch (批量派单): accepted tickets to one lead department."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "numbers": ["GD12345-20261128-000123", "GD12345-20261128-000124"],
                    "department": "district.tianhe",
                    "co_departments": ["city.urban_management"],
                }
            ]
        },
    )

    numbers: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=100, description="The tickets (1 to 100)."
    )
    department: str = Field(
        min_length=1, max_length=100, description="Lead department: id, name or alias."
    )
    co_departments: list[Annotated[str, Field(max_length=100)]] | None = Field(
        None, max_length=20, description="Co-handling departments (协办)."
    )
    note: str = Field("", max_length=2000, description="A remark kept in each ticket's history.")

    @field_validator("department", "note")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(strip_blanks(number) for number in value))

    @field_validator("co_departments")
    @classmethod
    def _each_stripped(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [strip_blanks(name) for name in value]


class DispatchOutcome(BaseModel):
    """What became of one ticket of a bulk dispatch."""

    number: str
    ok: bool
    code: int = Field(
        description="200 done; 404 no such ticket (or not the caller's), "
        "403 refused for the role, 409 not possible in its state."
    )
    detail: str = Field(description="Why not (empty when done).")
    status: Status | None = Field(description="The ticket's state after; null when unknown.")


class DispatchResult(BaseModel):
    dispatched: int = Field(description="How many were dispatched.")
    outcomes: list[DispatchOutcome]


class DepartmentList(BaseModel):
    departments: list[DepartmentOut]


class DepartmentFiguresOut(BaseModel):
    """One department's figures over the period (rates null without cases)."""

    department: str
    name: str
    dispatched: int
    signed: int
    signed_on_time_rate: float | None = Field(description="按时签收率.")
    answered: int
    closed_on_time_rate: float | None = Field(description="按时办结率.")
    return_requests: int
    returns_upheld: int = Field(description="退单获准 (改派).")
    return_rate: float | None = Field(description="退单率.")
    redone: int
    redo_rate: float | None = Field(description="重办率.")
    average_handling_hours: float | None
    overdue_now: int


class DepartmentReport(BaseModel):
    """Figures per department for tickets dispatched from ``from`` to ``to`` (days included)."""

    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from", serialization_alias="from")
    end: date = Field(alias="to", serialization_alias="to")
    departments: list[DepartmentFiguresOut]
