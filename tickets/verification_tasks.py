"""回访 tasks: a citizen to be called back about a ticket's result, the attempts
made, and what the citizen said.

One task per citizen per round: the ticket's caller and every caller merged into
it, each round beginning when the ticket is closed (a 重办 starts the next
round).  A task is called by the node (``kind`` call) or checked on the spot by a
verifier (``kind`` on_site, 现场核查).  The policy — who, when, how often — is
:mod:`verification.schedule`; this module is only the record, kept by
:class:`tickets.verification_store.VerificationStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tickets.model import Rating, Resolution


class TaskKind(StrEnum):
    CALL = "call"  # 电话回访, by the node or a verifier's softphone
    ON_SITE = "on_site"  # 现场核查

    @property
    def label(self) -> str:
        return {TaskKind.CALL: "电话回访", TaskKind.ON_SITE: "现场核查"}[self]


class TaskState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its next attempt
    CALLING = "calling"  # a survey call is on the line
    NEEDS_PERSON = "needs_person"  # a verifier takes it from here
    DONE = "done"  # answered (or checked on the spot)
    SKIPPED = "skipped"  # not called, with the reason
    CANCELLED = "cancelled"  # the ticket was reopened before the call

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def finished(self) -> bool:
        return self in (TaskState.DONE, TaskState.SKIPPED, TaskState.CANCELLED)


_STATE_LABELS = {
    TaskState.SCHEDULED: "待回访",
    TaskState.CALLING: "回访中",
    TaskState.NEEDS_PERSON: "待人工回访",
    TaskState.DONE: "已回访",
    TaskState.SKIPPED: "不回访",
    TaskState.CANCELLED: "已撤销",
}


class AttemptOutcome(StrEnum):
    """How one attempt ended."""

    COMPLETED = "completed"  # both questions answered
    INCOMPLETE = "incomplete"  # reached, but hung up (or fell silent) before answering
    NO_ANSWER = "no_answer"  # rang out
    BUSY = "busy"
    REJECTED = "rejected"  # the citizen declined the call
    UNREACHABLE = "unreachable"  # switched off, no such number, the trunk failed
    ANSWERING_MACHINE = "answering_machine"  # a carrier's announcement or voicemail
    WRONG_PERSON = "wrong_person"  # 打错了 / 不是我
    DECLINED = "declined"  # reached, and does not want to be surveyed
    TO_AGENT = "to_agent"  # asked for a person or reported an emergency: bridged to an agent
    LOST = "lost"  # the media worker died during the call

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]

    @property
    def reached(self) -> bool:
        """The citizen was on the line (联系成功)."""
        return self in _REACHED

    @property
    def worth_retrying(self) -> bool:
        """Another attempt may reach the citizen (when attempts are left)."""
        return self in _RETRY


_OUTCOME_LABELS = {
    AttemptOutcome.COMPLETED: "完成",
    AttemptOutcome.INCOMPLETE: "未答完",
    AttemptOutcome.NO_ANSWER: "无人接听",
    AttemptOutcome.BUSY: "占线",
    AttemptOutcome.REJECTED: "拒接",
    AttemptOutcome.UNREACHABLE: "无法接通",
    AttemptOutcome.ANSWERING_MACHINE: "语音信箱",
    AttemptOutcome.WRONG_PERSON: "非本人",
    AttemptOutcome.DECLINED: "拒绝回访",
    AttemptOutcome.TO_AGENT: "转人工",
    AttemptOutcome.LOST: "通话中断",
}
_REACHED = frozenset(
    {
        AttemptOutcome.COMPLETED,
        AttemptOutcome.INCOMPLETE,
        AttemptOutcome.DECLINED,
        AttemptOutcome.TO_AGENT,
    }
)
_RETRY = frozenset(
    {
        AttemptOutcome.INCOMPLETE,
        AttemptOutcome.NO_ANSWER,
        AttemptOutcome.BUSY,
        AttemptOutcome.REJECTED,
        AttemptOutcome.UNREACHABLE,
        AttemptOutcome.ANSWERING_MACHINE,
        AttemptOutcome.LOST,
    }
)


class TaskReason(StrEnum):
    """Why a task was skipped, or why it needs a person."""

    ANONYMOUS = "anonymous"  # no number to call
    DECLINED_CALLBACKS = "declined_callbacks"  # the citizen asked not to be called back
    DO_NOT_CALL = "do_not_call"  # on the do-not-call list
    UNREACHED = "unreached"  # every attempt failed
    UNCLEAR = "unclear"  # answers the survey could not understand
    BAD_RATING = "bad_rating"  # a named citizen's 差评: a person follows up
    COMPLAINT = "complaint"  # a complaint about the survey itself
    WRONG_PERSON = "wrong_person"  # the number is not the citizen's
    TO_AGENT = "to_agent"  # bridged to an agent during the survey
    DISPUTED = "disputed"  # 现场核查 of a disputed result
    SAMPLED = "sampled"  # 现场核查 of a sampled closed ticket
    OVERDUE = "overdue"  # not reached within the working days allowed
    NOT_SAMPLED = "not_sampled"  # a 即时办结 ticket left out of the sample

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    TaskReason.ANONYMOUS: "匿名来电",
    TaskReason.DECLINED_CALLBACKS: "不需回访",
    TaskReason.DO_NOT_CALL: "免打扰号码",
    TaskReason.UNREACHED: "多次未接通",
    TaskReason.UNCLEAR: "答复不清",
    TaskReason.BAD_RATING: "差评跟进",
    TaskReason.COMPLAINT: "对回访不满",
    TaskReason.WRONG_PERSON: "非本人号码",
    TaskReason.TO_AGENT: "已转人工",
    TaskReason.DISPUTED: "结果有争议",
    TaskReason.SAMPLED: "抽查",
    TaskReason.OVERDUE: "超时未回访",
    TaskReason.NOT_SAMPLED: "未抽中",
}


class AnswerSource(StrEnum):
    KEY = "key"  # 按键
    VOICE = "voice"  # 语音
    PERSON = "person"  # entered by a verifier
    WEB = "web"  # the citizen on /track


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: when, through which call, and how it ended."""

    at: datetime
    outcome: AttemptOutcome
    call_id: str = ""
    by: str = "system"  # the verifier who called, or the node
    detail: str = ""  # the SIP status or what was heard
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerificationTask:
    """One citizen to verify one ticket's result with, in one round."""

    ticket: str
    number: str  # the citizen's phone number ("" for an anonymous caller)
    kind: TaskKind
    state: TaskState
    created_at: datetime
    due_by: datetime  # the end of the working days allowed for it
    next_at: datetime | None = None  # the next attempt (None: none planned)
    round: int = 1  # 1, then one more after each 重办
    reason: TaskReason | None = None
    sampled: bool = False  # chosen by sampling (a 即时办结 ticket, a 现场核查)
    attempts: tuple[Attempt, ...] = ()
    resolution: Resolution | None = None
    rating: Rating | None = None
    resolution_source: AnswerSource | None = None
    rating_source: AnswerSource | None = None
    comment: str = ""
    call_id: str = ""  # the call in which the answers were given
    recording_dir: str = ""
    assigned_to: str = ""  # the verifier who holds it
    notes: str = ""  # a verifier's notes (现场核查: what was found)
    department: str = ""  # the ticket's lead department when the task was made
    seat_group: str = ""  # the group whose agent accepted the ticket
    forced: bool = False  # dialled even outside calling hours (hotline verification call --force)
    id: int | None = None
    updated_at: datetime | None = None

    @property
    def tries(self) -> int:
        """Attempts that count towards ``verification.attempts`` (a verifier's own
        calls are not limited)."""
        return sum(1 for a in self.attempts if a.by == "system")

    @property
    def reached(self) -> bool:
        return any(a.outcome.reached for a in self.attempts)

    @property
    def disputed(self) -> bool:
        """未解决 or 差评: the centre reviews the ticket."""
        unsolved = self.resolution in (Resolution.UNSOLVED, Resolution.PARTLY)
        return unsolved or (self.rating is not None and self.rating.is_bad)
