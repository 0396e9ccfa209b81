"""Randomized invariants of the ACD with overflow and callbacks (seeded, bounded).

After every tick: no agent on two calls, no offer without a waiting call, places
in order, no free agent left able to take a waiting call, every timer (ring
timeout, wrap-up, maximum wait, widening, backup, callback retry) fired exactly
at its configured time, and the offers made are exactly those of the plain
greedy rule (calls in place order, each to the agent its group's strategy picks
among the free agents able to take it) worked out from public state alone —
so the indexes change nothing but speed.
"""

from __future__ import annotations

import math
import random

import pytest

from call_routing.acd import (
    Acd,
    Agent,
    AgentNotReady,
    AgentStatus,
    CallbackDue,
    CallbackGaveUp,
    CallbackPolicy,
    Offer,
    OfferFailure,
    OfferPolicy,
    QueuedCall,
    QueueFull,
    RingTimeout,
    SeatGroup,
    Strategy,
    WaitTimeout,
    Widened,
    WrapUpEnded,
    choose_agent,
)

S = AgentStatus
GROUPS = [
    SeatGroup(
        "g",
        Strategy.LONGEST_IDLE,
        max_wait_s=150,
        wrap_up_s=10,
        ring_timeout_s=15,
        required_skill="jz",
        required_level=4,
        widen_after_s=20,
        widen_to_level=2,
        backup_groups=("m",),
        backup_after_s=40,
    ),
    SeatGroup(
        "h",
        Strategy.ROUND_ROBIN,
        max_length=8,
        ring_timeout_s=8,
        backup_groups=("g", "n"),
        backup_after_s=12.5,
    ),
    SeatGroup(
        "k",
        Strategy.SKILL_WEIGHTED,
        max_wait_s=45.5,
        required_skill="yue",
        required_level=3,
        widen_after_s=10,
    ),
    SeatGroup("m", Strategy.FEWEST_CALLS, wrap_up_s=3.25),
    SeatGroup("n", Strategy.LEAST_TALK_TIME, max_wait_s=30, backup_groups=("m",), backup_after_s=0),
]
TOGGLED = ("m", "k")  # groups without backups of their own, switched off and on
NUMBERS = [f"1380000{n:04d}" for n in range(12)]


def _setup(rng: random.Random) -> Acd:
    names = [group.id for group in GROUPS]
    agents = [
        Agent(
            f"a{n}",
            f"a{n}",
            f"sip:a{n}@node",
            tuple(rng.sample(names, rng.randint(1, 3))),
            {skill: rng.randint(1, 5) for skill in ("jz", "yue", "tax") if rng.random() < 0.6},
        )
        for n in range(12)
    ]
    return Acd(
        GROUPS,
        agents,
        offer_policy=OfferPolicy(max_missed=2),
        callback_policy=CallbackPolicy(retries=1, retry_s=25),
    )


class Model:
    """What the test knows of each call from the outside."""

    def __init__(self) -> None:
        self.extras: dict[str, dict[str, int]] = {}
        self.enqueued: dict[str, QueuedCall] = {}
        self.retrying: set[str] = set()  # callbacks waiting to retry
        self.dialing: set[str] = set()
        self.last_agent: dict[str, str] = {}
        self.counts = dict.fromkeys(
            ("offer", "callback_due", "ring", "wrap", "wait", "skill", "backup", "gave_up"), 0
        )

    def needs_now(self, acd: Acd, call: QueuedCall) -> dict[str, int]:
        group = acd.group(call.group_id)
        needs = dict(self.extras[call.call_id])
        widened, _ = acd.stage(call.call_id)
        if group.required_skill:
            level = group.widen_to_level if widened else group.required_level
            needs[group.required_skill] = max(level, needs.get(group.required_skill, 0))
        return needs

    def can_take(self, acd: Acd, agent: Agent, call: QueuedCall) -> bool:
        group = acd.group(call.group_id)
        own = acd.group_open(group.id) and group.id in agent.seat_groups
        if own and agent.meets(self.needs_now(acd, call)):
            return True
        _, backup = acd.stage(call.call_id)
        if backup and any(
            acd.group_open(b) and b in agent.seat_groups for b in group.backup_groups
        ):
            return agent.meets(self.extras[call.call_id])
        return False


