"""The hub's seat allocation: the ACD (``call_routing.acd``) driven by live calls.

The ACD is pure logic; this module connects it to calls and agents.  It queues
a call when its flow hands it over, plays hold music and position / wait
announcements while it waits, offers a callback that keeps the caller's place,
rings the chosen agent through the caller's media worker (``dial``), follows
the agent's leg (answered → connected, failed → the next agent, hung up →
wrap-up), and handles the agents' own state commands (log in, ready, not ready
with a reason, wrap-up done).

It returns what the hub must do (commands for calls, messages to publish);
it never touches the bus itself, so it is tested with a fake clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from call_routing.acd import (
    Acd,
    AcdError,
    AgentNotReady,
    CallbackDue,
    CallbackGaveUp,
    CallerPriority,
    Decision,
    Offer,
    OfferFailure,
    RingTimeout,
    WaitTimeout,
    Widened,
    WrapUpEnded,
)
from call_routing.acd.announcements import Announcement, Announcer
from call_routing.acd.windows import Schedule
from events import messages as m
from events import stats, topics
from ivr.hub.flow import CallFlow, Command, Step
from ivr.hub.queue_log import Outcome, QueueLog
from sip_config.sip_uris import number_uri
from tts.dynamic import minutes_to_wait, queue_position

log = logging.getLogger("hub")

HOLD_MUSIC = "hold_music"
# A due callback that finds no free line on any worker tries again this soon (seconds).
NO_LINE_RETRY_S = 30.0


@dataclass(frozen=True)
class Publish:
    """A message the hub publishes (agent state, offers, queue events)."""

    topic: str
    type: str
    data: dict[str, Any]
    retain: bool = False


@dataclass
class Actions:
    """What the hub must do after a seat-allocation step."""

    commands: list[tuple[CallFlow, list[Command]]] = field(default_factory=list)
    publish: list[Publish] = field(default_factory=list)
    # Commands for a worker outside any caller's flow (callbacks): (worker, call id, command).
    worker_commands: list[tuple[str, str, Command]] = field(default_factory=list)

    def send(self, flow: CallFlow, *commands: Command) -> None:
        if commands:
            self.commands.append((flow, list(commands)))

    def extend(self, other: Actions) -> None:
        self.commands += other.commands
        self.publish += other.publish
        self.worker_commands += other.worker_commands


@dataclass(frozen=True)
class SeatingOptions:
    announce_every_s: float = 30.0  # 0: never
    callback: bool = True
    callback_offer_after_s: float = 45.0
    trunk_uri: str = ""  # callbacks dial sip:{number}@… ; empty: the caller's gateway
    divert_wait_above_s: float | None = None  # diversion before queueing
    divert_calls_per_agent_above: float | None = None
    voicemail_max_s: float = 120.0


@dataclass
class _Callback:
    """A booked callback: who to call and, while it is dialled, the worker call."""

    number: str
    uri: str  # where the citizen is dialled
    ticket: str
    worker: str = ""
    call_id: str = ""  # the worker's call for the current attempt
    dial_id: str = ""
    reached: bool = False


def callback_uri(number: str, template: str, remote_uri: str) -> str:
    """Where a citizen is called back: ``acd.trunk_uri`` with the number, or the
    gateway their call came from."""
    return number_uri(number, template, remote_uri, "acd.trunk_uri")


@dataclass
class _Waiting:
    """A call in the queue, as the hub follows it."""

    group: str
    since: float
    next_announce: float
    announcer: Announcer
    callback_offered: bool = False
    dial_id: str = ""
    agent_id: str = ""
    prompt_playing: str = ""


_FAILURES = {
    486: OfferFailure.BUSY,
    600: OfferFailure.BUSY,
    603: OfferFailure.REJECTED,
    408: OfferFailure.NO_ANSWER,
}


def offer_failure(code: int) -> OfferFailure:
    """What the agent leg's final SIP status says about the agent."""
    return _FAILURES.get(code, OfferFailure.UNREACHABLE)


