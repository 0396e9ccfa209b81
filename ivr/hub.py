"""The hub: call logic for the whole node, driving media workers over the bus.

It keeps one :class:`~ivr.flow.CallFlow` per call, turns worker events into
commands, logs every event as one structured line, and after a restart adopts
the calls that workers still hold (their retained status lists them).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import faulthandler
import logging
import math
import os
import signal
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from call_routing.acd import CallerPriority
from events import messages as m
from events import stats, topics
from events.bus import Bus
from events.messages import Message
from events.mqtt import MqttBus
from ivr.bus_address import broker_address
from ivr.call_tickets import CallTickets
from ivr.flow import CallFlow, Command, FlowOptions, Step
from ivr.logs import configure, fields
from ivr.seating import Actions, Publish, Seating
from recordings.catalog import CallCatalog
from recordings.transcript import write_transcript
from sip_config import Settings

log = logging.getLogger("hub")


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
        self._seen: dict[str, float] = {}
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

    async def on_message(self, topic: str, message: Message) -> None:
        if message.id in self._seen:
            return  # QoS 1 may deliver twice
        self._seen[message.id] = self.clock()
        for watch in self.watchers:
            try:
                watch(topic, message)
            except Exception:  # an observer never stops the calls
                log.exception("watcher failed", extra=fields(topic=topic))
        if len(self._seen) > 20000:
            cutoff = self.clock() - 600
            self._seen = {k: v for k, v in self._seen.items() if v > cutoff}
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
        if topic.startswith(f"{topics.ROOT}/calls/") and message.call_id:
            if self.concurrent_calls:
                self._chain(message)
            else:
                await self._on_call_event(message)

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

    async def settle(self) -> None:
        """Wait until every call's events so far are handled (tests, shutdown)."""
        while self._chains:
            await asyncio.gather(*list(self._chains.values()), return_exceptions=True)

    async def _on_call_event(self, message: Message) -> None:
        call_id, data = message.call_id, message.data
        log.info(message.type, extra=fields(event=message.type, **data))
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
            if message.type != m.CALL_OFFERED:
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
        said = [line["content"] for line in flow.transcript if line.get("content")]
        text = "，".join([*said, str(data.get("content") or data.get("text", ""))])
        assert self.understand is not None
        try:
            understanding = await asyncio.to_thread(self.understand, text)
        except Exception:  # never lose the call over the model: the agent decides
            log.exception("understanding failed", extra=fields(call_id=flow.call_id))
            return data
        await self._publish_call_event(flow, m.CALL_UNDERSTOOD, understanding)
        return {**data, "understanding": understanding}

    async def _priority(self, flow: CallFlow) -> int:
        """How soon the caller is served among equals: emergency-adjacent calls, then
        marked callers (key or number list), then those who called in the last 24 h."""
        understanding = flow.understanding or {}
        if understanding.get("emergency_adjacent"):
            return CallerPriority.EMERGENCY_ADJACENT
        if flow.marked or flow.caller in self.priority_numbers:
            return CallerPriority.MARKED
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
            f"{topics.agent_commands(agent_id)}/replies",
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
        try:
            await asyncio.to_thread(
                self.catalog.add_from_directory, Path(directory), self.recordings_root
            )
        except Exception:  # QA can reindex later (hotline qa reindex); calls go on
            log.exception("could not index the call", extra=fields(directory=directory))

    async def _save_transcript(self, flow: CallFlow, saved: dict) -> None:
        """Put the transcript beside the recordings, where QA finds the call."""
        directory = Path(str(saved.get("directory", "")))
        if not saved.get("directory") or not directory.is_dir():
            return  # recorded on another machine: the call.transcript event has it
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


def open_tickets(settings: Settings, durable: Durable | None = None) -> CallTickets | None:
    """The ticket store (migrated to the current schema); None (logged) if unreachable.
    With ``durable``, every ticket change writes its ``ticket.changed`` event into
    the outbox in the change's own transaction."""
    from events.ticket_feed import TicketFeed
    from tickets.policy import TicketPolicy
    from tickets.store import TicketStore

    try:
        store = TicketStore(
            settings.tickets_database_url, TicketPolicy.from_settings(settings.tickets)
        )
    except Exception as exc:  # calls are still answered and recorded
        log.error("no ticket store: %s", exc)
        return None
    if durable is not None:
        store.on_change = TicketFeed(durable.outbox, settings.node.name, durable.publisher.wake)
    return CallTickets(store)


