"""The hub's 回访 survey calls on a real ticket store (SQLite), with the worker
replaced by the events it would send: planning, dialling inside calling hours,
answers into the task and the ticket, retries, a lost worker, a hub restart, a
citizen handed to an agent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events import messages as m
from events.messages import Message
from ivr.hub.flow import Command
from ivr.hub.survey_calls import SurveyCalls
from ivr.hub.survey_flow import SurveyFlow
from tickets.lifecycle import Action
from tickets.model import Rating, Resolution, Status, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import TaskQuery, VerificationStore
from tickets.verification_tasks import (
    AnswerSource,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
)
from verification import survey_script as script
from verification.calling_hours import CallingHours
from verification.outcome import NotVerifiable, ticket_after_answers
from verification.schedule import VerificationPolicy

LOCAL = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=LOCAL)  # inside the morning window


class Rig:
    """SurveyCalls with a wall clock, a monotonic clock and the commands sent."""

    def __init__(self, store: TicketStore, **options: Any) -> None:
        self.wall = MONDAY_10
        self.mono = 0.0
        self.sent: list[tuple[str, str, Command]] = []
        self.handed: list[SurveyFlow] = []
        self.workers: list[str | None] = ["w1"]
        self.rendered: list[str] = []

        async def send(worker: str, call_id: str, command: Command) -> None:
            self.sent.append((worker, call_id, command))

        async def hand(flow: SurveyFlow) -> None:
            self.handed.append(flow)

        def render(text: str) -> str:
            self.rendered.append(text)
            return f"said-{len(self.rendered)}"

        self.verification = VerificationStore(store)
        self.calls = SurveyCalls(
            self.verification,
            options.pop("policy", VerificationPolicy(hours=CallingHours(), attempts=3)),
            "sip:{number}@gw.example:5060",
            "12345",
            render,
            send,
            lambda: self.workers[0],
            hand_to_agent=hand,
            clock=lambda: self.mono,
            wall_clock=lambda: self.wall,
            draw=lambda: 0.99,  # never sampled
            **options,
        )

    async def event(self, call_id: str, event: str, **data: Any) -> list[Command]:
        self.mono += 1
        before = len(self.sent)
        live = self.calls.live.get(call_id)
        turn = live.flow.turn if live else 0
        await self.calls.on_event(Message(event, {"call_id": call_id, "turn": turn, **data}))
        return [command for _, _, command in self.sent[before:]]

    async def answer_and_hear_questions(self, call_id: str) -> None:
        await self.event(call_id, m.CALL_ANSWERED)
        await self.event(call_id, m.LISTEN_TIMEOUT)
        intro = self.calls.live[call_id].flow.intro
        await self.event(call_id, m.PROMPT_FINISHED, prompt=intro)
        summary = self.calls.live[call_id].flow.summary
        await self.event(call_id, m.PROMPT_FINISHED, prompt=summary)

    async def survey(self, call_id: str, *keys: str) -> None:
        await self.answer_and_hear_questions(call_id)
        for key in keys:
            await self.event(call_id, m.DTMF, digit=key)
        await self.event(call_id, m.DTMF, digit="#")
        await self.event(call_id, m.PROMPT_FINISHED, prompt=script.THANKS)
        await self.event(call_id, m.CALL_ENDED, reason="local_hangup", answered=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}") as store:
        yield store


def closed_ticket(store: TicketStore, caller: str = "13800138000", **draft: Any) -> str:
    at = MONDAY_10 - timedelta(hours=8)  # reported this morning, closed an hour ago
    ticket = store.create(
        TicketDraft(
            caller_number=caller,
            content="小区楼下工地晚上施工，噪音很大",
            summary="工地夜间施工噪音扰民",
            category_path="城乡建设/噪音污染/施工噪音",
            **draft,
        ),
        at,
    )
    reply = "经核查，该工地已停止夜间施工，我局将加强巡查。"
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "市生态环境局"}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": reply}),
        (Action.APPROVE_REPLY, {}),
        (Action.CLOSE, {}),
    ]:
        at += timedelta(hours=1)
        store.transition(ticket.number, action, "someone", at, **options)
    return ticket.number


def dials(rig: Rig) -> list[tuple[str, str, Command]]:
    return [sent for sent in rig.sent if sent[2].type == m.SURVEY_DIAL]


async def test_a_closed_ticket_is_called_and_keys_one_and_four_rate_it(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    planned = await rig.calls.plan()
    assert [(t.ticket, t.number, t.state) for t in planned] == [
        (number, "13800138000", TaskState.SCHEDULED)
    ]
    assert await rig.calls.plan() == []  # once per round
    [call_id] = await rig.calls.dial_due()
    [(worker, dialled, command)] = dials(rig)
    assert (worker, dialled) == ("w1", call_id)
    assert command.data["uri"] == "sip:13800138000@gw.example:5060"
    assert command.data["caller_id"] == "12345" and command.data["ticket"] == number
    intro, summary = rig.rendered
    assert "十二月七日" in intro and "施工噪音问题" in intro and intro.endswith("进行回访。")
    assert summary.startswith("市生态环境局答复：经核查")
    assert rig.verification.for_ticket(number)[0].state is TaskState.CALLING

    await rig.survey(call_id, "1", "4")
    await rig.event(call_id, m.RECORDING_SAVED, directory="/rec/2026/12/07/x")

    task = rig.verification.for_ticket(number)[0]
    assert task.state is TaskState.DONE and task.reason is None
    assert (task.resolution, task.rating) == (Resolution.SOLVED, Rating.SATISFIED)
    assert task.rating_source is AnswerSource.KEY
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.COMPLETED]
    assert task.recording_dir == "/rec/2026/12/07/x"
    ticket = store.get(number)
    assert ticket.status is Status.RATED and not ticket.verification_review
    assert (ticket.rating, ticket.resolution) == (Rating.SATISFIED, Resolution.SOLVED)
    assert [e.action for e in ticket.audit[-2:]] == ["callback", "rate"]
    assert await rig.calls.plan() == []  # rated: nothing more this round


async def test_unsolved_and_dissatisfied_waits_for_review_with_a_site_check(
    store: TicketStore,
) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    [call_id] = await rig.calls.dial_due()
    await rig.survey(call_id, "2", "2")
    ticket = store.get(number)
    assert ticket.status is Status.RATED and ticket.verification_review
    assert (ticket.rating, ticket.resolution) == (Rating.DISSATISFIED, Resolution.UNSOLVED)
    tasks = {t.kind: t for t in rig.verification.for_ticket(number)}
    assert tasks[TaskKind.CALL].state is TaskState.NEEDS_PERSON
    assert tasks[TaskKind.CALL].reason is TaskReason.BAD_RATING
    assert tasks[TaskKind.ON_SITE].reason is TaskReason.DISPUTED
    # The centre sends it back (重办): a new round is planned once it is closed again.
    store.transition(number, Action.REOPEN, "centre", MONDAY_10, reason="市民反映仍有夜间施工")
    reopened = store.get(number)
    assert reopened.redo_count == 1 and reopened.status is Status.HANDLING


async def test_a_phone_that_never_answers_is_tried_three_times_then_listed_for_a_person(
    store: TicketStore,
) -> None:
    number = closed_ticket(store)
    rig = Rig(store, policy=VerificationPolicy(attempts=3, retry_after_min=60))
    await rig.calls.plan()
    for attempt in range(3):
        [call_id] = await rig.calls.dial_due()
        assert await rig.calls.dial_due() == []  # one call per task at a time
        await rig.event(call_id, m.CALL_ENDED, status_code=480, reason="no_answer", answered=False)
        task = rig.verification.for_ticket(number)[0]
        assert task.tries == attempt + 1
        assert await rig.calls.dial_due() == []  # not before the retry is due
        if task.next_at is not None:
            assert task.next_at - rig.wall >= timedelta(minutes=60)
            assert rig.calls.policy.hours.is_open(task.next_at)  # 12:00–14:00 is skipped
            rig.wall = task.next_at
    assert task.state is TaskState.NEEDS_PERSON and task.reason is TaskReason.UNREACHED
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.NO_ANSWER] * 3
    assert store.get(number).status is Status.CLOSED  # nothing was said: no rating
    assert len(dials(rig)) == 3


async def test_nobody_is_called_outside_calling_hours_or_while_paused(store: TicketStore) -> None:
    closed_ticket(store)
    rig = Rig(store)
    rig.wall = datetime(2026, 12, 7, 21, 0, tzinfo=LOCAL)  # after 20:30
    await rig.calls.plan()
    assert await rig.calls.dial_due() == []
    rig.wall = datetime(2026, 12, 8, 8, 59, tzinfo=LOCAL)
    assert await rig.calls.dial_due() == []
    rig.wall = datetime(2026, 12, 8, 9, 0, tzinfo=LOCAL)
    rig.calls.paused = True
    assert await rig.calls.dial_due() == []
    rig.calls.paused = False
    assert len(await rig.calls.dial_due()) == 1


async def test_a_merged_citizen_is_called_too_and_their_dispute_flags_the_ticket(
    store: TicketStore,
) -> None:
    number = closed_ticket(store)
    ticket = store.get(number)
    from dataclasses import replace

    from tickets.model import MergedCaller

    store.save(replace(ticket, merged_callers=(MergedCaller("13900139000", "X", MONDAY_10),)))
    rig = Rig(store)
    planned = await rig.calls.plan()
    assert sorted(t.number for t in planned) == ["13800138000", "13900139000"]
    first, second = await rig.calls.dial_due()
    await rig.survey(first, "1", "5")
    assert store.get(number).status is Status.RATED
    assert not store.get(number).verification_review
    await rig.survey(second, "2", "3")
    flagged = store.get(number)
    assert flagged.verification_review and flagged.rating is Rating.VERY_SATISFIED
    assert flagged.audit[-1].action == "flag_review"


async def test_a_worker_dying_mid_survey_loses_only_that_attempt(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    [call_id] = await rig.calls.dial_due()
    await rig.answer_and_hear_questions(call_id)
    await rig.event(call_id, m.DTMF, digit="1")
    await rig.calls.lose_worker("w1")
    task = rig.verification.for_ticket(number)[0]
    assert task.state is TaskState.SCHEDULED and task.next_at is not None
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.LOST]
    assert store.get(number).status is Status.CLOSED  # half an answer is not a rating
    rig.wall = task.next_at
    assert len(await rig.calls.dial_due()) == 1  # tried again


async def test_a_hub_restart_recovers_tasks_left_calling(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    await rig.calls.dial_due()
    restarted = Rig(store)  # a new hub: the call it knew nothing of is lost
    assert await restarted.calls.recover() == 1
    task = restarted.verification.for_ticket(number)[0]
    assert task.state is TaskState.SCHEDULED
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.LOST]


async def test_asking_for_a_person_hands_the_call_to_an_agent(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    [call_id] = await rig.calls.dial_due()
    await rig.answer_and_hear_questions(call_id)
    await rig.event(call_id, m.SPEECH_ENDED, speech_ms=900)
    await rig.event(call_id, m.ASR_FINAL, text="我想找人工客服说一下")
    assert [flow.call_id for flow in rig.handed] == [call_id]
    assert call_id not in rig.calls.live and rig.calls.owns(call_id)  # the recording comes
    task = rig.verification.for_ticket(number)[0]
    assert task.state is TaskState.NEEDS_PERSON and task.reason is TaskReason.TO_AGENT


async def test_no_worker_with_room_leaves_the_task_waiting(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    rig.workers = [None]
    await rig.calls.plan()
    assert await rig.calls.dial_due() == []
    assert rig.verification.for_ticket(number)[0].state is TaskState.SCHEDULED


async def test_anonymous_callers_get_a_skipped_task_with_the_reason(store: TicketStore) -> None:
    number = closed_ticket(store, caller="anonymous")
    rig = Rig(store)
    [task] = await rig.calls.plan()
    assert task.state is TaskState.SKIPPED and task.reason is TaskReason.ANONYMOUS
    assert await rig.calls.dial_due() == []
    assert rig.verification.find(TaskQuery(ticket=number))[0].state is TaskState.SKIPPED


def test_answers_never_rate_a_ticket_reopened_meanwhile(store: TicketStore) -> None:
    number = closed_ticket(store)
    store.transition(number, Action.CALLBACK, "v", MONDAY_10)
    store.transition(number, Action.RATE, "v", MONDAY_10, rating="不满意", resolution="未解决")
    store.transition(number, Action.REOPEN, "centre", MONDAY_10, reason="重办")
    with pytest.raises(NotVerifiable, match="办理"):
        ticket_after_answers(store.get(number), Resolution.SOLVED, None, "", MONDAY_10)


async def test_a_ticket_reopened_before_its_call_is_not_called(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    store.transition(number, Action.CALLBACK, "v", MONDAY_10)
    store.transition(number, Action.RATE, "v", MONDAY_10, rating="非常不满意")
    store.transition(number, Action.REOPEN, "centre", MONDAY_10, reason="市民来电说仍未处理")
    assert await rig.calls.dial_due() == []
    assert dials(rig) == []
    [task] = rig.verification.for_ticket(number)
    assert task.state is TaskState.CANCELLED


async def test_every_try_is_in_the_tickets_history(store: TicketStore) -> None:
    number = closed_ticket(store)
    rig = Rig(store)
    await rig.calls.plan()
    [call_id] = await rig.calls.dial_due()
    await rig.event(call_id, m.CALL_ENDED, status_code=486, reason="busy", answered=False)
    entry = store.get(number).audit[-1]
    assert entry.action == "verification_attempt" and entry.reason == "第1次回访：占线"
    assert entry.details["caller_number"] == "13800138000"
    assert store.get(number).status is Status.CLOSED
