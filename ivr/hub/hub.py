"""The hub: call logic for the whole node, driving media workers over the bus.

It keeps one :class:`~ivr.hub.flow.CallFlow` per call, turns worker events into
commands, logs every event as one structured line, and after a restart adopts
the calls that workers still hold (their retained status lists them).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from call_routing.acd import CallerPriority
from events import messages as m
from events import stats, topics
from events.bus import Bus
from events.messages import Message
from ivr.hub.call_tickets import CallTickets
from ivr.hub.flow import CallFlow, Command, FlowOptions, Step
from ivr.hub.hotspot_watch import HotspotWatch
from ivr.hub.seating import Actions, Publish, Seating
from ivr.hub.sql_work import in_sql_thread
from ivr.hub.survey_calls import SurveyCalls
from ivr.hub.survey_flow import SurveyFlow
from ivr.node.logs import fields
from recordings.catalog import CallCatalog
from recordings.transcript import write_transcript

log = logging.getLogger("hub")

# Call events the hub's own logic never acts on: the caller's words as they are
# spoken (the desks show them; the flow waits for the final) and the hub's own
# publications coming back.  They reach the watchers and the debug log only, so a
# busy hub spends nothing on them before it answers the next caller.
DISPLAY_ONLY = frozenset(
    {
        m.ASR_PARTIAL,
        m.FLOW_STEP,
        m.CALL_UNDERSTOOD,
        m.TICKET_DRAFTED,
        m.CALL_TRANSCRIPT,
        m.AGENT_REQUESTED,
    }
)
CHATTY = frozenset({m.ASR_PARTIAL, m.FLOW_STEP})  # many per call: the debug log only
SEEN_FOR_S = 120.0  # a duplicate comes within seconds; ids are kept this long
SEEN_AT_MOST = 100_000  # and at most this many (two minutes of a large peak)
LOAD_WINDOW_S = 3.0  # the seconds hub.load's answer latencies cover
DEFER_AT_MOST_S = 30.0  # deferrable work waits for new calls' answers at most this long


class Hub:
    def __init__(
        self,
        bus: Bus,
        node: str,
        clock: Callable[[], float] = time.monotonic,
        options: FlowOptions | None = None,
        understand: Callable[[str], dict] | None = None,
        tickets: CallTickets | None = None,
        concurrent_calls: bool = False,
        seating: Callable[[dict[str, CallFlow]], Seating] | None = None,
        render: Callable[[str], str] | None = None,
        priority_numbers: Iterable[str] = (),
        catalog: CallCatalog | None = None,
        recordings_root: Path | None = None,
        worker_grace_s: float = 10.0,
        answer_within_s: float | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.node = node
        self.clock = clock
        self.options = options or FlowOptions()
        self.understand = understand  # the caller's words → understanding (blocking)
        self.tickets = tickets
        # Each call's events in order, calls side by side: one call waiting for the
        # model or the ticket store must not hold up the next caller's answer.
        self.concurrent_calls = concurrent_calls
        self._chains: dict[str, asyncio.Task] = {}
        self.flows: dict[str, CallFlow] = {}
        self.finished: dict[str, CallFlow] = {}
        self.workers: dict[str, dict] = {}
        self.asr: dict[str, dict] = {}  # ASR services' retained status (streams, capacity)
        self.asr_latencies: collections.deque[float] = collections.deque(maxlen=500)
        # Message ids seen lately, oldest first (QoS 1 may deliver a message twice).
        self._seen: collections.OrderedDict[str, float] = collections.OrderedDict()
        # Seat allocation (None without agents): the ACD, fed by the calls' events.
        self.seating = seating(self.flows) if seating is not None else None
        if self.seating is not None:
            self.seating.pick_worker = self.worker_with_room
            self.seating.acd.start_clock(clock())
        self.render = render  # a text said during a call → a prompt id (blocking)
        self._handed: set[str] = set()  # calls handed to seat allocation
        self._saved: dict[str, dict] = {}  # finished calls' recording.saved (late transcripts)
        self._stats: dict[str, tuple[dict | None, float]] = {}  # last queue.stats per group
        # Workers that reported down (last will) and since when: their calls end unless
        # they come back within worker_grace_s of the hub's own link being up.
        self._quiet: dict[str, float] = {}
        self.worker_grace_s = worker_grace_s
        self._link_up_at: float | None = clock()
        # Observers of every message the hub receives (the consoles' live updates).
        self.watchers: list[Callable[[str, Message], None]] = []
        self.priority_numbers = frozenset(priority_numbers)
        self.catalog = catalog  # finished calls indexed for QA (None: not kept)
        self.recordings_root = recordings_root
        # A worker refuses a call the hub has not answered within answer_within_s of
        # the offer: an offer older than that is dropped unhandled (None: never).
        self.answer_within_s = answer_within_s
        self.wall_clock = wall_clock
        self._answered: collections.deque[tuple[float, float]] = collections.deque(maxlen=5000)
        # How late the hub handles a call's events (the worker's time to the hub's):
        # answers come first, so this is where a hub falling behind shows.
        self._lags: collections.deque[tuple[float, float]] = collections.deque(maxlen=20000)
        self._stale: collections.deque[float] = collections.deque(maxlen=5000)
        self.stale_offers = 0  # since the hub started
        self._offers_waiting = 0  # offers received and not yet answered (or dropped)
        self._stale_logged = -math.inf
        # 回访 survey calls (None: verification is off); set by the assembly.
        self.surveys: SurveyCalls | None = None
        self.hotspots: HotspotWatch | None = None  # the burst watch; set by the assembly

    async def on_message(self, topic: str, message: Message) -> None:
        if message.id in self._seen:
            return  # QoS 1 may deliver twice
        self._remember(message.id)
        for watch in self.watchers:
            try:
                watch(topic, message)
            except Exception:  # an observer never stops the calls
                log.exception("watcher failed", extra=fields(topic=topic))
        if message.type == m.WORKER_STATUS:
            await self._on_worker_status(message)
            return
        if message.type == m.ASR_STATUS:
            self.asr[topic] = message.data
            return
        if message.type == m.ASR_FINAL and isinstance(message.data.get("latency_s"), int | float):
            self.asr_latencies.append(float(message.data["latency_s"]))
        if topics.matches(topics.ALL_AGENT_COMMANDS, topic):
            await self._on_agent_command(topic.split("/")[-2], message)
            return
        if message.type == m.COMMAND_REPLY:
            if not message.data.get("ok"):
                log.warning("worker refused a command", extra=fields(**message.data))
            return
        if message.type in DISPLAY_ONLY and topics.is_call_topic(topic):
            if message.type in CHATTY:
                log.debug(message.type, extra=fields(event=message.type, call_id=message.call_id))
            else:  # one line per call: what was understood, its ticket, its record
                log.info(message.type, extra=fields(event=message.type, **message.data))
            return
        if topics.is_call_topic(topic) and message.call_id:
            if message.type == m.CALL_OFFERED:
                self._offers_waiting += 1
            if self.concurrent_calls:
                self._chain(message)
            else:
                await self._on_call_event(message)

    def _remember(self, message_id: str) -> None:
        """Keep the id for ``SEEN_FOR_S`` (at most ``SEEN_AT_MOST`` ids): each message
        costs the same however many came before it."""
        now = self.clock()
        seen = self._seen
        seen[message_id] = now
        while seen:
            oldest = next(iter(seen.values()))
            if now - oldest <= SEEN_FOR_S and len(seen) <= SEEN_AT_MOST:
                break
            seen.popitem(last=False)

    def _chain(self, message: Message) -> asyncio.Task:
        """Handle ``message`` after the call's earlier events, without waiting for it."""
        call_id = message.call_id
        previous = self._chains.get(call_id)

        async def run() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                await self._on_call_event(message)
            except Exception:  # one call's trouble never stops the others
                log.exception("call event failed", extra=fields(call_id=call_id))

        task = asyncio.create_task(run())
        self._chains[call_id] = task

        def release(done: asyncio.Task) -> None:
            if self._chains.get(call_id) is done:
                del self._chains[call_id]

        task.add_done_callback(release)
        return task

    async def publish_seat_states(self) -> None:
        """Publish every agent's state and every queue's figures (at start-up)."""
        if self.seating is not None:
            await self._act(Actions(publish=self.seating.states()))

    async def settle(self) -> None:
        """Wait until every call's events so far are handled (tests, shutdown)."""
        while self._chains:
            await asyncio.gather(*list(self._chains.values()), return_exceptions=True)

    async def _on_call_event(self, message: Message) -> None:
        now = self.wall_clock()
        self._lags.append((now, max(0.0, now - message.ts)))
        try:
            await self._handle_call_event(message)
        finally:
            if message.type == m.CALL_OFFERED:
                self._offers_waiting = max(0, self._offers_waiting - 1)

    async def after_new_calls(self) -> None:
        """Wait (a while at most) until no new call waits for its answer: what can be
        done later (QA indexing, transcripts on disk) never delays the next caller."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEFER_AT_MOST_S  # real time: a safety bound, not logic
        while self._offers_waiting and loop.time() < deadline:
            await asyncio.sleep(0.05)

    async def _handle_call_event(self, message: Message) -> None:
        call_id, data = message.call_id, message.data
        log.info(message.type, extra=fields(event=message.type, **data))
        flow = self.flows.get(call_id)
        if self.surveys is not None and self.surveys.owns(call_id):
            await self.surveys.on_event(message)
            if message.type == m.RECORDING_SAVED and call_id not in self.finished:
                await self._catalogue(data)  # QA reviews survey calls too
            if call_id not in self.flows and call_id not in self.finished:
                return  # a survey call (not handed to an agent)
            flow = self.flows.get(call_id)
        if flow is None and self.seating is not None and call_id in self.seating.callback_calls:
            now = self.clock()
            await self._act(self.seating.on_callback_event(call_id, message.type, data, now))
            return
        if flow is None:
            if message.type == m.ASR_FINAL and call_id in self.finished:
                self.finished[call_id].late_final(data)  # the last words, after the hang-up
                if call_id in self._saved:
                    await self._save_transcript(self.finished[call_id], self._saved[call_id])
                    await self._catalogue(self._saved[call_id])
            if message.type == m.RECORDING_SAVED and call_id in self.finished:
                self._saved[call_id] = data
                await self._save_transcript(self.finished[call_id], data)
                if self.tickets is not None:
                    await self.tickets.attach_recording(
                        call_id, str(data.get("directory", "")), self.finished[call_id]
                    )
                await self._catalogue(data)
            if message.type != m.CALL_OFFERED or self._stale_offer(message):
                return
            flow = CallFlow(call_id, worker=str(data.get("worker", "")), options=self.options)
            self.flows[call_id] = flow
        if message.type == m.ASR_FINAL and data.get("substantive") and self.understand:
            data = await self._understood(flow, data)
        before, step = flow.agent_requested, flow.step
        if self.seating is not None and call_id in self._handed:
            await self._act(self.seating.on_event(flow, message.type, data, self.clock()))
        commands = flow.on_event(message.type, data, self.clock())
        if message.type == m.CALL_ENDED:
            self._finish(call_id)  # before any await: the tick must not see it again
        if flow.agent_requested and not before:
            await self._publish_call_event(flow, m.AGENT_REQUESTED, {"digit": "0"})
        await self._send(flow, commands, stepped=flow.step is not step)
        if message.type == m.CALL_OFFERED and any(c.type == m.ANSWER for c in commands):
            now = self.wall_clock()
            self._answered.append((now, max(0.0, now - message.ts)))
        if flow.understanding is not None and not flow.ticket:
            await self._open_ticket(flow)  # before the call is queued
        if flow.wants_agent and call_id not in self._handed and flow.step is Step.QUEUED:
            self._handed.add(call_id)
            if not flow.ticket:
                await self._open_ticket(flow)  # the agent sees a draft, even for key 0
            if self.seating is not None:
                priority = await self._priority(flow)
                await self._act(self.seating.enqueue(flow, self.clock(), priority))
        if message.type == m.CALL_ENDED:
            if flow.answered and not flow.ticket:
                await self._open_ticket(flow)  # nothing understood: an agent listens
            if flow.callback_reason == "voicemail" and self.tickets is not None:
                await self.tickets.request_callback(flow.ticket, flow.caller, "voicemail")
            await self._publish_call_event(flow, m.CALL_TRANSCRIPT, transcript_record(flow))

    def _stale_offer(self, message: Message) -> bool:
        """An offer the worker has given up on (or is about to) by now: answering it
        would only cost the hub time that the next caller needs."""
        if self.answer_within_s is None:
            return False
        now = self.wall_clock()
        age = now - message.ts
        if age < self.answer_within_s * 0.9:
            return False
        self.stale_offers += 1
        self._stale.append(now)
        if now - self._stale_logged >= 10:  # one line per 10 s, with the count
            self._stale_logged = now
            log.warning(
                "offers too old to answer; dropped (the node is overloaded)",
                extra=fields(call_id=message.call_id, age_s=round(age, 2), total=self.stale_offers),
            )
        return True

    def load(self, window_s: float = LOAD_WINDOW_S) -> dict:
        """``hub.load``: how fast the calls offered lately were answered."""
        now = self.wall_clock()
        latencies = sorted(lat for at, lat in self._answered if now - at <= window_s)
        lags = sorted(lag for at, lag in self._lags if now - at <= window_s)
        return {
            "window_s": window_s,
            "answered": len(latencies),
            "stale": sum(1 for at in self._stale if now - at <= window_s),
            "p50_s": _quantile(latencies, 0.50),
            "p90_s": _quantile(latencies, 0.90),
            "p99_s": _quantile(latencies, 0.99),
            "events": len(lags),
            "lag_p50_s": _quantile(lags, 0.50),
            "lag_p90_s": _quantile(lags, 0.90),
            "calls": len(self.flows),
            "pending": len(self._chains),
        }

    async def _open_ticket(self, flow: CallFlow) -> None:
        if self.tickets is None:
            return
        opened = await self.tickets.open(flow)
        if opened is None:
            return
        ticket, duplicate_of = opened
        flow.ticket = ticket.number
        data = {
            "number": ticket.number,
            "call_id": flow.call_id,
            "status": str(ticket.status),
            "request_type": str(ticket.request_type),
            "domain": ticket.domain,
            "summary": ticket.summary,
            "due_date": ticket.due_date.isoformat() if ticket.due_date else None,
            "needs_agent_review": ticket.needs_agent_review,
            "duplicate_of": duplicate_of,
        }
        await self.bus.publish(
            topics.ticket_event(ticket.number, "drafted"),
            Message(m.TICKET_DRAFTED, data, node=self.node),
        )
        await self._publish_call_event(flow, m.TICKET_DRAFTED, data)

    async def _understood(self, flow: CallFlow, data: dict) -> dict:
        """Attach the understanding of everything the caller said so far."""
        said = flow.said()
        now_said = str(data.get("content") or data.get("text", ""))
        text = "，".join(part for part in (said, now_said) if part)
        assert self.understand is not None
        try:
            understanding = await asyncio.to_thread(self.understand, text)
        except Exception:  # never lose the call over the model: the agent decides
            log.exception("understanding failed", extra=fields(call_id=flow.call_id))
            return data
        await self._publish_call_event(flow, m.CALL_UNDERSTOOD, understanding.as_dict())
        return {**data, "understanding": understanding}

    def standing_priority(self, flow: CallFlow) -> CallerPriority:
        """The caller's priority from what the call itself says: emergency-adjacent
        words, then marked callers (the priority key or the number list), else normal."""
        if flow.understanding is not None and flow.understanding.emergency_adjacent:
            return CallerPriority.EMERGENCY_ADJACENT
        if flow.marked or flow.caller in self.priority_numbers:
            return CallerPriority.MARKED
        return CallerPriority.NORMAL

    async def _priority(self, flow: CallFlow) -> int:
        """How soon the caller is served among equals: the standing priority, then
        those who called in the last 24 h."""
        standing = self.standing_priority(flow)
        if standing is not CallerPriority.NORMAL:
            return standing
        repeat = self.tickets is not None and bool(flow.caller)
        if repeat and await self.tickets.called_recently(flow.caller, flow.ticket, hours=24):  # type: ignore[union-attr]
            return CallerPriority.REPEAT_CALLER
        return CallerPriority.NORMAL

    async def agent_command(self, agent_id: str, command: str, data: dict) -> str:
        """An agent's state change (log in, ready, not ready with a reason, wrap-up
        done, log out), from the bus or the web desk; "" when done, else why not."""
        if self.seating is None:
            return "no agents are configured on this node"
        now = self.clock()
        error = self.seating.agent_command(agent_id, command, data, now)
        await self._act(self.seating.tick(now))
        return error

    async def _on_agent_command(self, agent_id: str, message: Message) -> None:
        """An agent's desk over the bus: the command, then a reply."""
        error = await self.agent_command(agent_id, message.type, message.data)
        if error:
            log.warning(
                "agent command refused",
                extra=fields(agent=agent_id, command=message.type, error=error),
            )
        await self.bus.publish(
            topics.agent_command_replies(agent_id),
            Message(
                m.COMMAND_REPLY,
                {
                    "command_id": message.id,
                    "command": message.type,
                    "ok": not error,
                    "error": error,
                },
                node=self.node,
            ),
        )

    async def _act(self, actions: Actions) -> None:
        for flow, commands in actions.commands:
            await self._send(flow, commands, stepped=True)
        for worker, call_id, command in actions.worker_commands:
            await self.bus.publish(
                topics.worker_commands(worker),
                Message(command.type, {"call_id": call_id, **command.data}, node=self.node),
            )
        for item in actions.publish:
            await self.bus.publish(
                item.topic, Message(item.type, item.data, node=self.node), retain=item.retain
            )
            if self.tickets is not None:
                await self._note_callback(item)

    async def _note_callback(self, item: Publish) -> None:
        """Keep the ticket's callback task in step with seat allocation."""
        assert self.tickets is not None
        data = item.data
        if item.type == m.CALLBACK_REQUESTED and not data.get("merged_into"):
            flow = self.flows.get(str(data.get("call_id")))
            if flow is not None:
                await self.tickets.request_callback(flow.ticket, flow.caller, "queue")
        elif item.type == m.CALLBACK_CONNECTED:
            await self.tickets.callback_done(str(data.get("ticket", "")), str(data.get("agent_id")))

    def _finish(self, call_id: str) -> None:
        self._handed.discard(call_id)
        flow = self.flows.pop(call_id, None)
        if flow is not None:
            self.finished[call_id] = flow
        if len(self.finished) > 1000:
            gone = next(iter(self.finished))
            self.finished.pop(gone)
            self._saved.pop(gone, None)

    async def send_to_worker(self, worker: str, call_id: str, command: Command) -> None:
        """A command for a call the hub drives outside a CallFlow (a survey call)."""
        if command.type == m.PLAY and "text" in command.data:
            rendered = await self._rendered(command)
            if rendered is None:
                return
            command = rendered
        await self.bus.publish(
            topics.worker_commands(worker),
            Message(command.type, {"call_id": call_id, **command.data}, node=self.node),
        )

    async def take_over_survey(self, survey: SurveyFlow) -> None:
        """A survey's citizen asked for a person (or reported an emergency): the call
        goes on as an ordinary call, queued for an agent who sees the ticket."""
        now = self.clock()
        flow = CallFlow(survey.call_id, worker=survey.worker, caller=survey.number)
        flow.options = self.options
        flow.ticket = survey.ticket
        flow.transcript = [
            {"leg": "caller", "turn": 0, "text": line["text"], "content": line["text"]}
            for line in survey.heard
        ]
        self.flows[flow.call_id] = flow
        commands = flow.take_over(now, "survey")
        await self._send(flow, commands, stepped=True)
        if flow.wants_agent and flow.step is Step.QUEUED and self.seating is not None:
            self._handed.add(flow.call_id)
            if survey.emergency:
                priority: int = CallerPriority.EMERGENCY_ADJACENT
            else:
                priority = await self._priority(flow)
            await self._act(self.seating.enqueue(flow, now, priority))

    def worker_with_room(self) -> str | None:
        """The media worker with the most free legs, if one has two (a callback)."""
        best, most = None, 1
        for worker, status in self.workers.items():
            if status.get("state") != "up":
                continue
            legs = int(status.get("legs", status.get("capacity", 4)))
            free = legs - 2 * len(status.get("calls", []))
            if free > most:
                best, most = worker, free
        if best is None:
            loads = {
                w: (st.get("state"), len(st.get("calls", []))) for w, st in self.workers.items()
            }
            log.warning("no media worker has room for a callback", extra=fields(calls=loads))
        return best

    async def _on_worker_status(self, message: Message) -> None:
        worker = str(message.data.get("worker", ""))
        previous = self.workers.get(worker, {})
        self.workers[worker] = message.data
        if message.data.get("state") == "down":
            # A last will: the worker died, or only its link to the broker did (a broker
            # shutting down sends every will). Its calls end if it does not come back.
            self._quiet.setdefault(worker, self.clock())
            log.warning("worker reported down", extra=fields(worker=worker))
            return
        was_quiet = self._quiet.pop(worker, None) is not None
        restarted = bool(previous.get("pid")) and previous.get("pid") != message.data.get("pid")
        if was_quiet or restarted:
            listed = {str(c.get("call_id", "")) for c in message.data.get("calls", [])}
            await self._lose_calls(worker, keep=listed)
        for call in message.data.get("calls", []):
            call_id = call.get("call_id", "")
            if call.get("state") == "offered":
                continue  # not answered yet: the worker refuses it if nobody answers
            if self.seating is not None and call_id in self.seating.callback_calls:
                continue  # a callback seat allocation is making
            if self.surveys is not None and self.surveys.owns(call_id):
                continue  # a 回访 survey call
            if call_id and call_id not in self.flows and call_id not in self.finished:
                flow = CallFlow(call_id, worker=worker, caller=call.get("caller", ""))
                self.flows[call_id] = flow
                log.info(
                    "adopting a call from before the hub started",
                    extra=fields(call_id=call_id, worker=worker),
                )
                await self._send(flow, flow.adopt(self.clock()))

    async def _lose_calls(self, worker: str, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """The worker's calls (but ``keep``) are gone with it: each ends as if the
        worker had reported it (seat allocation, ticket and transcript included)."""
        for call_id, flow in list(self.flows.items()):
            if flow.worker != worker or call_id in keep:
                continue
            log.warning("call lost with its worker", extra=fields(call_id=call_id, worker=worker))
            ended = Message(
                m.CALL_ENDED,
                {"call_id": call_id, "worker": worker, "reason": "worker_lost"},
                node=self.node,
            )
            await self._on_call_event(ended)
        if self.surveys is not None:
            await self.surveys.lose_worker(worker, keep)

    def _bus_up_since(self, now: float) -> float | None:
        """Since when the hub's own link to the broker is up; None while it is down
        (then nothing can be concluded about workers' silence)."""
        connected = getattr(self.bus, "connected", None)
        up = connected.is_set() if isinstance(connected, asyncio.Event) else True
        if not up:
            self._link_up_at = None
        elif self._link_up_at is None:
            self._link_up_at = now
        return self._link_up_at

    async def tick(self) -> None:
        now = self.clock()
        link_up = self._bus_up_since(now)
        for worker, since in list(self._quiet.items()):
            if link_up is not None and now - max(since, link_up) >= self.worker_grace_s:
                del self._quiet[worker]
                await self._lose_calls(worker)
        if self.seating is not None:
            await self._act(self.seating.tick(now))
            await self._publish_queue_stats(now)
        if self.surveys is not None:
            await self.surveys.tick()
        for call_id, flow in list(self.flows.items()):
            commands = flow.on_tick(now)
            if flow.step is Step.ENDED and call_id in self.flows:
                log.warning(
                    "call dropped: its worker never confirmed the end",
                    extra=fields(call_id=call_id, worker=flow.worker),
                )
                self._finish(call_id)
            await self._send(flow, commands)

    async def _publish_queue_stats(self, now: float) -> None:
        """Retained ``queue.stats`` per seat group: on a change, and every 5 s while
        calls wait (the longest wait grows)."""
        assert self.seating is not None
        for group, payload in self.seating.queue_stats(now).items():
            last, last_at = self._stats.get(group, (None, -math.inf))
            waiting = payload["waiting"] > 0 and now - last_at >= 5.0
            if stats.changed(last, payload) or waiting:
                self._stats[group] = (payload, now)
                message = Message(m.QUEUE_STATS, payload, node=self.node)
                await self.bus.publish(topics.queue_stats(group), message, retain=True)

    async def _catalogue(self, saved: dict) -> None:
        """Index the finished call for QA review (manifest, transcript, ticket)."""
        directory = str(saved.get("directory", ""))
        if self.catalog is None or self.recordings_root is None or not directory:
            return
        await self.after_new_calls()
        try:
            await in_sql_thread(
                self.catalog.add_from_directory, Path(directory), self.recordings_root
            )
        except Exception:  # QA can reindex later (hotline qa reindex); calls go on
            log.exception("could not index the call", extra=fields(directory=directory))

    async def _save_transcript(self, flow: CallFlow, saved: dict) -> None:
        """Put the transcript beside the recordings, where QA finds the call."""
        directory = Path(str(saved.get("directory", "")))
        if not saved.get("directory") or not directory.is_dir():
            return  # recorded on another machine: the call.transcript event has it
        await self.after_new_calls()
        try:
            await asyncio.to_thread(write_transcript, directory, transcript_record(flow))
        except OSError as exc:
            log.warning(
                "could not save the transcript",
                extra=fields(call_id=flow.call_id, directory=str(directory), error=str(exc)),
            )

    async def _send(self, flow: CallFlow, commands: list[Command], stepped: bool = False) -> None:
        for command in commands:
            if command.type == m.PLAY and "text" in command.data:
                command = await self._rendered(command)
                if command is None:
                    continue
            message = Message(
                command.type, {"call_id": flow.call_id, **command.data}, node=self.node
            )
            log.debug("command", extra=fields(command=command.type, call_id=flow.call_id))
            await self.bus.publish(topics.worker_commands(flow.worker), message)
        if commands or stepped:
            await self._publish_call_event(flow, m.FLOW_STEP, {"step": flow.step.value})

    async def _rendered(self, command: Command) -> Command | None:
        """A PLAY of a text made during the call (queue position, wait): synthesized
        once, then played like any prompt.  Without a synthesizer it is skipped."""
        if self.render is None:
            return None
        text = str(command.data["text"])
        try:
            prompt = await asyncio.to_thread(self.render, text)
        except Exception:
            log.exception("could not synthesize an announcement", extra=fields(text=text))
            return None
        data = {k: v for k, v in command.data.items() if k != "text"}
        return Command(m.PLAY, {**data, "prompt": prompt})

    async def _publish_call_event(self, flow: CallFlow, event: str, data: dict) -> None:
        await self.bus.publish(
            topics.call_event(flow.call_id, event),
            Message(
                event, {"call_id": flow.call_id, "worker": flow.worker, **data}, node=self.node
            ),
        )

    def status(self, state: str) -> Message:
        return Message(
            m.HUB_STATUS,
            {
                "state": state,
                "pid": os.getpid(),
                "calls": len(self.flows),
                "flows": {cid: f.step.value for cid, f in self.flows.items()},
            },
            node=self.node,
        )


def _quantile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted figures (nearest rank); None for none."""
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return round(ordered[index], 4)


def transcript_record(flow: CallFlow) -> dict:
    return {
        "call_id": flow.call_id,
        "caller": flow.caller,
        "called": flow.called,
        "turns": flow.turn,
        "understood": flow.understood,
        "agent_requested": flow.agent_requested,
        "agent_offered": flow.agent_offered,
        "understanding": flow.understanding_data(),
        "emergency": flow.emergency,
        "seat_group": flow.seat_group,
        "ticket": flow.ticket,
        "end_reason": flow.end_reason,
        "lines": flow.transcript,
    }