class Durable:
    """Ticket and call-outcome events written to the outbox table first and
    published from there (at-least-once, across broker outages and restarts)."""

    def __init__(self, outbox: Any, publisher: Any, bus: Any) -> None:
        self.outbox, self.publisher, self.bus = outbox, publisher, bus
        self.task = asyncio.create_task(publisher.run())

    async def stop(self) -> None:
        with contextlib.suppress(Exception):  # the rest goes out on the next start
            await asyncio.wait_for(self.publisher.publish_pending(), 3)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await asyncio.to_thread(self.outbox.close)


def open_outbox(settings: Settings, bus: MqttBus) -> Durable | None:
    """The outbox and its publisher; None (logged: events then go out directly,
    not durably) when the database is unreachable."""
    from events.outbox import Outbox, OutboxBus, OutboxPublisher

    try:
        outbox = Outbox(settings.tickets_database_url, node=settings.node.name)
    except Exception as exc:
        log.error("no event outbox, events are not durable: %s", exc)
        return None
    publisher = OutboxPublisher(outbox, bus)
    durable = Durable(outbox, publisher, None)
    durable.bus = OutboxBus(bus, outbox, publisher)
    return durable


async def restore_queue_log(hub: Hub, durable: Durable | None, now: datetime | None = None) -> int:
    """Refill the wallboard's figures (today, last 30 minutes) from the outcomes the
    outbox recorded before this start; returns how many were restored."""
    if hub.seating is None or durable is None:
        return 0
    from ivr.queue_log import OUTCOME_EVENTS, entries_from_events

    queue_log = hub.seating.log
    try:
        rows = await asyncio.to_thread(
            durable.outbox.since, (now or datetime.now(UTC)) - queue_log.keep, OUTCOME_EVENTS
        )
        events = [(row.created_at, row.message) for row in rows]
    except Exception as exc:  # the figures start afresh; calls are not affected
        log.warning("queue figures not restored: %s", exc)
        return 0
    kept = queue_log.restore(entries_from_events(events))
    if kept:
        log.info("queue figures restored", extra=fields(outcomes=kept))
    return kept


def open_catalog(settings: Settings) -> CallCatalog | None:
    """The QA call catalog (migrated); None (logged) if the database is unreachable."""
    from recordings.catalog import CallCatalog

    try:
        return CallCatalog(settings.tickets_database_url)
    except Exception as exc:  # calls are still answered and recorded
        log.error("no call catalog: %s", exc)
        return None


def load_understanding(
    taxonomy_file: Path | None = None, low_confidence: float = 0.25
) -> Callable[[str], dict] | None:
    """The understanding model, loaded once; None (logged) if it cannot be loaded."""
    from datetime import datetime

    from call_routing import nlu_model
    from call_routing.taxonomy import load_taxonomy
    from call_routing.understanding import Understander

    try:
        taxonomy = load_taxonomy(taxonomy_file)
        understander = Understander(taxonomy, nlu_model.load(), low_confidence)
    except Exception as exc:  # the node still answers and records; agents classify
        log.error("no understanding of callers: %s", exc)
        return None

    def understand(text: str) -> dict:
        result = understander.understand(text, datetime.now()).as_dict()
        return {**result, "general_seat_group": taxonomy.general_seat_group}

    return understand


def start_web(settings: Settings, hub: Hub, stop: asyncio.Event) -> asyncio.Task | None:
    """The consoles and REST API (``[web]``), served from the hub's event loop."""
    if not settings.web.enabled:
        return None
    from ivr.console import Console
    from web.accounts import open_accounts
    from web.app import create_app
    from web.context import WebContext
    from web.fanout import Update
    from web.server import serve

    try:
        accounts = open_accounts(settings)
    except Exception as exc:  # calls go on; logins are refused with a reason
        log.error("no console accounts: %s", exc)
        accounts = None
    context = WebContext(
        settings,
        hub=hub,
        accounts=accounts,
        console=Console(hub) if hub.seating is not None else None,
        catalog=hub.catalog,
        tickets=hub.tickets.store if hub.tickets is not None else None,
    )
    hub.watchers.append(
        lambda topic, message: context.fanout.publish(
            Update(topic, message.type, message.data, message.ts)
        )
    )
    app = create_app(context)
    return asyncio.create_task(serve(app, settings.web.host, settings.web.port, stop))