def _expected_timers(acd: Acd, model: Model, now: float) -> list[tuple[float, str, str]]:
    timers: list[tuple[float, str, str]] = []
    ring_at: dict[str, float] = {}
    for state in acd.agents():
        until = state.wrap_up_until
        if state.status is S.WRAP_UP and until is not None and until <= now:
            timers.append((until, "wrap", state.id))
        if state.status is S.OFFERED and state.call_id is not None:
            group = acd.group(model.enqueued[state.call_id].group_id)
            ring_at[state.call_id] = state.since + group.ring_timeout_s
    held = [c for g in acd.groups() for c in acd.queue(g.id)]
    held += [model.enqueued[c] for c in model.retrying | model.dialing]
    for call in held:
        group = acd.group(call.group_id)
        live = acd.callback(call.call_id) is None
        leave = math.inf
        if live and group.max_wait_s is not None:
            leave = call.enqueued_at + group.max_wait_s
        ring = ring_at.get(call.call_id)
        if ring is not None and ring <= now and ring <= leave:
            timers.append((ring, "ring", call.call_id))
        if leave <= now:
            timers.append((leave, "wait", call.call_id))
        widened, backup = acd.stage(call.call_id)
        if group.widens and not widened:
            assert group.widen_after_s is not None
            at = call.enqueued_at + group.widen_after_s
            if at <= now and at < leave:
                timers.append((at, "skill", call.call_id))
        if group.has_backup and not backup:
            assert group.backup_after_s is not None
            at = call.enqueued_at + group.backup_after_s
            if at <= now and at < leave:
                timers.append((at, "backup", call.call_id))
    return sorted(timers)


def _fired(decisions: list) -> list[tuple[float, str, str]]:
    fired = []
    for d in decisions:
        match d:
            case RingTimeout():
                fired.append((d.at, "ring", d.call_id))
            case WrapUpEnded():
                fired.append((d.at, "wrap", d.agent_id))
            case WaitTimeout():
                fired.append((d.at, "wait", d.call_id))
            case Widened():
                fired.append((d.at, d.stage, d.call_id))
            case _:
                pass
    return sorted(fired)


def _reference_offers(
    acd: Acd, model: Model, before: dict[str, tuple[S, float]], decisions: list, now: float
) -> list[tuple[str, str]]:
    """The greedy rule, worked out from the state before the tick's matching."""
    status = dict(before)
    for d in decisions:  # what the timers did to agents
        match d:
            case WrapUpEnded():
                status[d.agent_id] = (S.AVAILABLE, d.at)
            case RingTimeout():
                status[d.agent_id] = (S.AVAILABLE, d.at)
            case WaitTimeout(withdrawn_from=str() as agent_id):
                status[agent_id] = (S.AVAILABLE, d.at)
            case AgentNotReady():
                status[d.agent_id] = (S.NOT_READY, d.at)
            case _:
                pass
    offered = [(d.call_id, d.agent_id) for d in decisions if isinstance(d, Offer | CallbackDue)]
    offered_calls = {call_id for call_id, _ in offered}
    pending = sorted(
        (
            c
            for g in acd.groups()
            for c in acd.queue(g.id)
            if acd.ringing_agent(c.call_id) is None or c.call_id in offered_calls
        ),
        key=lambda c: c.place,
    )
    free = {}
    for state in acd.agents():
        kind, since = status[state.id]
        if kind is S.AVAILABLE:
            copy = type(state)(state.agent, S.AVAILABLE, since)
            copy.calls_answered, copy.talk_time_s = state.calls_answered, state.talk_time_s
            free[state.id] = copy
    expected = []
    last = dict(model.last_agent)
    for call in pending:
        candidates = [s for s in free.values() if model.can_take(acd, s.agent, call)]
        group = acd.group(call.group_id)
        chosen = choose_agent(
            call, candidates, now, group.strategy, last_agent_id=last.get(group.id)
        )
        if chosen is not None:
            expected.append((call.call_id, chosen.id))
            del free[chosen.id]
            last[group.id] = chosen.id
    return expected


def _check_after_tick(acd: Acd, model: Model) -> None:
    waiting = {c.call_id: c for g in acd.groups() for c in acd.queue(g.id)}
    busy: dict[str, str] = {}
    for state in acd.agents():
        if state.status in (S.OFFERED, S.ON_CALL):
            assert state.call_id is not None and state.call_id not in busy, "two agents, one call"
            busy[state.call_id] = state.id
            if state.status is S.OFFERED:
                assert state.call_id in waiting, "an offer without a waiting call"
                assert acd.ringing_agent(state.call_id) == state.id
            else:
                assert acd.connected_agent(state.call_id) == state.id
        else:
            assert state.call_id is None
    for group in acd.groups():
        places = [call.place for call in acd.queue(group.id)]
        assert places == sorted(places), "order kept"
    unoffered = [c for c in waiting.values() if acd.ringing_agent(c.call_id) is None]
    for state in acd.agents():
        if state.status is S.AVAILABLE:
            for call in unoffered:
                assert not model.can_take(acd, state.agent, call), (
                    f"{call.call_id} waits while {state.id} is free for it"
                )
    for call_id in model.retrying:
        assert call_id not in waiting