class Seating:
    def __init__(
        self,
        acd: Acd,
        agent_uris: Mapping[str, str],
        flows: Mapping[str, CallFlow],
        general_group: str,
        options: SeatingOptions | None = None,
        pick_worker: Callable[[], str | None] = lambda: None,
        schedule: Schedule | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.acd = acd
        self.agent_uris = dict(agent_uris)  # agent id → SIP URI the worker dials
        self.flows = flows  # the hub's flows, by call id
        self.general_group = general_group
        self.options = options or SeatingOptions()
        self.waiting: dict[str, _Waiting] = {}
        self.connected: dict[str, str] = {}  # call id → agent id
        self._published: dict[str, tuple[str, str | None, str | None]] = {}
        self._dials = 0
        self._connected_at: dict[str, float] = {}
        # Opening hours and windows that switch groups on and off, on the wall clock.
        self.schedule = schedule or Schedule()
        self.wall_clock = wall_clock or (lambda: datetime.now().astimezone())
        self.open = True
        self._schedule_due: datetime | None = None
        self._groups_on: frozenset[str] | None = None
        self.log = QueueLog()  # outcomes per group, for the wallboard
        # Supervisors' switches (audited by the consoles): windowed groups forced
        # on or off until the schedule next changes.
        self.forced_groups: dict[str, bool] = {}
        self.pick_worker = pick_worker  # a media worker with room for a callback's two legs
        self.callbacks: dict[str, _Callback] = {}  # by the ACD's call id (the original call)
        self.callback_calls: dict[str, str] = {}  # worker call id → original call id

    # ---- calls --------------------------------------------------------------------
    def enqueue(self, flow: CallFlow, now: float, priority: int = 0) -> Actions:
        """The flow handed its call over: queue it for its seat group, ``priority``
        (:class:`~call_routing.acd.CallerPriority`) first."""
        actions = Actions()
        self._follow_schedule(now)
        if not self.open:
            actions.send(flow, *flow.voicemail(now, self.options.voicemail_max_s))
            actions.publish.append(self._call_event(flow, m.CALL_QUEUED, refused="closed"))
            return actions
        group = flow.seat_group or self.general_group
        known = {group.id for group in self.acd.groups()}
        if group not in known:
            group = self.general_group
        diverted = self.acd.should_divert(
            group,
            now,
            wait_above_s=self.options.divert_wait_above_s,
            calls_per_agent_above=self.options.divert_calls_per_agent_above,
        )
        if diverted and not self.options.callback:
            actions.send(flow, *flow.voicemail(now, self.options.voicemail_max_s, "voicemail_busy"))
            actions.publish.append(self._call_event(flow, m.CALL_QUEUED, refused=diverted))
            return actions
        try:
            self.acd.enqueue(flow.call_id, group, now, priority=priority)
        except AcdError as exc:
            log.warning("call not queued", extra={"fields": {"call_id": flow.call_id}})
            actions.send(flow, *flow.voicemail(now, self.options.voicemail_max_s, "voicemail_busy"))
            actions.publish.append(self._call_event(flow, m.CALL_QUEUED, refused=str(exc)))
            return actions
        every = self.options.announce_every_s
        waiting = _Waiting(group, now, now + (every or math.inf), Announcer(every))
        self.waiting[flow.call_id] = waiting
        self.log.arrived(group, self.wall_clock())
        flow.seat_group = group
        if diverted:  # a long wait ahead: the callback is offered at once
            waiting.callback_offered = True
            actions.send(flow, Command(m.PLAY, {"prompt": "callback_offer"}))
        actions.publish.append(
            self._call_event(
                flow,
                m.CALL_QUEUED,
                group=group,
                position=self.acd.position(flow.call_id),
                diverted=diverted or "",
                priority=priority,
            )
        )
        actions.extend(self.tick(now))
        return actions

    def on_event(self, flow: CallFlow, event: str, data: dict[str, Any], now: float) -> Actions:
        """A worker event for a call that seat allocation follows (before the flow sees it)."""
        actions = Actions()
        call_id = flow.call_id
        waiting = self.waiting.get(call_id)
        match event:
            case m.PROMPT_STARTED if waiting is not None:
                waiting.prompt_playing = str(data.get("prompt", ""))
            case m.PROMPT_FINISHED if waiting is not None and flow.step is Step.QUEUED:
                prompt = str(data.get("prompt", ""))
                if prompt != HOLD_MUSIC and not data.get("interrupted"):
                    waiting.prompt_playing = ""
                    actions.send(flow, _hold_music())
            case m.DTMF if waiting is not None and str(data.get("digit")) == "1":
                if waiting.callback_offered:
                    actions.extend(self._callback_requested(flow, now))
            case m.AGENT_ANSWERED if waiting is not None and data.get("dial_id") == waiting.dial_id:
                try:
                    answered = self.acd.offer_answered(call_id, now)
                except AcdError:
                    actions.send(flow, Command(m.HANGUP, {"leg": "agent", "reason": "withdrawn"}))
                    return actions
                del self.waiting[call_id]
                self.connected[call_id] = answered.agent_id
                self._connected_at[call_id] = now
                self.log.left(
                    answered.group_id, self.wall_clock(), Outcome.ANSWERED, answered.waited_s
                )
                actions.publish.append(
                    self._call_event(
                        flow,
                        m.CALL_CONNECTED,
                        agent_id=answered.agent_id,
                        group=answered.group_id,
                        waited_s=round(answered.waited_s, 3),
                    )
                )
            case m.AGENT_FAILED if waiting is not None and data.get("dial_id") == waiting.dial_id:
                waiting.dial_id = waiting.agent_id = ""
                if self.acd.ringing_agent(call_id) is not None:
                    failure = offer_failure(int(data.get("code", 0)))
                    decisions = self.acd.offer_failed(call_id, failure, now)
                    actions.extend(self._decide(decisions, now))
                if flow.step is Step.QUEUED:
                    actions.send(flow, _hold_music())
                actions.extend(self.tick(now))
            case m.AGENT_HUNGUP if call_id in self.connected:
                self._end_connected(call_id, now)
                actions.extend(self.tick(now))
            case m.CALL_ENDED:
                if call_id in self.connected:
                    self._end_connected(call_id, now)
                elif waiting is not None:
                    del self.waiting[call_id]
                    try:
                        abandoned = self.acd.caller_hung_up(call_id, now)
                    except AcdError:
                        pass
                    else:
                        self.log.left(
                            abandoned.group_id,
                            self.wall_clock(),
                            Outcome.ABANDONED,
                            abandoned.waited_s,
                        )
                        actions.publish.append(
                            self._call_event(
                                flow,
                                m.CALL_ABANDONED,
                                group=abandoned.group_id,
                                waited_s=round(abandoned.waited_s, 3),
                                ringing_agent=abandoned.withdrawn_from,
                            )
                        )
                actions.extend(self.tick(now))
            case _:
                pass
        actions.publish += self._agent_states(now)
        return actions

    def transfer(self, flow: CallFlow, group: str, now: float) -> Actions:
        """The agent hands the caller to another seat group (转接): the agent's leg
        ends (wrap-up), the caller waits in the new group ahead of ordinary calls."""
        if flow.call_id not in self.connected:
            raise ValueError(f"call {flow.call_id} is not with an agent")
        if group not in {g.id for g in self.acd.groups()}:
            raise ValueError(f"no seat group {group!r}")
        actions = Actions()
        self._end_connected(flow.call_id, now)
        actions.send(flow, Command(m.HANGUP, {"leg": "agent", "reason": "transferred"}))
        actions.send(flow, *flow.requeue(now, group))
        actions.extend(self.enqueue(flow, now, priority=CallerPriority.MARKED))
        return actions

    # ---- supervisors' switches ------------------------------------------------------
    def set_callback_offer(self, on: bool) -> None:
        self.options = dataclasses.replace(self.options, callback=on)

    def force_group(self, group: str, on: bool | None, now: float) -> None:
        """Switch a seat group on or off now (``None``: back to its time windows)."""
        if group not in {g.id for g in self.acd.groups()}:
            raise ValueError(f"no seat group {group!r}")
        if on is None:
            self.forced_groups.pop(group, None)
            self._schedule_due = None  # the windows decide again at the next tick
            self._groups_on = None
            self.acd.set_group_open(group, True, now)
        else:
            self.forced_groups[group] = on
            self.acd.set_group_open(group, on, now)

    def queue_stats(self, now: float) -> dict[str, dict[str, Any]]:
        """Each seat group's retained ``queue.stats`` payload (events/stats.py)."""
        wall = self.wall_clock()
        midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
        recent = wall - timedelta(minutes=30)
        payloads = {}
        for group in self.acd.groups():
            payloads[group.id] = stats.queue_stats(
                group.id,
                now=now,
                day_start=now - (wall - midnight).total_seconds(),
                waiting=[
                    stats.WaitingCall(call_id, w.since)
                    for call_id, w in self.waiting.items()
                    if w.group == group.id
                ],
                agents=[
                    stats.AgentSnapshot(s.id, s.status.value, s.since, s.reason or "")
                    for s in self.acd.agents()
                    if group.id in s.agent.seat_groups
                ],
                today=stats.WindowSummary(**asdict(self.log.summary(group.id, midnight))),
                last_30_min=stats.WindowSummary(**asdict(self.log.summary(group.id, recent))),
                is_open=self.acd.group_open(group.id),
                at=wall.timestamp(),
            )
        return payloads

    def _end_connected(self, call_id: str, now: float) -> None:
        self.connected.pop(call_id, None)
        self._connected_at.pop(call_id, None)
        with contextlib.suppress(AcdError):
            self.acd.call_ended(call_id, now)

    def _callback_requested(self, flow: CallFlow, now: float) -> Actions:
        """Key 1: the caller leaves the line but keeps their place; when their turn
        comes an agent is reserved, rung, and then the citizen is called."""
        actions = Actions()
        try:
            uri = callback_uri(flow.caller, self.options.trunk_uri, flow.remote_uri)
            booked = self.acd.request_callback(flow.call_id, flow.caller, now)
        except (AcdError, ValueError) as exc:
            log.warning(
                "no callback", extra={"fields": {"call_id": flow.call_id, "error": str(exc)}}
            )
            return actions
        waiting = self.waiting.pop(flow.call_id)
        self.log.left(waiting.group, self.wall_clock(), Outcome.CALLBACK, now - waiting.since)
        if waiting.dial_id:
            actions.send(flow, Command(m.HANGUP, {"leg": "agent", "reason": "callback"}))
        if not booked.merged:
            self.callbacks[booked.call_id] = _Callback(flow.caller, uri, flow.ticket)
        actions.send(flow, *flow.leave_queue(now, "callback_booked"))
        actions.publish.append(
            self._call_event(
                flow,
                m.CALLBACK_REQUESTED,
                number=flow.caller,
                group=booked.group_id,
                merged_into=booked.call_id if booked.merged else None,
                waited_s=round(now - waiting.since, 3),
            )
        )
        return actions

    def on_callback_event(
        self, call_id: str, event: str, data: dict[str, Any], now: float
    ) -> Actions:
        """An event of a callback's worker call (the agent's leg, then the citizen's)."""
        actions = Actions()
        original = self.callback_calls.get(call_id, "")
        booked = self.callbacks.get(original)
        if booked is None or booked.call_id != call_id:
            return actions
        match event:
            case m.AGENT_ANSWERED if data.get("dial_id") == booked.dial_id:
                with contextlib.suppress(AcdError):
                    self.acd.offer_answered(original, now)  # the worker now rings the citizen
            case m.AGENT_FAILED if data.get("dial_id") == booked.dial_id:
                booked.dial_id = ""
                if self.acd.ringing_agent(original) is not None:
                    failure = offer_failure(int(data.get("code", 0)))
                    actions.extend(self._decide(self.acd.offer_failed(original, failure, now), now))
            case m.CALLBACK_ANSWERED:
                booked.reached = True
                with contextlib.suppress(AcdError):
                    self.acd.callback_reached(original, now)
                self._connected_at[original] = now
                actions.publish.append(
                    Publish(
                        topics.call_event(call_id, m.CALLBACK_CONNECTED),
                        m.CALLBACK_CONNECTED,
                        {
                            "call_id": call_id,
                            "callback_of": original,
                            "ticket": booked.ticket,
                            "agent_id": self.acd.connected_agent(original),
                        },
                    )
                )
            case m.CALLBACK_FAILED:
                with contextlib.suppress(AcdError):
                    actions.extend(self._decide(self.acd.callback_unreached(original, now), now))
            case m.AGENT_HUNGUP if booked.reached:
                actions.worker_commands.append(
                    (booked.worker, call_id, Command(m.HANGUP, {"reason": "agent_hung_up"}))
                )
            case m.CALL_ENDED:
                self.callback_calls.pop(call_id, None)
                booked.call_id = ""
                if booked.reached:
                    self._end_connected(original, now)
                    self.callbacks.pop(original, None)
                elif self.acd.ringing_agent(original) is not None:
                    # The worker call ended while the agent still rang (e.g. the worker
                    # died): the agent is free again, the callback keeps its place.
                    decisions = self.acd.offer_failed(original, OfferFailure.UNREACHABLE, now)
                    actions.extend(self._decide(decisions, now))
            case _:
                pass
        actions.extend(self.tick(now))
        return actions

    def _callback_due(self, due: CallbackDue) -> Actions:
        actions = Actions()
        booked = self.callbacks.get(due.call_id)
        worker = self.pick_worker()
        if booked is None or worker is None:
            # No line to call out on: nobody's fault. The agent is free at once and
            # the callback takes its place again shortly, its attempts untouched.
            delay = min(NO_LINE_RETRY_S, self.acd.callback_policy.retry_s)
            log.warning(
                "callback due but no worker has room; retried later",
                extra={"fields": {"call_id": due.call_id, "retry_in_s": delay}},
            )
            with contextlib.suppress(AcdError):
                self.acd.callback_postponed(due.call_id, due.at, delay)
            return actions
        self._dials += 1
        booked.dial_id = f"d{self._dials}"
        booked.worker = worker
        booked.call_id = f"{due.call_id}-cb{due.attempt}-{self._dials}"
        self.callback_calls[booked.call_id] = due.call_id
        actions.worker_commands.append(
            (
                worker,
                booked.call_id,
                Command(
                    m.CALLBACK,
                    {
                        "number": booked.number,
                        "citizen_uri": booked.uri,
                        "uri": self.agent_uris[due.agent_id],
                        "agent_id": due.agent_id,
                        "dial_id": booked.dial_id,
                        "ticket": booked.ticket,
                        "attempt": due.attempt,
                    },
                ),
            )
        )
        offered = {
            "call_id": booked.call_id,
            "callback_of": due.call_id,
            "agent_id": due.agent_id,
            "group": due.group_id,
            "caller": booked.number,
            "attempt": due.attempt,
            "ticket": booked.ticket,
        }
        actions.publish.append(Publish(topics.agent_offer(due.agent_id), m.AGENT_OFFER, offered))
        return actions

    # ---- time ---------------------------------------------------------------------
    def next_due(self) -> float | None:
        """When seat allocation next needs a tick (ACD timers, announcements)."""
        due = [w.next_announce for w in self.waiting.values()]
        timer = self.acd.next_timer_at()
        if timer is not None:
            due.append(timer)
        return min(due) if due else None

    def _follow_schedule(self, now: float) -> None:
        """Open or close the node and switch windowed groups, as the wall clock says."""
        if not self.schedule.open_hours and not self.schedule.windows:
            return
        wall = self.wall_clock()
        if self._schedule_due is not None and wall < self._schedule_due:
            return
        groups = [group.id for group in self.acd.groups()]
        state = self.schedule.state_at(wall, groups)
        if state.open != self.open:
            log.warning("the node %s", "opens" if state.open else "closes for the day")
        self.open = state.open
        if state.groups_on != self._groups_on:
            for group in groups:
                on = self.forced_groups.get(group, group in state.groups_on)
                self.acd.set_group_open(group, on, now)
            self._groups_on = state.groups_on
        self._schedule_due = self.schedule.next_change(wall)

    def tick(self, now: float) -> Actions:
        self._follow_schedule(now)
        actions = self._decide(self.acd.tick(now), now)
        for call_id, waiting in list(self.waiting.items()):
            flow = self.flows.get(call_id)
            if flow is None or flow.step is not Step.QUEUED or waiting.dial_id:
                continue
            waited = now - waiting.since
            if (
                self.options.callback
                and not waiting.callback_offered
                and waited >= self.options.callback_offer_after_s
            ):
                waiting.callback_offered = True
                actions.send(flow, Command(m.PLAY, {"prompt": "callback_offer"}))
            elif now >= waiting.next_announce:
                waiting.next_announce = now + self.options.announce_every_s
                announcement = waiting.announcer.consider(
                    self.acd.position(call_id), self.acd.estimated_wait_s(call_id, now), now
                )
                if announcement is not None:
                    text = announcement_text(announcement)
                    actions.send(flow, Command(m.PLAY, {"prompt": "announcement", "text": text}))
                    actions.publish.append(
                        self._call_event(
                            flow,
                            m.CALL_ANNOUNCED,
                            position=announcement.position,
                            minutes=announcement.minutes,
                            text=text,
                        )
                    )
        actions.publish += self._agent_states(now)
        return actions

    def _decide(self, decisions: list[Decision], now: float) -> Actions:
        actions = Actions()
        for decision in decisions:
            flow = self.flows.get(decision.call_id) if hasattr(decision, "call_id") else None
            match decision:
                case Offer(call_id=call_id, agent_id=agent_id) if flow is not None:
                    actions.extend(self._offer(flow, decision))
                case Widened(call_id=call_id, group_id=group, stage=stage):
                    log.info("overflow", extra={"fields": {"call_id": call_id, "stage": stage}})
                    actions.publish.append(
                        Publish(
                            topics.call_event(call_id, m.CALL_OVERFLOWED),
                            m.CALL_OVERFLOWED,
                            {"call_id": call_id, "group": group, "stage": stage},
                        )
                    )
                case CallbackDue():
                    actions.extend(self._callback_due(decision))
                case RingTimeout(call_id=call_id) if call_id in self.callbacks:
                    booked = self.callbacks[call_id]
                    if booked.call_id:
                        actions.worker_commands.append(
                            (booked.worker, booked.call_id, Command(m.HANGUP, {"leg": "agent"}))
                        )
                case CallbackGaveUp(call_id=call_id, number=number, attempts=attempts):
                    self.callbacks.pop(call_id, None)
                    log.warning(
                        "callback gave up: the citizen was not reached",
                        extra={"fields": {"call_id": call_id, "attempts": attempts}},
                    )
                    actions.publish.append(
                        Publish(
                            topics.call_event(call_id, m.CALLBACK_GAVE_UP),
                            m.CALLBACK_GAVE_UP,
                            {"call_id": call_id, "number": number, "attempts": attempts},
                        )
                    )
                case RingTimeout(call_id=call_id) if flow is not None:
                    waiting = self.waiting.get(call_id)
                    if waiting is not None:
                        waiting.dial_id = waiting.agent_id = ""
                    actions.send(flow, Command(m.HANGUP, {"leg": "agent", "reason": "no_answer"}))
                case WaitTimeout(call_id=call_id, withdrawn_from=withdrawn) if flow is not None:
                    gone = self.waiting.pop(call_id, None)
                    if gone is not None:
                        self.log.left(
                            gone.group, self.wall_clock(), Outcome.MESSAGE, now - gone.since
                        )
                    if withdrawn:
                        actions.send(flow, Command(m.HANGUP, {"leg": "agent", "reason": "timeout"}))
                    # Waited the group's longest: a message instead, with a callback task.
                    max_s = self.options.voicemail_max_s
                    actions.send(flow, *flow.voicemail(now, max_s, "voicemail_busy"))
                case AgentNotReady(agent_id=agent_id, reason=reason):
                    log.warning(
                        "agent made not ready",
                        extra={"fields": {"agent": agent_id, "reason": reason}},
                    )
                case WrapUpEnded():
                    pass
                case Offer() | RingTimeout() | WaitTimeout():
                    log.warning("ACD decision for a call the hub no longer has: %s", decision)
                case _:
                    pass
        return actions

    def _offer(self, flow: CallFlow, offer: Offer) -> Actions:
        actions = Actions()
        waiting = self.waiting[flow.call_id]
        self._dials += 1
        waiting.dial_id = f"d{self._dials}"
        waiting.agent_id = offer.agent_id
        actions.send(
            flow,
            Command(
                m.DIAL,
                {
                    "uri": self.agent_uris[offer.agent_id],
                    "agent_id": offer.agent_id,
                    "dial_id": waiting.dial_id,
                    "ticket": flow.ticket,
                },
            ),
        )
        offered = {
            "call_id": flow.call_id,
            "agent_id": offer.agent_id,
            "group": offer.group_id,
            "caller": flow.caller,
            "ring_until_s": round(offer.ring_until - offer.at, 3),
            "waited_s": round(offer.at - waiting.since, 3),
            "ticket": flow.ticket,
            "understanding": flow.understanding_data(),
            "transcript": [line for line in flow.transcript if line.get("text")],
        }
        actions.publish.append(Publish(topics.agent_offer(offer.agent_id), m.AGENT_OFFER, offered))
        actions.publish.append(
            self._call_event(flow, m.CALL_OFFERED_TO_AGENT, agent_id=offer.agent_id)
        )
        return actions

    # ---- agents -------------------------------------------------------------------
    def agent_command(self, agent_id: str, command: str, data: dict[str, Any], now: float) -> str:
        """An agent's desk changed their state; returns an error text ("" when done)."""
        try:
            match command:
                case m.AGENT_LOGIN:
                    self.acd.log_in(agent_id, now)
                case m.AGENT_LOGOUT:
                    self.acd.log_out(agent_id, now)
                case m.AGENT_READY | m.AGENT_WRAP_UP_DONE:
                    self.acd.agent_ready(agent_id, now)
                case m.AGENT_NOT_READY:
                    self.acd.agent_not_ready(agent_id, str(data.get("reason", "")), now)
                case _:
                    return f"unknown agent command {command!r}"
        except (AcdError, ValueError) as exc:
            return str(exc)
        return ""

    def _agent_states(self, now: float) -> list[Publish]:
        """Retained state messages for agents whose state changed since last time."""
        out = []
        for state in self.acd.agents():
            key = (state.status.value, state.reason, state.call_id)
            if self._published.get(state.id) == key:
                continue
            self._published[state.id] = key
            out.append(
                Publish(
                    topics.agent_state(state.id),
                    m.AGENT_STATE,
                    agent_state(state),
                    retain=True,
                )
            )
        return out

    def states(self) -> list[Publish]:
        """Every agent's state (published at start, retained)."""
        self._published.clear()
        return self._agent_states(0.0)

    @staticmethod
    def _call_event(flow: CallFlow, event: str, **data: Any) -> Publish:
        return Publish(
            topics.call_event(flow.call_id, event),
            event,
            {"call_id": flow.call_id, "worker": flow.worker, **data},
        )


def agent_state(state: Any) -> dict[str, Any]:
    return {
        "agent_id": state.id,
        "name": state.agent.name,
        "status": state.status.value,
        "reason": state.reason or "",
        "call_id": state.call_id,
        "seat_groups": list(state.agent.seat_groups),
        "calls_answered": state.calls_answered,
        "missed_in_a_row": state.missed_in_a_row,
        "failures": {failure.value: count for failure, count in state.failures.items()},
    }


def announcement_text(announcement: Announcement) -> str:
    """排队播报 in Simplified Chinese: the place, then the wait if one can be promised."""
    text = queue_position(announcement.position)
    if announcement.minutes is not None:
        text += minutes_to_wait(max(1, announcement.minutes))
    return text


def _hold_music() -> Command:
    return Command(m.PLAY, {"prompt": HOLD_MUSIC, "loop": True})


def agent_uri(agent_id: str, fixed_uri: str, registrar: str) -> str:
    """Where the worker rings an agent: their fixed URI, or their registration
    at the node's Kamailio (``registrar`` is host:port)."""
    return fixed_uri or f"sip:{agent_id}@{registrar}"


AgentUris = Callable[[str], str]