def seating_for(settings: Settings) -> Callable[[dict[str, CallFlow]], Seating] | None:
    """Seat allocation from the settings; None when no agents are configured."""
    if not settings.agents:
        return None
    from ivr.seat_plan import build_seating

    return lambda flows: build_seating(settings, flows)


def prompt_renderer(settings: Settings) -> Callable[[str], str]:
    from tts.prompts import render_text

    prompts = settings.prompts

    def render(text: str) -> str:
        return render_text(
            text,
            settings.prompts_dir,
            settings.workers.clock_rate,
            prompts.voice,
            prompts.words_per_minute,
        )

    return render


def transcript_record(flow: CallFlow) -> dict:
    return {
        "call_id": flow.call_id,
        "caller": flow.caller,
        "called": flow.called,
        "turns": flow.turn,
        "understood": flow.understood,
        "agent_requested": flow.agent_requested,
        "agent_offered": flow.agent_offered,
        "understanding": flow.understanding,
        "emergency": flow.emergency,
        "seat_group": flow.seat_group,
        "ticket": flow.ticket,
        "end_reason": flow.end_reason,
        "lines": flow.transcript,
    }


async def run_hub(settings: Settings, stop: asyncio.Event) -> None:
    hub: Hub | None = None

    async def announce() -> None:
        assert hub is not None
        await bus.publish(topics.hub_status(), hub.status("up"), retain=True)

    bus = MqttBus(
        broker_address(settings),
        client_id=f"{settings.node.name}-hub-{os.getpid()}",
        will=(
            topics.hub_status(),
            Message(m.HUB_STATUS, {"state": "down"}, node=settings.node.name),
        ),
        on_connect=announce,
    )
    listen = settings.listen
    durable = open_outbox(settings, bus)
    hub = Hub(
        durable.bus if durable is not None else bus,
        settings.node.name,
        options=FlowOptions(
            listen.barge_in,
            listen.asks,
            seats=bool(settings.agents),
            priority_key=settings.acd.priority_key,
        ),
        understand=load_understanding(settings.routing.taxonomy, settings.routing.low_confidence),
        tickets=open_tickets(settings, durable),
        catalog=open_catalog(settings),
        recordings_root=settings.recordings_dir,
        concurrent_calls=True,
        seating=seating_for(settings),
        render=prompt_renderer(settings),
        priority_numbers=settings.acd.priority_numbers,
    )
    await restore_queue_log(hub, durable)
    task = asyncio.create_task(
        bus.run(
            [
                topics.ALL_CALL_EVENTS,
                topics.ALL_WORKER_STATUS,
                topics.ALL_WORKER_REPLIES,
                topics.ALL_AGENT_COMMANDS,
                topics.ALL_AGENT_UPDATES,
                topics.ALL_TICKET_EVENTS,
                f"{topics.ROOT}/asr/+/status",
            ],
            hub.on_message,
        )
    )
    web_task = start_web(settings, hub, stop)
    if hub.seating is not None:
        await hub._act(Actions(publish=hub.seating.states()))
    reindexing = None
    if hub.catalog is not None:  # calls recorded while the hub was down
        reindexing = asyncio.create_task(
            asyncio.to_thread(hub.catalog.reindex, settings.recordings_dir, True)
        )
    log.info("hub up", extra=fields(node=settings.node.name))
    last_status = 0.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        await hub.tick()
        if time.monotonic() - last_status > 5:
            last_status = time.monotonic()
            await announce()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(hub.settle(), 5)
    if web_task is not None:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(web_task, 10)
    if durable is not None:
        await durable.stop()
    if reindexing is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reindexing, 5)
    await bus.publish(topics.hub_status(), hub.status("down"), retain=True)
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description="hotline hub (started by hotline serve)")
    parser.add_argument("--settings", type=Path, required=True)
    args = parser.parse_args()
    faulthandler.enable()
    settings = Settings.model_validate_json(args.settings.read_text(encoding="utf-8"))
    configure("hub", settings.node.log_level)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_hub(settings, stop)

    asyncio.run(go())


if __name__ == "__main__":
    main()
