"""Who is called back (回访), when, and what an attempt's end means.

- :func:`plan_round`: when a ticket is closed (办结), one task per citizen — its
  caller and everyone merged into it — due within ``within_working_days`` working
  days, first tried at the next calling window.  Anonymous callers, citizens who
  declined callbacks and numbers on the do-not-call list get a skipped task with
  the reason; a ticket closed at first contact (即时办结) is verified only when
  sampled, one left out gets skipped tasks too (``not_sampled``: the draw is made
  once per round, not again at every planning pass).  A second round comes only
  after the ticket was reopened (重办).
- :func:`after_attempt`: an attempt's outcome moves the task on: answered → done,
  a failure with tries left → the next try ``retry_after_min`` later (inside
  calling hours), otherwise → a person (待人工回访) with the reason.
- :func:`on_site_due`: which closed tickets get a 现场核查 (sampled, or disputed).

Pure functions over :class:`tickets.verification_tasks.VerificationTask`, with
the clock and the random draw passed in.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sip_config.settings import Settings
from tickets.callbacks import CallbackError, callback_number
from tickets.model import Ticket
from tickets.policy import TicketPolicy
from tickets.verification_tasks import (
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from verification.calling_hours import CallingHours


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """``[verification]`` as the scheduler uses it."""

    hours: CallingHours = field(default_factory=CallingHours)
    within_working_days: int = 2
    attempts: int = 3
    retry_after_min: float = 60.0
    sample_close_at_once: float = 0.2  # share of 即时办结 tickets verified too
    close_at_once: bool = False  # True: every 即时办结 ticket, not a sample
    on_site_sample: float = 0.0  # share of closed tickets also checked on the spot

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"verification.attempts must be at least 1, not {self.attempts}")
        if self.within_working_days < 1:
            raise ValueError(
                "verification.within_working_days must be at least 1, "
                f"not {self.within_working_days}"
            )
        for name in ("sample_close_at_once", "on_site_sample"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"verification.{name} is a share from 0 to 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> VerificationPolicy:
        """``[verification]`` on the tickets' calendar and time zone."""
        section = settings.verification
        calendar = TicketPolicy.from_settings(settings.tickets).deadlines.calendar
        hours = CallingHours(
            section.windows(), calendar, settings.tickets.timezone, section.weekends
        )
        return cls(
            hours=hours,
            within_working_days=section.within_working_days,
            attempts=section.attempts,
            retry_after_min=section.retry_after_min,
            sample_close_at_once=section.sample_close_at_once,
            close_at_once=section.close_at_once,
            on_site_sample=section.on_site_sample,
        )


def load_do_not_call(path: Path | None) -> frozenset[str]:
    """The do-not-call list: one number per line, ``#`` starts a comment, spaces and
    dashes ignored, full-width digits (１３８…) read as digits, a byte-order mark
    skipped.  ``ValueError`` naming the line for one that is no number."""
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ValueError(f"verification.do_not_call: cannot read {path}: {exc}") from None
    numbers = set()
    for index, line in enumerate(lines, start=1):
        # NFKC: a number typed in full width would never match the caller's otherwise
        text = unicodedata.normalize("NFKC", line).split("#", 1)[0].strip()
        if not text:
            continue
        try:
            numbers.add(callback_number(text))
        except CallbackError:
            raise ValueError(
                f"verification.do_not_call: {path}:{index}: {text!r} is not a phone number"
            ) from None
    return frozenset(numbers)


