"""What a citizen's answers do: to the 回访 task and to the ticket.

- :func:`ticket_after_answers`: the ticket through 回访 and 评价 the first time a
  citizen answers (with 已解决/未解决 and the rating); a later citizen of a merged
  ticket, or a ticket already rated, only flags the ticket for the centre's
  review when they dispute the result (未解决, 部分解决, 差评, or a comment that
  says so).  The centre then decides 重办 or 维持办结.
- :func:`answered_by_person`: a verifier entered what the citizen said on the
  phone (their own call from the console, or a call back).
- :func:`checked_on_site`: a verifier's 现场核查 result.

Pure: tasks and tickets in, new ones out; the store writes both in one
transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tickets.lifecycle import Action, transition
from tickets.model import Rating, Resolution, Status, Ticket
from tickets.verification_tasks import (
    AnswerSource,
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)

NOTE_AT_MOST = 500  # characters of a comment carried onto the ticket's audit entry
VERIFIABLE = frozenset({Status.CLOSED, Status.CALLED_BACK, Status.RATED})


class NotVerifiable(Exception):
    """The ticket is no longer closed (reopened, say): answers cannot rate it."""

    retryable = False


def disputed(resolution: Resolution | None, rating: Rating | None) -> bool:
    unsolved = resolution in (Resolution.UNSOLVED, Resolution.PARTLY)
    return unsolved or (rating is not None and rating.is_bad)


def ticket_after_answers(
    ticket: Ticket,
    resolution: Resolution | None,
    rating: Rating | None,
    comment: str,
    now: datetime,
    actor: str = "system",
    comment_disputes: bool = False,
) -> Ticket | None:
    """The ticket after a citizen's answers; None when nothing changes.  Raises
    :class:`NotVerifiable` for a ticket that moved on (reopened meanwhile): the
    answers then stay on the task only."""
    if resolution is None and rating is None:
        return None
    if ticket.status not in VERIFIABLE:
        raise NotVerifiable(
            f"{ticket.number} is {ticket.status.label} now: the answers stay on the 回访 task"
        )
    note = comment.strip()[:NOTE_AT_MOST]
    changed = ticket
    if changed.status is Status.CLOSED:
        changed = transition(changed, Action.CALLBACK, actor, now, note="回访")
    if changed.status is Status.CALLED_BACK:
        changed = transition(
            changed, Action.RATE, actor, now, rating=rating, resolution=resolution, note=note
        )
    elif disputed(resolution, rating) and not changed.verification_review:
        changed = transition(
            changed, Action.FLAG_REVIEW, actor, now, reason=_reason(resolution, rating), note=note
        )
    if comment_disputes and not changed.verification_review:
        changed = transition(
            changed, Action.FLAG_REVIEW, actor, now, reason="回访意见表示问题未解决", note=note
        )
    return changed if changed is not ticket else None


def attempt_noted(
    ticket: Ticket, task: VerificationTask, attempt: Attempt, now: datetime
) -> Ticket | None:
    """The ticket with a 回访记录 entry for a try that rated nothing (no answer, busy,
    wrong person, …): its history, and the events that follow it, carry every
    attempt.  None when the ticket is no longer closed."""
    if ticket.status not in VERIFIABLE:
        return None
    return transition(
        ticket,
        Action.VERIFICATION_ATTEMPT,
        attempt.by or "system",
        now,
        reason=f"第{len(task.attempts) + 1}次回访：{attempt.outcome.label}",
        note=attempt.detail,
        caller_number=task.number,
    )


def _reason(resolution: Resolution | None, rating: Rating | None) -> str:
    said = [part.value for part in (resolution, rating) if part is not None]
    return "回访：" + "，".join(said)


def answered_by_person(
    task: VerificationTask,
    by: str,
    now: datetime,
    resolution: Resolution | None,
    rating: Rating | None,
    comment: str = "",
    reached: bool = True,
) -> VerificationTask:
    """The task with what a verifier heard from the citizen (``reached`` False: the
    verifier could not reach them either; the task stays with a person, the try
    noted).  Answers given close the task."""
    outcome = AttemptOutcome.COMPLETED if reached else AttemptOutcome.NO_ANSWER
    attempt = Attempt(now, outcome, "", by, "entered by a verifier", now)
    changes: dict[str, object] = {
        "attempts": (*task.attempts, attempt),
        "assigned_to": task.assigned_to or by,
        "updated_at": now,
        "next_at": None,
    }
    if reached and (resolution is not None or rating is not None):
        changes |= {
            "state": TaskState.DONE,
            "reason": None,
            "resolution": resolution,
            "resolution_source": AnswerSource.PERSON if resolution is not None else None,
            "rating": rating,
            "rating_source": AnswerSource.PERSON if rating is not None else None,
            "comment": comment.strip(),
        }
    elif reached:
        changes |= {"comment": comment.strip()}
    return dataclasses.replace(task, **changes)  # type: ignore[arg-type]


def checked_on_site(
    task: VerificationTask, by: str, now: datetime, resolution: Resolution, notes: str
) -> VerificationTask:
    """A 现场核查 done: what the verifier found (solved or not) and their notes."""
    if task.kind is not TaskKind.ON_SITE:
        raise ValueError(f"task {task.id} is a {task.kind.label}, not a 现场核查")
    if not notes.strip():
        raise ValueError("a 现场核查 needs notes: what was found on the spot")
    attempt = Attempt(now, AttemptOutcome.COMPLETED, "", by, "现场核查", now)
    return dataclasses.replace(
        task,
        state=TaskState.DONE,
        reason=task.reason if task.reason in (TaskReason.DISPUTED, TaskReason.SAMPLED) else None,
        attempts=(*task.attempts, attempt),
        resolution=resolution,
        resolution_source=AnswerSource.PERSON,
        notes=notes.strip(),
        assigned_to=task.assigned_to or by,
        updated_at=now,
    )
