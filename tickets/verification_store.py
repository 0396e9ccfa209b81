"""回访 tasks in the ticket database, written together with the tickets they verify.

A task's answers and the ticket's 回访 and 评价 states are written in one
transaction (:meth:`VerificationStore.save` with ``ticket_change``), so the
ticket's outbox events and the task commit or roll back together.  Planning is
idempotent: a task is unique per ticket, number, round and kind, so two hubs (or
a sweep run twice) never call a citizen twice for one round.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError

from tickets.model import Rating, Resolution, Status, Ticket
from tickets.rows import TicketRow, VerificationTaskRow, to_ticket
from tickets.store import TicketStore
from tickets.verification_tasks import (
    AnswerSource,
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)


class UnknownTask(LookupError):
    """No 回访 task has this id."""

    retryable = False


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """Which tasks to list; empty fields do not filter."""

    states: tuple[TaskState, ...] = ()
    kind: TaskKind | None = None
    ticket: str = ""
    assigned_to: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 500


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _attempt_json(attempt: Attempt) -> dict[str, object]:
    return {
        "at": _time(attempt.at),
        "outcome": attempt.outcome.value,
        "call_id": attempt.call_id,
        "by": attempt.by,
        "detail": attempt.detail,
        "ended_at": _time(attempt.ended_at),
    }


def _attempt(data: dict[str, object]) -> Attempt:
    ended = data.get("ended_at")
    return Attempt(
        at=datetime.fromisoformat(str(data["at"])),
        outcome=AttemptOutcome(str(data["outcome"])),
        call_id=str(data.get("call_id", "")),
        by=str(data.get("by", "system")),
        detail=str(data.get("detail", "")),
        ended_at=datetime.fromisoformat(str(ended)) if ended else None,
    )


def to_task(row: VerificationTaskRow) -> VerificationTask:
    return VerificationTask(
        id=row.id,
        ticket=row.ticket,
        number=row.number,
        kind=TaskKind(row.kind),
        state=TaskState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        due_by=row.due_by,
        next_at=row.next_at,
        round=row.round,
        reason=TaskReason(row.reason) if row.reason else None,
        sampled=row.sampled,
        attempts=tuple(_attempt(a) for a in row.attempts or ()),
        resolution=Resolution(row.resolution) if row.resolution else None,
        rating=Rating(row.rating) if row.rating else None,
        resolution_source=AnswerSource(row.resolution_source) if row.resolution_source else None,
        rating_source=AnswerSource(row.rating_source) if row.rating_source else None,
        comment=row.comment,
        call_id=row.call_id,
        recording_dir=row.recording_dir,
        assigned_to=row.assigned_to,
        notes=row.notes,
        department=row.department,
        seat_group=row.seat_group,
        forced=row.forced,
    )


def _to_row(task: VerificationTask, row: VerificationTaskRow) -> None:
    for name in (
        "ticket",
        "number",
        "created_at",
        "due_by",
        "next_at",
        "round",
        "sampled",
        "comment",
        "call_id",
        "recording_dir",
        "assigned_to",
        "notes",
        "department",
        "seat_group",
        "forced",
    ):
        setattr(row, name, getattr(task, name))
    row.kind, row.state = task.kind.value, task.state.value
    row.updated_at = task.updated_at or task.created_at
    row.reason = task.reason.value if task.reason else ""
    row.attempts = [_attempt_json(a) for a in task.attempts]
    row.resolution = task.resolution.value if task.resolution else ""
    row.rating = task.rating.value if task.rating else ""
    row.resolution_source = task.resolution_source.value if task.resolution_source else ""
    row.rating_source = task.rating_source.value if task.rating_source else ""


class VerificationStore:
    """The 回访 tasks of one ticket database (the :class:`TicketStore`'s)."""

    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    # -- planning ----------------------------------------------------------------

    def closed_unplanned(self, since: datetime, limit: int = 200) -> list[Ticket]:
        """Tickets closed (办结) since ``since`` that have no task for their current
        round yet (round = times reopened + 1), oldest first."""
        planned = exists().where(
            and_(
                VerificationTaskRow.ticket == TicketRow.number,
                VerificationTaskRow.round == TicketRow.redo_count + 1,
                VerificationTaskRow.kind == TaskKind.CALL.value,
            )
        )
        statement = (
            select(TicketRow)
            .where(TicketRow.status == Status.CLOSED.value)
            .where(TicketRow.closed_at >= since)
            .where(~planned)
            .order_by(TicketRow.closed_at)
            .limit(limit)
        )
        with self.tickets._sessions() as session:
            return [to_ticket(row) for row in session.scalars(statement)]

    def add(self, tasks: Sequence[VerificationTask]) -> list[VerificationTask]:
        """Store new tasks; one already planned (same ticket, number, round and kind)
        is left as it is and not returned."""
        added = []
        for task in tasks:
            row = VerificationTaskRow()
            _to_row(task, row)
            try:
                with self.tickets._transaction() as session:
                    session.add(row)
                    session.flush()
                    added.append(dataclasses.replace(task, id=row.id))
            except IntegrityError:
                continue  # planned already, by another hub or an earlier sweep
        return added

    # -- reading -----------------------------------------------------------------

    def get(self, task_id: int) -> VerificationTask:
        with self.tickets._sessions() as session:
            row = session.get(VerificationTaskRow, task_id)
            if row is None:
                raise UnknownTask(f"there is no 回访 task {task_id}")
            return to_task(row)

    def find(self, query: TaskQuery | None = None) -> list[VerificationTask]:
        """Tasks matching ``query``, the soonest due first."""
        query = query or TaskQuery()
        statement = select(VerificationTaskRow)
        if query.states:
            statement = statement.where(
                VerificationTaskRow.state.in_([s.value for s in query.states])
            )
        if query.kind is not None:
            statement = statement.where(VerificationTaskRow.kind == query.kind.value)
        if query.ticket:
            statement = statement.where(VerificationTaskRow.ticket == query.ticket.strip())
        if query.assigned_to:
            statement = statement.where(VerificationTaskRow.assigned_to == query.assigned_to)
        if query.created_from is not None:
            statement = statement.where(VerificationTaskRow.created_at >= query.created_from)
        if query.created_to is not None:
            statement = statement.where(VerificationTaskRow.created_at < query.created_to)
        statement = statement.order_by(VerificationTaskRow.due_by, VerificationTaskRow.id)
        with self.tickets._sessions() as session:
            return [to_task(row) for row in session.scalars(statement.limit(query.limit))]

    def due(self, now: datetime, limit: int = 20) -> list[VerificationTask]:
        """Scheduled call tasks whose next attempt is due by ``now``, the earliest first."""
        statement = (
            select(VerificationTaskRow)
            .where(VerificationTaskRow.state == TaskState.SCHEDULED.value)
            .where(VerificationTaskRow.kind == TaskKind.CALL.value)
            .where(VerificationTaskRow.next_at <= now)
            .order_by(VerificationTaskRow.next_at, VerificationTaskRow.id)
            .limit(limit)
        )
        with self.tickets._sessions() as session:
            return [to_task(row) for row in session.scalars(statement)]

    def for_ticket(self, number: str) -> list[VerificationTask]:
        return self.find(TaskQuery(ticket=number))

    # -- writing -----------------------------------------------------------------

    def claim(self, task: VerificationTask, call_id: str, now: datetime) -> VerificationTask | None:
        """The task marked as being called (``call_id``) if it is still scheduled;
        None when someone else took it first (another hub, a verifier)."""
        assert task.id is not None
        with self.tickets._transaction() as session:
            claimed = session.execute(
                update(VerificationTaskRow)
                .where(VerificationTaskRow.id == task.id)
                .where(VerificationTaskRow.state == TaskState.SCHEDULED.value)
                .values(
                    state=TaskState.CALLING.value, call_id=call_id, next_at=None, updated_at=now
                )
            ).rowcount
        if not claimed:
            return None
        return dataclasses.replace(
            task, state=TaskState.CALLING, call_id=call_id, next_at=None, updated_at=now
        )

    def save(
        self,
        task: VerificationTask,
        ticket_change: Callable[[Ticket], Ticket | None] | None = None,
    ) -> tuple[VerificationTask, Ticket | None]:
        """Write ``task`` and, in the same transaction, what ``ticket_change`` makes
        of its ticket (None from it: the ticket stays as it is).  An exception from
        ``ticket_change`` (a refused transition) rolls both back."""
        assert task.id is not None
        changed = None
        with self.tickets._transaction() as session:
            row = session.get(VerificationTaskRow, task.id, with_for_update=True)
            if row is None:
                raise UnknownTask(f"there is no 回访 task {task.id}")
            _to_row(task, row)
            if ticket_change is not None:
                ticket = to_ticket(self.tickets._row(session, task.ticket, lock=True))
                changed = ticket_change(ticket)
                if changed is not None and changed is not ticket:
                    self.tickets._write(session, changed)
            session.flush()
        return task, changed