def citizens(ticket: Ticket) -> list[tuple[str, str]]:
    """``(number as given, dialable number or "")`` for the caller and each merged
    caller, each number once, the caller first."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for given in (ticket.caller_number, *(m.number for m in ticket.merged_callers)):
        try:
            number = callback_number(given)
        except CallbackError:
            number = ""
        key = number or given.strip()
        if key in seen:
            continue
        seen.add(key)
        found.append((given, number))
    return found


def closed_at_once(ticket: Ticket) -> bool:
    return any(entry.action == "close_at_once" for entry in ticket.audit)


def plan_round(
    ticket: Ticket,
    policy: VerificationPolicy,
    now: datetime,
    draw: float,
    round_: int = 1,
    do_not_call: Collection[str] = (),
) -> list[VerificationTask]:
    """The tasks of one round for a ticket closed (at its ``closed_at``, else
    ``now``), planned at ``now``; ``draw`` is a uniform
    number in [0, 1) that decides sampling.  A 即时办结 ticket left out of the
    sample gets skipped tasks (``not_sampled``), so that the round counts as planned
    and the ticket is not drawn again."""
    at_once = closed_at_once(ticket)
    left_out = at_once and not policy.close_at_once and draw >= policy.sample_close_at_once
    # The working days count from the close (a hub that was down gives no extra days).
    closed = ticket.closed_at if ticket.closed_at is not None and ticket.closed_at <= now else now
    local_day = policy.hours.local(closed).date()
    due_day = policy.hours.calendar.add_working_days(local_day, policy.within_working_days)
    due_by = policy.hours.last_close(due_day)
    first = policy.hours.next_open(now)
    lead = ticket.lead.department if ticket.lead is not None else ticket.lead_department
    tasks = []
    for given, number in citizens(ticket) or [("", "")]:
        reason = None
        if left_out:
            reason = TaskReason.NOT_SAMPLED
        elif not number:
            reason = TaskReason.ANONYMOUS
        elif ticket.declined_callback and given == ticket.caller_number:
            reason = TaskReason.DECLINED_CALLBACKS
        elif number in do_not_call:
            reason = TaskReason.DO_NOT_CALL
        tasks.append(
            VerificationTask(
                ticket=ticket.number,
                number=number or given,
                kind=TaskKind.CALL,
                state=TaskState.SKIPPED if reason else TaskState.SCHEDULED,
                created_at=now,
                due_by=due_by,
                next_at=None if reason else first,
                round=round_,
                reason=reason,
                sampled=at_once and not left_out,
                department=lead,
                updated_at=now,
            )
        )
    return tasks


def on_site_due(
    ticket: Ticket, policy: VerificationPolicy, now: datetime, draw: float, disputed: bool
) -> VerificationTask | None:
    """A 现场核查 task for every disputed result and for a sample of the others."""
    if not disputed and draw >= policy.on_site_sample:
        return None
    local_day = policy.hours.local(now).date()
    due_day = policy.hours.calendar.add_working_days(local_day, policy.within_working_days)
    lead = ticket.lead.department if ticket.lead is not None else ticket.lead_department
    return VerificationTask(
        ticket=ticket.number,
        number=ticket.caller_number,
        kind=TaskKind.ON_SITE,
        state=TaskState.NEEDS_PERSON,
        created_at=now,
        due_by=policy.hours.last_close(due_day),
        reason=TaskReason.DISPUTED if disputed else TaskReason.SAMPLED,
        sampled=not disputed,
        department=lead,
        updated_at=now,
    )


def is_due(task: VerificationTask, now: datetime, hours: CallingHours) -> bool:
    """The node should place this task's next attempt now."""
    return (
        task.kind is TaskKind.CALL
        and task.state is TaskState.SCHEDULED
        and task.next_at is not None
        and task.next_at <= now
        and (task.forced or hours.is_open(now))
    )


def start_attempt(task: VerificationTask, call_id: str, now: datetime) -> VerificationTask:
    """The task while its survey call is on the line."""
    if task.state is not TaskState.SCHEDULED:
        raise ValueError(f"task {task.id} is {task.state.label}, not waiting for a call")
    return dataclasses.replace(
        task, state=TaskState.CALLING, call_id=call_id, next_at=None, updated_at=now
    )


def after_attempt(
    task: VerificationTask,
    attempt: Attempt,
    policy: VerificationPolicy,
    now: datetime,
    needs_person: TaskReason | None = None,
) -> VerificationTask:
    """The task once ``attempt`` has ended.  ``needs_person`` (a 差评 to follow up,
    unclear answers, a complaint) hands an answered task to a verifier."""
    attempts = (*task.attempts, attempt)
    outcome = attempt.outcome
    changes: dict[str, object] = {
        "attempts": attempts,
        "updated_at": now,
        "next_at": None,
        "forced": False,
    }
    tried = sum(1 for a in attempts if a.by == "system")
    if outcome is AttemptOutcome.COMPLETED:
        changes["state"] = TaskState.NEEDS_PERSON if needs_person else TaskState.DONE
        changes["reason"] = needs_person
    elif outcome is AttemptOutcome.DECLINED:
        changes["state"], changes["reason"] = TaskState.SKIPPED, TaskReason.DECLINED_CALLBACKS
    elif outcome is AttemptOutcome.WRONG_PERSON:
        changes["state"], changes["reason"] = TaskState.NEEDS_PERSON, TaskReason.WRONG_PERSON
    elif outcome is AttemptOutcome.TO_AGENT:
        changes["state"], changes["reason"] = TaskState.NEEDS_PERSON, TaskReason.TO_AGENT
    elif needs_person is not None:
        changes["state"], changes["reason"] = TaskState.NEEDS_PERSON, needs_person
    elif outcome.worth_retrying and tried < policy.attempts:
        later = policy.hours.next_open(now + timedelta(minutes=policy.retry_after_min))
        if later > task.due_by:  # no try left inside the time allowed: a person calls
            changes["state"], changes["reason"] = TaskState.NEEDS_PERSON, TaskReason.OVERDUE
        else:
            changes["state"], changes["next_at"] = TaskState.SCHEDULED, later
    else:
        changes["state"], changes["reason"] = TaskState.NEEDS_PERSON, TaskReason.UNREACHED
    return dataclasses.replace(task, **changes)  # type: ignore[arg-type]


def cancel_round(task: VerificationTask, now: datetime) -> VerificationTask:
    """An open task whose ticket was reopened: its round is over unanswered."""
    if task.state.finished:
        return task
    return dataclasses.replace(task, state=TaskState.CANCELLED, next_at=None, updated_at=now)
