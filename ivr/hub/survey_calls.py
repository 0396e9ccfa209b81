"""The hub's 回访 survey calls: plan tasks for closed tickets, dial the due ones
through a media worker, drive each call with a :class:`SurveyFlow`, and write
what the citizen said into the task and the ticket (one transaction).

- every ``verification.every_s``: tickets closed without a task for their round
  get one per citizen (:func:`verification.schedule.plan_round`), disputed or
  sampled ones a 现场核查 too; then the due tasks are dialled, inside calling
  hours, at most ``verification.max_calls`` at once, on the worker with the most
  room;
- a survey call's events go to its flow; its commands go to its worker;
- when the call ends, the attempt is recorded and the task moves on
  (:func:`verification.schedule.after_attempt`); answers put the ticket through
  回访 and 评价, 未解决 or 差评 leave it awaiting the centre's review;
- a citizen who asks for a person (or reports an emergency) is handed to seat
  allocation as an ordinary call (``hand_to_agent``);
- a worker that dies mid-survey costs that attempt only: it is counted as lost
  and tried again later.

Store calls block (SQL): they run on the hub's SQL thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from events import messages as m
from events.messages import Message
from ivr.hub.flow import Command
from ivr.hub.sql_work import in_sql_thread
from ivr.hub.survey_flow import (
    SurveyFlow,
    SurveyResult,
    SurveyStep,
    SurveyTimeouts,
    dial_outcome,
)
from ivr.node.logs import fields
from sip_config.sip_uris import number_uri
from tickets.lifecycle import TransitionError
from tickets.model import Ticket
from tickets.verification_store import TaskQuery, VerificationStore
from tickets.verification_tasks import (
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from verification import survey_script as script
from verification.outcome import (
    VERIFIABLE,
    NotVerifiable,
    attempt_noted,
    ticket_after_answers,
)
from verification.schedule import (
    VerificationPolicy,
    after_attempt,
    cancel_round,
    is_due,
    on_site_due,
    plan_round,
)
from verification.survey_answers import comment_disputes

log = logging.getLogger("hub.survey")

SURVEYOR = "system"
PLAN_LOOKBACK = timedelta(days=30)  # closed tickets this recent are planned
STALE_CALLING = timedelta(minutes=30)  # a task "calling" this long with no call is lost

Send = Callable[[str, str, Command], Awaitable[None]]  # worker, call id, command


@dataclasses.dataclass
class _PersonCall:
    task_id: int
    agent_id: str
    started: datetime
    reached: bool = False
    code: int = 0
    ended: bool = False


@dataclasses.dataclass
class _Live:
    flow: SurveyFlow
    task: VerificationTask
    started: datetime


class SurveyCalls:
    def __init__(
        self,
        store: VerificationStore,
        policy: VerificationPolicy,
        trunk_uri: str,
        caller_id: str,
        render: Callable[[str], str] | None,
        send: Send,
        pick_worker: Callable[[], str | None],
        hand_to_agent: Callable[[SurveyFlow], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        script_options: script.SurveyScript | None = None,
        timeouts: SurveyTimeouts | None = None,
        max_calls: int = 2,
        do_not_call: frozenset[str] = frozenset(),
        draw: Callable[[], float] = random.random,
        department_name: Callable[[str], str] = lambda department: department,
        seat_group_of: Callable[[str], str] = lambda owner: "",
    ) -> None:
        self.store = store
        self.policy = policy
        self.trunk_uri = trunk_uri
        self.caller_id = caller_id
        self.render = render
        self.send = send
        self.pick_worker = pick_worker
        self.hand_to_agent = hand_to_agent
        self.clock = clock or asyncio.get_running_loop().time
        self.wall_clock = wall_clock
        self.script = script_options or script.SurveyScript()
        self.timeouts = timeouts or SurveyTimeouts()
        self.max_calls = max_calls
        self.do_not_call = do_not_call
        self.draw = draw
        self.department_name = department_name
        self.seat_group_of = seat_group_of  # the accepting agent's group, for the figures
        self.paused = False
        self.live: dict[str, _Live] = {}  # by call id
        self.ended: dict[str, int] = {}  # call id → task id, for the recording saved later
        self.person_calls: dict[str, _PersonCall] = {}  # verifiers' calls, by call id
        self._dialled = 0

    # ---- which calls are ours ---------------------------------------------------
    def owns(self, call_id: str) -> bool:
        return call_id in self.live or call_id in self.ended or call_id in self.person_calls

    def status(self) -> dict[str, Any]:
        return {"paused": self.paused, "calls": len(self.live), "max_calls": self.max_calls}

    # ---- planning and dialling --------------------------------------------------
    async def plan(self) -> list[VerificationTask]:
        """Tasks for tickets closed lately that have none for their round yet."""
        now = self.wall_clock()
        tickets = await in_sql_thread(self.store.closed_unplanned, now - PLAN_LOOKBACK)
        planned: list[VerificationTask] = []
        for ticket in tickets:
            tasks = plan_round(
                ticket,
                self.policy,
                now,
                self.draw(),
                round_=ticket.redo_count + 1,
                do_not_call=self.do_not_call,
            )
            if not tasks:
                continue
            group = self.seat_group_of(ticket.owner)
            tasks = [dataclasses.replace(task, seat_group=group) for task in tasks]
            site = on_site_due(ticket, self.policy, now, self.draw(), disputed=False)
            if site is not None:
                tasks.append(dataclasses.replace(site, round=ticket.redo_count + 1))
            planned += await in_sql_thread(self.store.add, tasks)
        if planned:
            log.info("回访 tasks planned", extra=fields(tasks=len(planned)))
        return planned

    async def dial_due(self) -> list[str]:
        """Dial the due tasks (inside calling hours, not paused), as many as room
        allows; the call ids dialled."""
        now = self.wall_clock()
        room = self.max_calls - len(self.live)
        if self.paused or room <= 0:
            return []
        due = await in_sql_thread(self.store.due, now, room)
        dialled = []
        for task in due:
            if not is_due(task, now, self.policy.hours):
                continue
            call_id = await self.dial(task)
            if call_id:
                dialled.append(call_id)
        return dialled

    async def dial(self, task: VerificationTask, force: bool = False) -> str:
        """Place one survey call for ``task`` now; "" when it cannot be placed (no
        worker has room, someone else took the task)."""
        worker = self.pick_worker()
        if worker is None:
            return ""
        try:
            uri = number_uri(task.number, self.trunk_uri, "", "verification.trunk_uri")
        except ValueError as exc:
            log.warning("回访 number cannot be dialled", extra=fields(task=task.id, error=str(exc)))
            return ""
        self._dialled += 1
        now = self.wall_clock()
        call_id = f"{now:%Y%m%d-%H%M%S}-hv{task.id}-{self._dialled}"
        claimed = await in_sql_thread(self.store.claim, task, call_id, now)
        if claimed is None:
            return ""
        ticket = await in_sql_thread(self.store.tickets.get, claimed.ticket)
        if ticket.status not in VERIFIABLE:  # reopened (重办) since: this round is over
            await in_sql_thread(self.store.save, cancel_round(claimed, now), None)
            log.info("回访 cancelled: the ticket is handled again", extra=fields(task=task.id))
            return ""
        try:
            intro, summary = await self._prompts(ticket)
        except Exception as exc:  # no synthesis: the call cannot say why it calls
            log.warning("回访 prompts failed", extra=fields(task=task.id, error=str(exc)))
            await self._record(claimed, _failed(now, call_id, "prompts"), None)
            return ""
        flow = SurveyFlow(
            call_id,
            worker,
            task_id=int(claimed.id or 0),
            ticket=claimed.ticket,
            number=claimed.number,
            intro=intro,
            summary=summary,
            script=self.script,
            timeouts=self.timeouts,
        )
        flow.dial(self.clock())
        self.live[call_id] = _Live(flow, claimed, now)
        log.info(
            "回访 call",
            extra=fields(call_id=call_id, task=claimed.id, ticket=claimed.ticket, worker=worker),
        )
        data = {
            "number": claimed.number,
            "uri": uri,
            "caller_id": self.caller_id,
            "ticket": claimed.ticket,
        }
        await self.send(worker, call_id, Command(m.SURVEY_DIAL, data))
        return call_id

    async def _prompts(self, ticket: Ticket) -> tuple[str, str]:
        """The introduction and the answer's summary, rendered for this call."""
        day = self.policy.hours.local(ticket.created_at).date()
        intro = script.introduction(day, script.matter(ticket.summary, ticket.category_path))
        department = self.department_name(ticket.lead_department)
        summary = script.answer_summary(ticket.reply, department)
        if self.render is None:
            raise RuntimeError("no synthesizer for the survey's introduction")
        rendered_intro = await asyncio.to_thread(self.render, intro)
        rendered_summary = await asyncio.to_thread(self.render, summary) if summary else ""
        return rendered_intro, rendered_summary

    # ---- a verifier's own call ---------------------------------------------------
    async def person_call(self, task_id: int, agent_id: str, agent_uri: str) -> str:
        """A verifier calls the citizen from their softphone through the node: their
        phone rings first, then the citizen's; the call is recorded and noted on
        the task.  "" when placed, else why not."""
        try:
            task = await in_sql_thread(self.store.get, task_id)
        except LookupError as exc:
            return str(exc)
        if task.kind is not TaskKind.CALL or task.state not in (
            TaskState.NEEDS_PERSON,
            TaskState.SCHEDULED,
            TaskState.DONE,
        ):
            return f"task {task_id} is {task.state.label}: no call to make"
        try:
            uri = number_uri(task.number, self.trunk_uri, "", "verification.trunk_uri")
        except ValueError as exc:
            return str(exc)
        worker = self.pick_worker()
        if worker is None:
            return "no media worker has room for the call now; try again in a moment"
        self._dialled += 1
        now = self.wall_clock()
        call_id = f"{now:%Y%m%d-%H%M%S}-hp{task_id}-{self._dialled}"
        self.person_calls[call_id] = _PersonCall(task_id, agent_id, now)
        data = {
            "number": task.number,
            "citizen_uri": uri,
            "uri": agent_uri,
            "agent_id": agent_id,
            "dial_id": call_id,
            "ticket": task.ticket,
        }
        await self.send(worker, call_id, Command(m.CALLBACK, data))
        log.info("回访 call by a verifier", extra=fields(call_id=call_id, task=task_id))
        return ""

    async def _person_event(self, message: Message) -> None:
        call = self.person_calls[message.call_id]
        if message.type == m.CALLBACK_ANSWERED:
            call.reached = True
        elif message.type == m.CALLBACK_FAILED:
            call.code = int(message.data.get("code", 0) or 0)
        elif message.type == m.CALL_ENDED and not call.ended:
            call.ended = True
            outcome = AttemptOutcome.INCOMPLETE if call.reached else dial_outcome(call.code)
            attempt = Attempt(
                call.started, outcome, message.call_id, call.agent_id, "", self.wall_clock()
            )

            def note() -> None:
                task = self.store.get(call.task_id)
                self.store.save(dataclasses.replace(task, attempts=(*task.attempts, attempt)))

            await in_sql_thread(note)
        elif message.type == m.RECORDING_SAVED:
            self.person_calls.pop(message.call_id, None)
            await self._recording(call.task_id, message.data)

    # ---- a survey call's events -------------------------------------------------
    async def on_event(self, message: Message) -> None:
        call_id = message.call_id
        if call_id in self.person_calls:
            await self._person_event(message)
            return
        if message.type == m.RECORDING_SAVED and call_id in self.ended:
            await self._recording(self.ended.pop(call_id), message.data)
            return
        live = self.live.get(call_id)
        if live is None:
            return
        flow = live.flow
        was_agent = flow.to_agent
        commands = flow.on_event(message.type, message.data, self.clock())
        for command in commands:
            await self.send(flow.worker, call_id, command)
        if flow.to_agent and not was_agent:
            await self._to_agent(live)
        if flow.step is SurveyStep.ENDED:
            await self._finish(call_id)

    async def tick(self) -> None:
        now = self.clock()
        for call_id, live in list(self.live.items()):
            for command in live.flow.on_tick(now):
                await self.send(live.flow.worker, call_id, command)
            if live.flow.step is SurveyStep.ENDED:
                await self._finish(call_id)

    async def lose_worker(self, worker: str, keep: Collection[str] = ()) -> None:
        """The worker died: its survey calls (but ``keep``, which it still holds) end
        as lost attempts."""
        for call_id, live in list(self.live.items()):
            if live.flow.worker == worker and call_id not in keep:
                await self.on_event(
                    Message(m.CALL_ENDED, {"call_id": call_id, "reason": "worker_lost"})
                )

    async def recover(self) -> int:
        """Tasks left "calling" by a hub that stopped: their attempt is lost, they
        are tried again (a citizen is never left half-surveyed with no record)."""
        now = self.wall_clock()
        query = TaskQuery(states=(TaskState.CALLING,), kind=TaskKind.CALL)
        calling = await in_sql_thread(self.store.find, query)
        recovered = 0
        for task in calling:
            if task.call_id in self.live:
                continue
            await self._record(task, _failed(now, task.call_id, "hub restarted"), None)
            recovered += 1
        return recovered

    # ---- the end of an attempt --------------------------------------------------
    async def _to_agent(self, live: _Live) -> None:
        """The citizen asked for a person (or an emergency): the attempt ends here
        for the survey, the call goes on with an agent."""
        flow = live.flow
        self.live.pop(flow.call_id, None)
        self.ended[flow.call_id] = int(live.task.id or 0)
        await self._record(live.task, self._attempt(live, flow.result()), flow.result())
        if self.hand_to_agent is not None:
            await self.hand_to_agent(flow)

    async def _finish(self, call_id: str) -> None:
        live = self.live.pop(call_id, None)
        if live is None:
            return
        self.ended[call_id] = int(live.task.id or 0)
        if len(self.ended) > 1000:
            self.ended.pop(next(iter(self.ended)))
        result = live.flow.result()
        await self._record(live.task, self._attempt(live, result), result)

    def _attempt(self, live: _Live, result: SurveyResult) -> Attempt:
        return Attempt(
            at=live.started,
            outcome=result.outcome,
            call_id=live.flow.call_id,
            by=SURVEYOR,
            detail=result.detail[:200],
            ended_at=self.wall_clock(),
        )

    async def _record(
        self, task: VerificationTask, attempt: Attempt, result: SurveyResult | None
    ) -> None:
        now = self.wall_clock()
        moved = after_attempt(
            task, attempt, self.policy, now, result.needs_person if result else None
        )
        if result is not None and result.do_not_call:
            moved = dataclasses.replace(moved, reason=TaskReason.DO_NOT_CALL)
        if result is not None and result.outcome is AttemptOutcome.COMPLETED:
            moved = dataclasses.replace(
                moved,
                resolution=result.resolution,
                resolution_source=result.resolution_source,
                rating=result.rating,
                rating_source=result.rating_source,
                comment=result.comment,
                call_id=attempt.call_id,
            )

        def change(ticket: Ticket) -> Ticket | None:
            if result is None or result.outcome is not AttemptOutcome.COMPLETED:
                return attempt_noted(ticket, task, attempt, now)
            disputes = bool(result.comment) and comment_disputes(result.comment)
            return ticket_after_answers(
                ticket, result.resolution, result.rating, result.comment, now, SURVEYOR, disputes
            )

        try:
            await in_sql_thread(self.store.save, moved, change)
        except (NotVerifiable, TransitionError) as exc:  # the ticket moved on: keep the answers
            log.warning("回访 result not applied to the ticket", extra=fields(error=str(exc)))
            await in_sql_thread(self.store.save, moved, None)
        except Exception:
            log.exception("could not record the 回访 attempt", extra=fields(task=task.id))
            return
        log.info(
            "回访 attempt",
            extra=fields(
                task=task.id,
                ticket=task.ticket,
                outcome=attempt.outcome.value,
                state=moved.state.value,
                rating=moved.rating.value if moved.rating else "",
                resolution=moved.resolution.value if moved.resolution else "",
            ),
        )
        if result is not None and result.disputed and moved.kind is TaskKind.CALL:
            await self._on_site(task)

    async def _on_site(self, task: VerificationTask) -> None:
        """Every disputed result gets a 现场核查 task (once per round)."""
        try:
            ticket = await in_sql_thread(self.store.tickets.get, task.ticket)
            site = on_site_due(ticket, self.policy, self.wall_clock(), 1.0, disputed=True)
            if site is not None:
                await in_sql_thread(self.store.add, [dataclasses.replace(site, round=task.round)])
        except Exception:
            log.exception("could not plan the 现场核查", extra=fields(ticket=task.ticket))

    async def _recording(self, task_id: int, data: dict[str, Any]) -> None:
        directory = str(data.get("directory", ""))
        if not directory:
            return

        def attach() -> None:
            task = self.store.get(task_id)
            self.store.save(dataclasses.replace(task, recording_dir=directory))

        try:
            await in_sql_thread(attach)
        except Exception:
            log.exception("could not attach the 回访 recording", extra=fields(task=task_id))


def _failed(now: datetime, call_id: str, detail: str) -> Attempt:
    return Attempt(now, AttemptOutcome.LOST, call_id, SURVEYOR, detail, now)


def pause_file(run_dir: Path) -> Path:
    """``hotline verification pause`` leaves this file; the hub dials nothing while
    it is there (the tasks wait, nothing is lost)."""
    return run_dir / "verification.paused"


async def run_surveys(
    surveys: SurveyCalls, every_s: float, stop: asyncio.Event, run_dir: Path
) -> None:
    """Recover what a stopped hub left calling, then every ``every_s`` seconds plan
    new tasks and dial the due ones, until ``stop`` is set.  A failed round (the
    database away) is logged and tried again next time."""
    try:
        lost = await surveys.recover()
        if lost:
            log.warning(
                "回访 calls lost with the last hub; tried again later", extra=fields(lost=lost)
            )
    except Exception as exc:
        log.warning("回访 recovery failed: %s", exc)
    while not stop.is_set():
        surveys.paused = pause_file(run_dir).exists()
        try:
            await surveys.plan()
            await surveys.dial_due()
        except Exception as exc:
            log.warning("回访 round failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