def _event(acd: Acd, model: Model, rng: random.Random, now: float, serial: int) -> None:
    event = rng.random()
    states = acd.agents()
    if event < 0.3:
        group = rng.choice(GROUPS)
        extras = {"tax": rng.randint(1, 3)} if rng.random() < 0.15 else {}
        if rng.random() < 0.1:
            extras["yue"] = rng.randint(1, 4)
        call_id = f"c{serial}"
        try:
            call = acd.enqueue(
                call_id, group.id, now, priority=rng.choice((0, 0, 0, 1, 3)), skills=extras
            )
        except QueueFull:
            assert len(acd.queue(group.id)) == group.max_length
            return
        model.extras[call_id] = extras
        model.enqueued[call_id] = call
    elif event < 0.45:
        offered = [s for s in states if s.status is S.OFFERED]
        if offered:
            state = rng.choice(offered)
            assert state.call_id is not None
            if rng.random() < 0.75:
                acd.offer_answered(state.call_id, now)
                if acd.callback(state.call_id) is not None:
                    model.dialing.add(state.call_id)
            else:
                acd.offer_failed(state.call_id, rng.choice(list(OfferFailure)), now)
    elif event < 0.6:
        on_call = [s for s in states if s.status is S.ON_CALL]
        if on_call:
            state = rng.choice(on_call)
            call_id = state.call_id
            assert call_id is not None
            if call_id in model.dialing:
                model.dialing.discard(call_id)
                if rng.random() < 0.5:
                    acd.callback_reached(call_id, now)
                else:
                    gave_up = acd.callback_unreached(call_id, now)
                    assert state.status is S.AVAILABLE
                    if gave_up:
                        assert isinstance(gave_up[0], CallbackGaveUp)
                        model.counts["gave_up"] += 1
                    else:
                        model.retrying.add(call_id)
            else:
                acd.call_ended(call_id, now)
    elif event < 0.72:
        live = [c for g in acd.groups() for c in acd.queue(g.id) if acd.callback(c.call_id) is None]
        if live:
            call = rng.choice(live)
            if rng.random() < 0.5:
                abandoned = acd.caller_hung_up(call.call_id, now)
                assert abandoned.waited_s == now - call.enqueued_at
            else:
                number = rng.choice(NUMBERS)
                existing = acd.callback_for(number)
                done = acd.request_callback(call.call_id, number, now)
                assert done.merged == (existing is not None)
                assert done.call_id == (existing or call.call_id)
    elif event < 0.76:
        group_id = rng.choice(TOGGLED)
        acd.set_group_open(group_id, not acd.group_open(group_id), now)
    else:
        state = rng.choice(states)
        match state.status:
            case S.LOGGED_OUT:
                acd.log_in(state.id, now)
            case S.NOT_READY:
                acd.agent_ready(state.id, now)
            case S.AVAILABLE if rng.random() < 0.3:
                acd.agent_not_ready(state.id, "break", now)
            case S.WRAP_UP if rng.random() < 0.2:
                acd.log_out(state.id, now)


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_invariants_and_the_greedy_rule_hold_with_overflow_and_callbacks(seed: int) -> None:
    rng = random.Random(seed)
    acd = _setup(rng)
    model = Model()
    now = 0.0
    for step in range(2500):
        now += rng.choice((0.0, 0.25, 0.5, 1.0, 2.0, 5.0))
        due = acd.next_timer_at()
        if due is not None and due <= now and rng.random() < 0.5:
            now = due  # sometimes tick exactly at the deadline, sometimes late
        _event(acd, model, rng, now, step)
        model.retrying = {
            c for c in model.retrying if (cb := _callback(acd, c)) and cb.where == "retry_wait"
        }
        expected_timers = _expected_timers(acd, model, now)
        before = {s.id: (s.status, s.since) for s in acd.agents()}
        decisions = acd.tick(now)
        assert _fired(decisions) == expected_timers, "timers fire exactly when configured"
        expected = _reference_offers(acd, model, before, decisions, now)
        actual = [(d.call_id, d.agent_id) for d in decisions if isinstance(d, Offer | CallbackDue)]
        assert actual == expected, "the indexes choose as the plain greedy rule does"
        for d in decisions:
            assert d.at <= now
            if isinstance(d, Offer | CallbackDue):
                model.last_agent[d.group_id] = d.agent_id
                model.counts["callback_due" if isinstance(d, CallbackDue) else "offer"] += 1
            for kind, typ in (("ring", RingTimeout), ("wrap", WrapUpEnded), ("wait", WaitTimeout)):
                model.counts[kind] += isinstance(d, typ)
            if isinstance(d, Widened):
                model.counts[d.stage] += 1
        model.retrying = {
            c for c in model.retrying if (cb := _callback(acd, c)) and cb.where == "retry_wait"
        }
        _check_after_tick(acd, model)
        next_at = acd.next_timer_at()
        assert next_at is None or next_at > now
    assert all(n > 5 for n in model.counts.values()), model.counts


def _callback(acd: Acd, call_id: str):  # noqa: ANN202 - CallbackState | None
    try:
        return acd.callback(call_id)
    except KeyError:
        return None
