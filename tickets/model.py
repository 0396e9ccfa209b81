"""The work order as plain data: no I/O, no clock, nothing but values.

A :class:`Ticket` is immutable; the lifecycle returns a new one for every
change, with one more :class:`AuditEntry` at the end of its trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Channel(StrEnum):
    """Where the request came in."""

    PHONE = "phone"
    WEB = "web"
    QR = "qr"


class RequestType(StrEnum):
    """诉求类型: what the citizen asks for; it sets the working-day deadline."""

    CONSULTATION = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉"
    REPORT = "举报"
    SUGGESTION = "建议"
    PRAISE = "表扬"


class Status(StrEnum):
    """Where a ticket stands.

    Draft (草稿, written by the node before an agent picks up), accepted (受理),
    dispatched to a department (派单), signed for by it (签收), being handled
    (办理), its answer drafted and awaiting the department's own reviewer
    (待审核, 内部审核), replied to the centre (答复), closed (办结), called back
    (回访), rated (评价);
    returned by a department and awaiting review (退单); linked to an earlier
    ticket as a duplicate; discarded (an empty or invalid call).
    """

    DRAFT = "draft"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    HANDLING = "handling"
    REVIEWING = "reviewing"
    REPLIED = "replied"
    CLOSED = "closed"
    CALLED_BACK = "called_back"
    RATED = "rated"
    RETURNED = "returned"
    LINKED = "linked"
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.DRAFT: "草稿",
    Status.ACCEPTED: "受理",
    Status.DISPATCHED: "派单",
    Status.SIGNED: "签收",
    Status.HANDLING: "办理",
    Status.REVIEWING: "待审核",
    Status.REPLIED: "答复",
    Status.CLOSED: "办结",
    Status.CALLED_BACK: "回访",
    Status.RATED: "评价",
    Status.RETURNED: "退单",
    Status.LINKED: "重复",
    Status.DISCARDED: "无效",
}

# States in which a department still owes the citizen an answer: supervision and
# urging apply.
OPEN_STATUSES = frozenset(
    {Status.DISPATCHED, Status.SIGNED, Status.HANDLING, Status.REVIEWING, Status.RETURNED}
)
# States in which nothing more is done for the citizen: a callback task on such a
# ticket is no longer owed.  A ticket linked as a duplicate is not among them: its
# caller still asked to be called back.
FINISHED_STATUSES = frozenset({Status.CLOSED, Status.CALLED_BACK, Status.RATED, Status.DISCARDED})
# States counted as overdue once the due date has passed (a reply stops the clock).
RUNNING_STATUSES = frozenset(
    {
        Status.ACCEPTED,
        Status.DISPATCHED,
        Status.SIGNED,
        Status.HANDLING,
        Status.REVIEWING,
        Status.RETURNED,
    }
)
# States in which a department holds the ticket (and its users may act on it).
WITH_DEPARTMENT = frozenset({Status.DISPATCHED, Status.SIGNED, Status.HANDLING, Status.REVIEWING})


class Rating(StrEnum):
    """好差评: the citizen's rating at the callback, five levels (5 非常满意 … 1
    非常不满意); the last two are 差评."""

    VERY_SATISFIED = "非常满意"
    SATISFIED = "满意"
    BASICALLY_SATISFIED = "基本满意"
    DISSATISFIED = "不满意"
    VERY_DISSATISFIED = "非常不满意"

    @property
    def score(self) -> int:
        """5 for 非常满意 down to 1 for 非常不满意 (the key the citizen presses)."""
        return _RATING_SCORES[self]

    @property
    def is_bad(self) -> bool:
        """差评: 不满意 or 非常不满意."""
        return self.score <= 2

    @property
    def is_satisfied(self) -> bool:
        """Counted in 满意率: 非常满意, 满意 and 基本满意."""
        return self.score >= 3

    @classmethod
    def from_score(cls, score: int) -> Rating:
        for rating, value in _RATING_SCORES.items():
            if value == score:
                return rating
        raise ValueError(f"a rating is 1 to 5, not {score}")


_RATING_SCORES = {
    Rating.VERY_SATISFIED: 5,
    Rating.SATISFIED: 4,
    Rating.BASICALLY_SATISFIED: 3,
    Rating.DISSATISFIED: 2,
    Rating.VERY_DISSATISFIED: 1,
}


class Resolution(StrEnum):
    """Whether the citizen says the problem was solved (asked at the 回访)."""

    SOLVED = "已解决"
    PARTLY = "部分解决"
    UNSOLVED = "未解决"

    @property
    def key(self) -> str:
        """The key the citizen presses for it: 1 solved, 2 not, 3 partly."""
        return {Resolution.SOLVED: "1", Resolution.UNSOLVED: "2", Resolution.PARTLY: "3"}[self]


class CallbackReason(StrEnum):
    """Why the citizen is to be called back: a voice message left after hours or
    under overload (留言回电), or key 1 pressed while queued (预约回电, the caller
    keeps their place)."""

    VOICEMAIL = "voicemail"
    QUEUE = "queue"

    @property
    def label(self) -> str:
        return _CALLBACK_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> CallbackReason:
        """A reason from its value (``voicemail``) or its label (留言回电);
        ``ValueError`` naming the choices otherwise."""
        key = text.strip()
        for reason in cls:
            if key.lower() == reason.value or key == reason.label:
                return reason
        choices = ", ".join(f"{r.value} ({r.label})" for r in cls)
        raise ValueError(f"there is no callback reason {text!r}; choose one of {choices}")


_CALLBACK_LABELS = {CallbackReason.VOICEMAIL: "留言回电", CallbackReason.QUEUE: "预约回电"}


def _callback_reason(value: object) -> None:
    """Put a valid callback reason given as text (``"queue"``) back as its enum;
    ``ValueError`` for an unknown one."""
    reason = getattr(value, "callback_reason", "")
    if reason and not isinstance(reason, CallbackReason):
        object.__setattr__(value, "callback_reason", CallbackReason.parse(str(reason)))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change to a ticket: who did what, when, from which state to which, and why."""

    at: datetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    """A pending request by the lead department for more time (延期申请)."""

    requested_at: datetime
    requested_by: str
    working_days: int
    reason: str


