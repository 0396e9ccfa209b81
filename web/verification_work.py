"""What a verifier does with a 回访 task, applied to the store: take it (领取), enter
what the citizen said on the phone (录入结果), enter a 现场核查's finding (核查结果).

Each reads the task afresh and writes it in one transaction with what it does to
the ticket (:meth:`~tickets.verification_store.VerificationStore.save`); the rules
are :mod:`verification.outcome`'s.  A step that cannot be taken raises
:class:`Refused` with the reason (the API's 409).  Blocking (SQL): the routers
run these in a thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tickets.lifecycle import Action, TransitionError, transition
from tickets.model import Rating, Resolution, Ticket
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import TaskKind, TaskState, VerificationTask
from verification.outcome import (
    NOTE_AT_MOST,
    VERIFIABLE,
    NotVerifiable,
    answered_by_person,
    checked_on_site,
    disputed,
    ticket_after_answers,
)
from verification.survey_answers import comment_disputes
from web.verification_views import ENTERABLE


class Refused(Exception):
    """The step cannot be taken on the task as it stands; the message says why."""

    retryable = False


@dataclass(frozen=True)
class Entered:
    """A task after a verifier's step, its ticket as it stands, and, when the answers
    could not reach the ticket (reopened meanwhile), why: they stay on the task."""

    task: VerificationTask
    ticket: Ticket
    not_verified: str = ""


def _held_elsewhere(task: VerificationTask, who: str) -> str:
    if task.assigned_to and task.assigned_to != who:
        return f"已由 {task.assigned_to} 领取 (task {task.id} is held by {task.assigned_to})"
    return ""


def take(
    store: VerificationStore, task_id: int, who: str, now: datetime, take_over: bool = False
) -> VerificationTask:
    """The task held by ``who`` (领取); ``take_over``: even from another verifier (a
    supervisor reassigning it)."""
    task = store.get(task_id)
    if task.state.finished:
        raise Refused(f"task {task_id} is {task.state.label}: nothing to take")
    if not take_over and (held := _held_elsewhere(task, who)):
        raise Refused(held)
    if task.assigned_to == who:
        return task
    taken, _ = store.save(dataclasses.replace(task, assigned_to=who, updated_at=now))
    return taken


def enter_result(
    store: VerificationStore,
    task_id: int,
    who: str,
    now: datetime,
    *,
    reached: bool,
    resolution: Resolution | None,
    rating: Rating | None,
    comment: str,
) -> Entered:
    """What a verifier heard from the citizen on the phone (``reached`` False: they
    could not reach them either).  Answers go onto the ticket through 回访 and 评价
    (:func:`~verification.outcome.ticket_after_answers`, a disputing comment flagging
    it for review); a ticket that moved on (reopened) keeps the answers on the task
    only, with :attr:`Entered.not_verified` saying why."""
    task = store.get(task_id)
    if task.kind is not TaskKind.CALL:
        raise Refused(f"task {task_id} is a {task.kind.label}: enter its finding as 核查结果")
    if task.state not in ENTERABLE:
        raise Refused(f"task {task_id} is {task.state.label}: no answers to enter now")
    if held := _held_elsewhere(task, who):
        raise Refused(held)
    answered = answered_by_person(task, who, now, resolution, rating, comment, reached)
    if not reached and answered.state is TaskState.SCHEDULED:
        # a verifier tried it: it stays with them (the node's next try is not planned)
        answered = dataclasses.replace(answered, state=TaskState.NEEDS_PERSON)
    disputes = reached and comment_disputes(comment)

    def change(ticket: Ticket) -> Ticket | None:
        if not reached:
            return None
        return ticket_after_answers(
            ticket, resolution, rating, comment, now, actor=who, comment_disputes=disputes
        )

    try:
        saved, changed = store.save(answered, ticket_change=change)
    except (NotVerifiable, TransitionError) as exc:
        saved, _ = store.save(answered)  # the answers stay on the task
        return Entered(saved, store.tickets.get(task.ticket), str(exc))
    return Entered(saved, changed or store.tickets.get(task.ticket))


def enter_on_site(
    store: VerificationStore,
    task_id: int,
    who: str,
    now: datetime,
    *,
    resolution: Resolution,
    notes: str,
    attachments: Sequence[int] = (),
) -> Entered:
    """A 现场核查's finding: ``notes`` (what was found; the photos named when
    ``attachments`` of the ticket are given).  An unsolved finding (未解决, 部分解决)
    flags a closed (回访, 评价) ticket for the centre's review unless it awaits it."""
    task = store.get(task_id)
    if task.kind is not TaskKind.ON_SITE:
        raise Refused(f"task {task_id} is a {task.kind.label}: enter what the citizen said")
    if task.state.finished:
        raise Refused(f"task {task_id} is {task.state.label}: its finding is entered")
    if held := _held_elsewhere(task, who):
        raise Refused(held)
    files = {a.id: a.name for a in store.tickets.attachments(task.ticket)}
    unknown = [n for n in attachments if n not in files]
    if unknown:
        raise Refused(f"{task.ticket} has no attachment {unknown}; upload the photos first")
    if attachments:
        notes = f"{notes}\n现场照片：{'、'.join(files[n] for n in dict.fromkeys(attachments))}"
    try:
        checked = checked_on_site(task, who, now, resolution, notes)
    except ValueError as exc:
        raise Refused(str(exc)) from None

    def change(ticket: Ticket) -> Ticket | None:
        if not disputed(resolution, None) or ticket.status not in VERIFIABLE:
            return None
        if ticket.verification_review:
            return None
        return transition(
            ticket,
            Action.FLAG_REVIEW,
            who,
            now,
            reason=f"现场核查：{resolution.value}",
            note=notes[:NOTE_AT_MOST],
        )

    saved, changed = store.save(checked, ticket_change=change)
    return Entered(saved, changed or store.tickets.get(task.ticket))
