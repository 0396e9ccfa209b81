"""The 回访 API's request and response bodies (``web.routers.verification``).

Built from :class:`~tickets.verification_tasks.VerificationTask` by
``web.verification_views.TaskViews`` (numbers masked for roles that need none).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from tickets.model import Rating, Resolution, Status
from tickets.verification_tasks import (
    AnswerSource,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
)
from web.schemas.text import NOT_BLANK, strip_blanks

COMMENT_AT_MOST = 2000
NOTES_AT_MOST = 4000


class AttemptOut(BaseModel):
    """One try at reaching the citizen."""

    at: datetime
    outcome: AttemptOutcome
    outcome_label: str = Field(description="完成, 无人接听, 占线 …")
    by: str = Field(description="The verifier who called, or 自动回访 (the node's survey).")
    detail: str = Field(description="The SIP status or what was heard.")
    call_id: str
    ended_at: datetime | None


class RecordingOut(BaseModel):
    """A leg of the task's recording to play."""

    leg: str = Field(examples=["qa"])
    name: str = Field(description="双声道录音, 市民, 回访员 or 系统放音.")
    url: str


class TaskOut(BaseModel):
    """A 回访 task as lists show it."""

    id: int
    ticket: str = Field(examples=["GD12345-20261128-000123"])
    phone_number: str = Field(
        description="The citizen's number, masked (138****8000) for roles that need no numbers."
    )
    kind: TaskKind
    kind_label: str = Field(description="电话回访 or 现场核查.")
    state: TaskState
    state_label: str = Field(description="待回访, 回访中, 待人工回访, 已回访, 不回访, 已撤销.")
    reason: TaskReason | None = Field(description="Why it needs a person, or was skipped.")
    reason_label: str
    round: int = Field(description="1, then one more after each 重办.")
    sampled: bool
    tries: int = Field(description="The node's attempts (counted against the limit).")
    attempts_made: int = Field(description="All attempts, verifiers' calls included.")
    created_at: datetime
    updated_at: datetime | None
    due_by: datetime
    countdown: str = Field(description="剩余…, 已超时… while open; empty once finished.")
    overdue: bool
    next_at: datetime | None = Field(description="The next planned attempt, if any.")
    resolution: Resolution | None
    rating: Rating | None
    resolution_source: AnswerSource | None
    rating_source: AnswerSource | None
    answered_by: str = Field(description="按键, 语音, 人工录入 or a mix (按键/语音).")
    comment: str = Field(description="What the citizen added.")
    notes: str = Field(description="A verifier's notes (现场核查: what was found).")
    assigned_to: str = Field(description="The verifier who holds it (领取), if any.")
    department: str
    department_name: str
    seat_group: str
    call_id: str
    has_recording: bool


class TaskDetail(TaskOut):
    """A task with its attempts, its recordings and what may be done with it now."""

    attempts: list[AttemptOut]
    recordings: list[RecordingOut]
    may_enter_result: bool = Field(description="A call task a verifier may enter answers for.")
    may_enter_on_site: bool = Field(description="A 现场核查 whose result is still to be entered.")
    may_call: bool = Field(description="A call task a verifier may call from their softphone.")
    may_take: bool = Field(description="Open and not yet held by the caller of the API.")


class TaskList(BaseModel):
    """Tasks, the soonest due first."""

    items: list[TaskOut]


class CallPlaced(BaseModel):
    """The verifier's softphone rings; the citizen is called when they answer."""

    placed: bool = True
    detail: str = Field(examples=["您的话机正在振铃，接听后系统将拨打市民"])


class ResultRequest(BaseModel):
    """What the citizen said when a verifier reached them (or that they did not)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reached": True, "resolution": "已解决", "rating": "满意", "comment": ""},
                {"reached": False},
            ],
            # reached: an answer (resolution or rating); not reached: none (see _consistent)
            "anyOf": [
                {
                    "required": ["reached"],
                    "properties": {
                        "reached": {"const": False},
                        "resolution": {"type": "null"},
                        "rating": {"type": "null"},
                    },
                },
                {
                    "required": ["resolution"],
                    "properties": {
                        "reached": {"const": True},
                        "resolution": {"enum": [r.value for r in Resolution]},
                    },
                },
                {
                    "required": ["rating"],
                    "properties": {
                        "reached": {"const": True},
                        "rating": {"enum": [r.value for r in Rating]},
                    },
                },
            ],
        },
    )

    reached: StrictBool = Field(True, description="Whether the citizen was reached (联系上).")
    resolution: Resolution | None = Field(None, description="已解决, 部分解决 or 未解决.")
    rating: Rating | None = Field(None, description="非常满意 … 非常不满意 (five levels).")
    comment: str = Field("", max_length=COMMENT_AT_MOST, description="What else they said.")

    @field_validator("comment")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)  # after the length check, as the schema counts

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        answered = self.resolution is not None or self.rating is not None
        if self.reached and not answered:
            raise ValueError(
                "resolution: 请填写是否解决或满意度 (reached: give the resolution or the rating)"
            )
        if not self.reached and answered:
            field = "resolution" if self.resolution is not None else "rating"
            raise ValueError(f"{field}: 未联系上市民时不能填写答复 (not reached: no answers)")
        return self


class OnSiteRequest(BaseModel):
    """A 现场核查's result: what was found on the spot."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"resolution": "已解决", "notes": "到现场查看，路灯已修复", "attachments": []}
            ]
        },
    )

    resolution: Resolution = Field(description="已解决, 部分解决 or 未解决, as found.")
    notes: str = Field(
        max_length=NOTES_AT_MOST,
        json_schema_extra={"pattern": NOT_BLANK},
        description="What was found on the spot (required).",
    )
    attachments: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        [],
        max_length=20,
        description="Ids of the ticket's attachments (photos uploaded to "
        "`POST /api/tickets/{number}/attachments`) that show it.",
    )

    @field_validator("notes")
    @classmethod
    def _said_something(cls, value: str) -> str:
        value = strip_blanks(value)  # after the length check, as the schema counts
        if not value:
            raise ValueError("notes: 请填写现场核查情况 (what was found on the spot)")
        return value


class VerificationResult(BaseModel):
    """The task after the answers, and where its ticket stands."""

    task: TaskDetail
    ticket_status: Status
    ticket_status_label: str
    verification_review: bool = Field(description="The ticket awaits the centre's 回访复核.")


class FiguresOut(BaseModel):
    """回访 figures (rates: null with nothing to divide by)."""

    due: int = Field(description="应回访: call tasks owed a call.")
    answered: int
    verification_rate: float | None = Field(description="回访率: answered ÷ due.")
    tried: int
    reached: int
    contact_rate: float | None = Field(description="联系成功率: reached ÷ tried.")
    asked_solved: int
    solved: int
    solved_rate: float | None = Field(description="解决率.")
    rated: int
    satisfied: int
    satisfaction_rate: float | None = Field(description="满意率.")
    bad_ratings: int = Field(description="差评: 不满意 or 非常不满意.")
    redone_after_verification: int = Field(description="回访后重办.")
    needs_person: int
    ratings_by_key: int
    ratings_by_voice: int
    ratings_by_person: int


class VerificationReport(BaseModel):
    """回访 figures of the tasks made in a period, in all, per department and per
    seat group."""

    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from", serialization_alias="from")
    end: date = Field(alias="to", serialization_alias="to")
    total: FiguresOut
    departments: dict[str, FiguresOut] = Field(description="By the department's name.")
    seat_groups: dict[str, FiguresOut]
