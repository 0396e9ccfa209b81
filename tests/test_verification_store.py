"""tickets.verification_store on SQLite and PostgreSQL: closed tickets waiting for
their round's tasks, planning that never calls a citizen twice for one round, a
task claimed by one hub only, and a task's answers written with the ticket's
回访 and 评价 in one transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import WorkCalendar
from tickets.lifecycle import Action, TransitionError, transition
from tickets.model import Rating, RequestType, Resolution, Status, Ticket, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import TaskQuery, UnknownTask, VerificationStore
from tickets.verification_tasks import (
    AnswerSource,
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from verification.calling_hours import CallingHours
from verification.schedule import VerificationPolicy, after_attempt, on_site_due, plan_round

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
POLICY = VerificationPolicy(hours=CallingHours(calendar=WorkCalendar.china_2026()))
SINCE = MONDAY_10 - timedelta(days=30)
NOISE = TicketDraft(
    caller_number="13800138000",
    request_type=RequestType.COMPLAINT,
    content="小区楼下工地晚上施工，噪音很大",
    summary="工地夜间施工噪音扰民",
)


@pytest.fixture
def store(url: str) -> Iterator[TicketStore]:
    with TicketStore(url) as opened:
        yield opened


@pytest.fixture
def tasks(store: TicketStore) -> VerificationStore:
    return VerificationStore(store)


def closed(store: TicketStore, at: datetime, caller: str = "13800138000") -> str:
    """A complaint worked by the ecology bureau and closed at ``at``."""
    ticket = store.create(dataclasses.replace(NOISE, caller_number=caller), at - timedelta(days=2))
    when = at - timedelta(hours=8)
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "city.ecology"}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": "已责令工地停止夜间施工"}),
        (Action.APPROVE_REPLY, {}),
    ]:
        store.transition(ticket.number, action, "someone", when, **options)
    store.transition(ticket.number, Action.CLOSE, "centre", at)
    return ticket.number


def close_again(store: TicketStore, number: str, at: datetime) -> None:
    for action, options in [
        (Action.REPLY, {"note": "已对工地立案处罚"}),
        (Action.APPROVE_REPLY, {}),
        (Action.CLOSE, {}),
    ]:
        store.transition(number, action, "someone", at, **options)


def planned(tasks: VerificationStore, number: str, now: datetime = MONDAY_10) -> VerificationTask:
    ticket = tasks.tickets.get(number)
    (task,) = tasks.add(plan_round(ticket, POLICY, now, 0.99, round_=ticket.redo_count + 1))
    return task


def numbers(found: Sequence[Ticket]) -> list[str]:
    return [t.number for t in found]


# -- planning ----------------------------------------------------------------------------------


def test_closed_tickets_without_their_rounds_task_are_listed_oldest_first(
    store: TicketStore, tasks: VerificationStore
) -> None:
    older = closed(store, MONDAY_10 - timedelta(hours=3))
    newer = closed(store, MONDAY_10 - timedelta(hours=1), caller="13700137000")
    long_ago = closed(store, SINCE - timedelta(days=1), caller="13600136000")
    still_open = store.create(NOISE, MONDAY_10)
    store.transition(still_open.number, Action.ACCEPT, "agent-1", MONDAY_10)
    found = tasks.closed_unplanned(SINCE)
    assert numbers(found) == [older, newer]
    assert long_ago not in numbers(tasks.closed_unplanned(SINCE))
    assert numbers(tasks.closed_unplanned(SINCE, limit=1)) == [older]
    assert found[0].audit[-1].action == "close"  # with the trail: 即时办结 is read from it
    planned(tasks, older)
    assert numbers(tasks.closed_unplanned(SINCE)) == [newer]


def test_an_on_site_check_alone_does_not_plan_the_calls(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    site = on_site_due(store.get(number), POLICY, MONDAY_10, 0.0, disputed=True)
    assert site is not None and tasks.add([site])
    assert numbers(tasks.closed_unplanned(SINCE)) == [number]


def test_a_reopened_ticket_closed_again_is_planned_for_its_next_round(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    first = planned(tasks, number)
    assert first.round == 1 and tasks.closed_unplanned(SINCE) == []
    later = MONDAY_10 + timedelta(days=1)
    store.transition(number, Action.CALLBACK, "system", MONDAY_10)
    store.transition(number, Action.RATE, "system", MONDAY_10, rating="不满意", resolution="未解决")
    store.transition(number, Action.REOPEN, "supervisor", later, reason="仍有夜间施工")
    assert tasks.closed_unplanned(SINCE) == []  # being handled again
    close_again(store, number, later + timedelta(days=1))
    (again,) = tasks.closed_unplanned(SINCE)
    assert (again.number, again.redo_count, again.status) == (number, 1, Status.CLOSED)
    second = planned(tasks, number, later + timedelta(days=1))
    assert second.round == 2 and second.id != first.id
    assert tasks.closed_unplanned(SINCE) == []
    assert sorted(t.round for t in tasks.for_ticket(number)) == [1, 2]


def test_a_ticket_closed_at_once_and_left_out_of_the_sample_is_drawn_once(
    store: TicketStore, tasks: VerificationStore
) -> None:
    question = dataclasses.replace(NOISE, request_type=RequestType.CONSULTATION)
    number = store.create(question, MONDAY_10).number
    store.transition(number, Action.ACCEPT, "agent-1", MONDAY_10)
    store.transition(number, Action.CLOSE_AT_ONCE, "agent-1", MONDAY_10, note="补办地点已告知")
    (ticket,) = tasks.closed_unplanned(SINCE)
    left_out = tasks.add(plan_round(ticket, POLICY, MONDAY_10, draw=0.99))
    assert [(t.state, t.reason) for t in left_out] == [(TaskState.SKIPPED, TaskReason.NOT_SAMPLED)]
    assert tasks.closed_unplanned(SINCE) == []  # the next pass does not draw again
    assert tasks.due(MONDAY_10 + timedelta(days=3)) == []


def test_planning_a_round_twice_adds_nothing_the_second_time(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    ticket = store.get(number)
    merged = dataclasses.replace(ticket, merged_callers=())
    round_one = plan_round(merged, POLICY, MONDAY_10, 0.99)
    added = tasks.add(round_one)
    assert [t.number for t in added] == ["13800138000"] and added[0].id is not None
    assert tasks.add(round_one) == []  # another hub, or the sweep run twice
    assert tasks.add(plan_round(merged, POLICY, MONDAY_10 + timedelta(hours=1), 0.5)) == []
    round_two = plan_round(merged, POLICY, MONDAY_10, 0.99, round_=2)
    site = on_site_due(ticket, POLICY, MONDAY_10, 0.0, disputed=True)
    assert site is not None
    fresh = tasks.add([*round_one, *round_two, site])  # only the new ones come back
    assert [(t.round, t.kind) for t in fresh] == [(2, TaskKind.CALL), (1, TaskKind.ON_SITE)]
    assert len(tasks.for_ticket(number)) == 3


# -- reading ----------------------------------------------------------------------------------


def test_a_task_is_read_back_as_it_was_stored(store: TicketStore, tasks: VerificationStore) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    first = MONDAY_10 + timedelta(minutes=5)
    task = VerificationTask(
        ticket=number,
        number="13800138000",
        kind=TaskKind.CALL,
        state=TaskState.NEEDS_PERSON,
        created_at=MONDAY_10,
        due_by=datetime(2026, 12, 9, 20, 30, tzinfo=TZ),
        next_at=datetime(2026, 12, 8, 9, 0, tzinfo=TZ),
        round=2,
        reason=TaskReason.BAD_RATING,
        sampled=True,
        attempts=(
            Attempt(first, AttemptOutcome.NO_ANSWER, "c-1", detail="480 Temporarily Unavailable"),
            Attempt(
                first + timedelta(hours=1),
                AttemptOutcome.COMPLETED,
                "c-2",
                by="verifier-li",
                detail="听到：不满意",
                ended_at=first + timedelta(hours=1, minutes=3),
            ),
        ),
        resolution=Resolution.PARTLY,
        rating=Rating.VERY_DISSATISFIED,
        resolution_source=AnswerSource.VOICE,
        rating_source=AnswerSource.KEY,
        comment="晚上十点以后还在施工",
        call_id="c-2",
        recording_dir="/rec/2026/12/07/c-2",
        assigned_to="verifier-li",
        notes="约周三现场查看",
        department="city.ecology",
        seat_group="回访组",
        forced=True,
        updated_at=first + timedelta(hours=2),
    )
    (added,) = tasks.add([task])
    assert added == dataclasses.replace(task, id=added.id)
    again = tasks.get(added.id or 0)
    assert again == added
    assert again.attempts[1].ended_at == first + timedelta(hours=1, minutes=3)
    assert again.due_by.utcoffset() == timedelta(0)  # kept as UTC, the same moment
    with pytest.raises(UnknownTask, match="there is no 回访 task 999999"):
        tasks.get(999999)


def test_tasks_are_found_by_state_kind_ticket_verifier_and_time(
    store: TicketStore, tasks: VerificationStore
) -> None:
    one = closed(store, MONDAY_10 - timedelta(hours=2))
    two = closed(store, MONDAY_10 + timedelta(hours=23), caller="13700137000")
    a = planned(tasks, one)
    b = planned(tasks, two, MONDAY_10 + timedelta(days=1))  # closed a day later: due later
    site = on_site_due(store.get(two), POLICY, MONDAY_10, 0.0, disputed=True)
    assert site is not None
    (c,) = tasks.add([dataclasses.replace(site, assigned_to="verifier-li")])

    def ids(**filters: Any) -> list[int | None]:
        return [t.id for t in tasks.find(TaskQuery(**filters))]

    assert ids() == [a.id, c.id, b.id]  # the soonest due first, then in order made
    assert ids(states=(TaskState.SCHEDULED,)) == [a.id, b.id]
    assert ids(states=(TaskState.NEEDS_PERSON, TaskState.DONE)) == [c.id]
    assert ids(kind=TaskKind.ON_SITE) == [c.id]
    assert ids(ticket=f" {two} ") == [c.id, b.id]
    assert ids(assigned_to="verifier-li") == [c.id]
    assert ids(created_from=MONDAY_10 + timedelta(hours=1)) == [b.id]
    assert ids(created_to=MONDAY_10 + timedelta(days=1)) == [a.id, c.id]
    assert ids(limit=1) == [a.id]
    assert [t.id for t in tasks.for_ticket(one)] == [a.id]


def test_due_lists_the_scheduled_calls_whose_time_has_come_earliest_first(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    made = plan_round(store.get(number), POLICY, MONDAY_10, 0.99)[0]

    def task(caller: str, next_at: datetime | None, **changes: Any) -> VerificationTask:
        return dataclasses.replace(made, number=caller, next_at=next_at, **changes)

    ten, half_nine, eleven = (MONDAY_10 + timedelta(minutes=m) for m in (0, -30, 60))
    stored = tasks.add(
        [
            task("13800000001", ten),
            task("13800000002", half_nine),
            task("13800000003", eleven),
            task("13800000004", None, state=TaskState.SKIPPED, reason=TaskReason.ANONYMOUS),
            task("13800000005", half_nine, state=TaskState.CALLING),
            task("13800000006", half_nine, state=TaskState.NEEDS_PERSON),
            task("13800000007", half_nine, kind=TaskKind.ON_SITE),
        ]
    )
    assert len(stored) == 7
    assert [t.number for t in tasks.due(MONDAY_10)] == ["13800000002", "13800000001"]
    assert [t.number for t in tasks.due(MONDAY_10, limit=1)] == ["13800000002"]
    assert tasks.due(half_nine - timedelta(seconds=1)) == []
    assert len(tasks.due(eleven)) == 3


# -- writing ----------------------------------------------------------------------------------


def test_a_task_is_claimed_once_even_by_another_hub(
    store: TicketStore, tasks: VerificationStore, url: str
) -> None:
    task = planned(tasks, closed(store, MONDAY_10 - timedelta(hours=1)))
    claimed = tasks.claim(task, "call-1", MONDAY_10)
    assert claimed is not None
    assert (claimed.state, claimed.call_id, claimed.next_at) == (TaskState.CALLING, "call-1", None)
    assert tasks.get(task.id or 0) == claimed
    assert tasks.claim(task, "call-2", MONDAY_10) is None
    with TicketStore(url, migrate=False) as other:
        assert VerificationStore(other).claim(task, "call-3", MONDAY_10) is None
    assert tasks.get(task.id or 0).call_id == "call-1"
    assert tasks.due(MONDAY_10) == []


def test_a_task_that_is_no_longer_scheduled_is_not_claimed(
    store: TicketStore, tasks: VerificationStore
) -> None:
    task = planned(tasks, closed(store, MONDAY_10 - timedelta(hours=1)))
    done = dataclasses.replace(task, state=TaskState.CANCELLED, next_at=None)
    tasks.save(done)
    assert tasks.claim(task, "call-1", MONDAY_10) is None
    assert tasks.get(task.id or 0).state is TaskState.CANCELLED


def answered(task: VerificationTask, rating: Rating, resolution: Resolution) -> VerificationTask:
    end = MONDAY_10 + timedelta(minutes=4)
    attempt = Attempt(MONDAY_10, AttemptOutcome.COMPLETED, task.call_id, ended_at=end)
    moved = after_attempt(task, attempt, POLICY, end)
    return dataclasses.replace(
        moved,
        rating=rating,
        resolution=resolution,
        rating_source=AnswerSource.KEY,
        resolution_source=AnswerSource.KEY,
    )


def rate(rating: Rating, resolution: Resolution) -> Any:
    def change(ticket: Ticket) -> Ticket:
        ticket = transition(ticket, Action.CALLBACK, "system", MONDAY_10, note="电话回访")
        return transition(
            ticket, Action.RATE, "system", MONDAY_10, rating=rating, resolution=resolution
        )

    return change


def test_the_answers_and_the_tickets_rating_are_saved_together(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    claimed = tasks.claim(planned(tasks, number), "call-1", MONDAY_10)
    assert claimed is not None
    moved = answered(claimed, Rating.DISSATISFIED, Resolution.UNSOLVED)
    saved, ticket = tasks.save(moved, rate(Rating.DISSATISFIED, Resolution.UNSOLVED))
    assert saved == moved and ticket is not None
    stored = store.get(number)
    assert stored == ticket
    assert (stored.status, stored.rating, stored.resolution, stored.verification_review) == (
        Status.RATED,
        Rating.DISSATISFIED,
        Resolution.UNSOLVED,
        True,
    )
    assert [e.action for e in stored.audit[-2:]] == ["callback", "rate"]
    task = tasks.get(moved.id or 0)
    assert (task.state, task.rating, task.resolution) == (
        TaskState.DONE,
        Rating.DISSATISFIED,
        Resolution.UNSOLVED,
    )
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.COMPLETED]


def test_a_change_that_leaves_the_ticket_as_it_is_saves_the_task_only(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    task = planned(tasks, number)
    before = store.get(number)
    noted = dataclasses.replace(task, notes="市民要求下午来电")
    assert tasks.save(noted, lambda ticket: None) == (noted, None)
    assert tasks.save(noted, lambda ticket: ticket) == (noted, before)  # as it was: not written
    assert tasks.get(task.id or 0).notes == "市民要求下午来电"
    assert store.get(number) == before


def test_a_refused_ticket_change_rolls_the_task_back_too(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    claimed = tasks.claim(planned(tasks, number), "call-1", MONDAY_10)
    assert claimed is not None
    moved = answered(claimed, Rating.SATISFIED, Resolution.SOLVED)

    def rate_without_calling_back(ticket: Ticket) -> Ticket:
        return transition(ticket, Action.RATE, "system", MONDAY_10, rating="满意")

    before = store.get(number)
    with pytest.raises(TransitionError, match="not allowed in state closed"):
        tasks.save(moved, rate_without_calling_back)
    kept = tasks.get(moved.id or 0)
    assert kept == claimed  # still on the line, no answers, no attempt
    assert kept.state is TaskState.CALLING and kept.rating is None and kept.attempts == ()
    assert store.get(number) == before


class Failing:
    """A change listener (the node's outbox) that cannot write."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    def changed(self, session: Any, ticket: Ticket, entries: Sequence[Any]) -> None:
        self.heard += [e.action for e in entries]
        raise RuntimeError("outbox full")

    def committed(self) -> None:
        raise AssertionError("nothing commits")


def test_when_the_tickets_event_cannot_be_written_neither_change_is_kept(
    store: TicketStore, tasks: VerificationStore
) -> None:
    number = closed(store, MONDAY_10 - timedelta(hours=1))
    claimed = tasks.claim(planned(tasks, number), "call-1", MONDAY_10)
    assert claimed is not None
    before = store.get(number)
    store.on_change = failing = Failing()
    moved = answered(claimed, Rating.VERY_SATISFIED, Resolution.SOLVED)
    with pytest.raises(RuntimeError, match="outbox full"):
        tasks.save(moved, rate(Rating.VERY_SATISFIED, Resolution.SOLVED))
    assert failing.heard == ["callback", "rate"]  # the ticket was written, then undone
    store.on_change = None
    assert tasks.get(moved.id or 0) == claimed
    assert store.get(number) == before


def test_saving_a_task_that_is_not_stored_is_refused(tasks: VerificationStore) -> None:
    task = VerificationTask(
        ticket="GD12345-20261207-000001",
        number="13800138000",
        kind=TaskKind.CALL,
        state=TaskState.DONE,
        created_at=MONDAY_10,
        due_by=MONDAY_10,
        id=424242,
    )
    with pytest.raises(UnknownTask, match="there is no 回访 task 424242"):
        tasks.save(task)