class AssignmentRole(StrEnum):
    """A department's part in a ticket: it leads and answers for the whole (主办),
    helps the lead (协办), or was called in by a street's whistle (吹哨报到)."""

    LEAD = "lead"
    CO = "co"
    WHISTLE = "whistle"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    AssignmentRole.LEAD: "主办",
    AssignmentRole.CO: "协办",
    AssignmentRole.WHISTLE: "吹哨报到",
}


@dataclass(frozen=True, slots=True)
class Assignment:
    """One department's part in a ticket now.

    ``due_at`` is when it must sign (lead and co: 签收) or report in (whistle: 报到);
    ``signed_at`` when it did; ``reported_at`` and ``report`` its part of the answer
    (co and whistle: what it did, for the lead to answer for the whole).  ``urged_at``
    is when the sweep urged it for a missed ``due_at``."""

    department: str
    role: AssignmentRole
    assigned_at: datetime
    assigned_by: str
    due_at: datetime | None = None
    signed_at: datetime | None = None
    reported_at: datetime | None = None
    report: str = ""
    urged_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.role, AssignmentRole):
            object.__setattr__(self, "role", AssignmentRole(self.role))

    @property
    def owes_report(self) -> bool:
        """A co-handler or a whistled department that has not reported its part."""
        return self.role is not AssignmentRole.LEAD and self.reported_at is None


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """A department's request to hand the ticket back (申请退单): only "not our
    responsibility", with the department it should go to, awaiting the centre."""

    requested_at: datetime
    requested_by: str
    department: str  # the department that asks
    reason: str
    suggested: str = ""  # where it should go, in the asker's view
    previous_status: Status = Status.DISPATCHED  # where a refusal sends it back

    def __post_init__(self) -> None:
        if not isinstance(self.previous_status, Status):
            object.__setattr__(self, "previous_status", Status(self.previous_status))


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """The handler's answer (答复) awaiting the department's reviewer (内部审核)."""

    text: str
    drafted_at: datetime
    drafted_by: str
    department: str


@dataclass(frozen=True, slots=True)
class MergedCaller:
    """Another citizen whose repeat of the same matter was merged into this ticket
    (并单): they are called back too."""

    number: str
    ticket: str  # the repeat's own ticket number, linked to this one
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """What is known about a request before it has a number: filled from a call
    (understanding, transcript, recording) or by an agent."""

    channel: Channel = Channel.PHONE
    caller_number: str = ""
    caller_name: str = ""
    confidential: bool = False
    request_type: RequestType = RequestType.CONSULTATION
    domain: str = ""
    category_code: str = ""
    category_path: str = ""  # in the city's three-level tree: level1/level2/level3
    lead_department: str = ""
    co_departments: tuple[str, ...] = ()
    address: str = ""
    content: str = ""
    summary: str = ""
    transcript: str = ""
    call_id: str = ""
    recording_dir: str = ""
    emergency_number: str = ""
    needs_agent_review: bool = False  # empty or unintelligible transcript
    callback_number: str = ""  # the number to call back; empty: no callback task
    callback_reason: str = ""  # a CallbackReason (text is accepted); empty when none
    callback_done_at: datetime | None = None  # when the citizen was called back
    declined_callback: bool = False  # the caller asked not to be called back (不需回访)

    def __post_init__(self) -> None:
        _callback_reason(self)


@dataclass(frozen=True, slots=True)
class Ticket:
    """工单: one citizen request, from first contact to the citizen's rating.

    ``owner`` is the agent who accepted it and stays responsible for it to the
    end (首接负责制).  ``linked_to`` names the earlier ticket this one repeats
    (重复诉求).  ``callback_number`` is the callback task (the caller left a
    message or pressed 1 while queued; ``callback_reason`` says which), done at
    ``callback_done_at``.
    """

    number: str
    created_at: datetime
    status: Status
    due_date: date
    channel: Channel = Channel.PHONE
    caller_number: str = ""
    caller_name: str = ""
    confidential: bool = False
    request_type: RequestType = RequestType.CONSULTATION
    domain: str = ""
    category_code: str = ""
    category_path: str = ""  # in the city's three-level tree: level1/level2/level3
    lead_department: str = ""
    co_departments: tuple[str, ...] = ()
    address: str = ""
    content: str = ""
    summary: str = ""
    transcript: str = ""
    call_id: str = ""
    recording_dir: str = ""
    emergency_number: str = ""
    needs_agent_review: bool = False
    owner: str = ""
    linked_to: str = ""
    reply: str = ""
    rating: Rating | None = None
    extension: ExtensionRequest | None = None
    callback_number: str = ""
    callback_reason: str = ""  # a CallbackReason; empty when there is no callback task
    callback_done_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    assignments: tuple[Assignment, ...] = ()
    reply_draft: ReplyDraft | None = None
    return_request: ReturnRequest | None = None
    merged_callers: tuple[MergedCaller, ...] = ()
    due_soon_at: datetime | None = None  # the sweep marked it 即将超期
    overdue_at: datetime | None = None  # the sweep marked it 超期 (催办 and 督办 sent)
    escalated_at: datetime | None = None  # still overdue N working days later: escalated again
    supervised: bool = False  # 督办件: the centre supervises it
    declined_callback: bool = False  # the caller asked not to be called back (不需回访)
    resolution: Resolution | None = None  # solved or not, as the citizen said at the 回访
    verification_review: bool = False  # 未解决 or 差评: the centre decides 重办 or not
    redo_count: int = 0  # times reopened (重办) after the citizen's answer
    audit: tuple[AuditEntry, ...] = ()

    def __post_init__(self) -> None:
        _callback_reason(self)

    @classmethod
    def from_draft(
        cls, draft: TicketDraft, number: str, created_at: datetime, due_date: date
    ) -> Ticket:
        """A new ticket in the draft state; its first audit entry records the creation."""
        values = {name: getattr(draft, name) for name in TicketDraft.__dataclass_fields__}
        entry = AuditEntry(created_at, "system", "create", None, Status.DRAFT)
        return cls(
            number=number,
            created_at=created_at,
            status=Status.DRAFT,
            due_date=due_date,
            updated_at=created_at,
            audit=(entry,),
            **values,
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def lead(self) -> Assignment | None:
        """The lead department's assignment (主办), if dispatched."""
        return next((a for a in self.assignments if a.role is AssignmentRole.LEAD), None)

    def assignment_of(self, department: str) -> Assignment | None:
        """``department``'s own assignment on this ticket, if it has one."""
        return next((a for a in self.assignments if a.department == department), None)

    @property
    def departments(self) -> tuple[str, ...]:
        """Every department with a part in the ticket now, the lead first."""
        return tuple(a.department for a in self.assignments)

    @property
    def reports_missing(self) -> tuple[str, ...]:
        """The co-handlers and whistled departments that have not reported their part."""
        return tuple(a.department for a in self.assignments if a.owes_report)

    @property
    def callback_due(self) -> bool:
        """A callback task is waiting: a number to call, not yet called, and the
        ticket not finished."""
        return (
            bool(self.callback_number)
            and self.callback_done_at is None
            and self.status not in FINISHED_STATUSES
        )

    def is_overdue(self, today: date) -> bool:
        """Past its due date while the citizen still waits for an answer."""
        return self.status in RUNNING_STATUSES and today > self.due_date


_NUMBER = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]{0,15})-(?P<day>\d{8})-(?P<seq>\d{6,})$")


def format_number(prefix: str, day: date, sequence: int) -> str:
    """``GD12345-20261128-000123``: prefix, the day, and that day's sequence."""
    if sequence < 1:
        raise ValueError(f"a ticket sequence starts at 1, not {sequence}")
    return f"{prefix}-{day:%Y%m%d}-{sequence:06d}"


def parse_number(number: str) -> tuple[str, date, int]:
    """The prefix, day and sequence of a ticket number; ``ValueError`` if malformed."""
    match = _NUMBER.match(number.strip())
    if match is None:
        raise ValueError(f"{number!r} is not a ticket number like GD12345-20261128-000123")
    try:
        day = datetime.strptime(match["day"], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{number!r} has no valid date in it") from None
    return match["prefix"], day, int(match["seq"])
