"""The ACD core (call_routing/acd/): agent state machine, queues, strategies and the
dispatcher, all with virtual time (seconds passed in, no clocks, no sleeps)."""

from __future__ import annotations

import random

import pytest

from call_routing.acd import (
    MISSED_REASON,
    Abandoned,
    Acd,
    Agent,
    AgentNotReady,
    AgentState,
    AgentStatus,
    Answered,
    CallerPriority,
    CallQueue,
    InvalidTransition,
    Offer,
    OfferFailure,
    OfferPolicy,
    QueuedCall,
    QueueFull,
    RingTimeout,
    SeatGroup,
    Strategy,
    TimeWentBack,
    UnknownId,
    WaitTimeout,
    WrapUpEnded,
    choose_agent,
)
from call_routing.acd.agents import UNREACHABLE_REASON

S = AgentStatus


def agent(agent_id: str, groups: tuple[str, ...] = ("g",), **skills: int) -> Agent:
    return Agent(agent_id, f"坐席{agent_id}", f"sip:{agent_id}@node", groups, skills)


def state_in(status: AgentStatus, now: float = 0.0) -> AgentState:
    """An agent brought to ``status`` through legal moves only."""
    state = AgentState(agent("a"))
    if status is S.LOGGED_OUT:
        return state
    state.log_in(now)
    if status is S.NOT_READY:
        state.not_ready("break", now)
    elif status in (S.OFFERED, S.ON_CALL, S.WRAP_UP):
        state.offer("c", now)
        if status is not S.OFFERED:
            state.answer(now)
        if status is S.WRAP_UP:
            state.end_call(now, 30)
    assert state.status is status
    return state


# ----- agents -------------------------------------------------------------------


def test_agent_profile_is_checked() -> None:
    assert agent("a", huanbao=5).level("huanbao") == 5
    assert agent("a", huanbao=2).level("yue") == 0
    with pytest.raises(ValueError, match="outside 1–5"):
        agent("a", huanbao=6)
    with pytest.raises(ValueError, match="outside 1–5"):
        agent("a", huanbao=0)
    with pytest.raises(ValueError, match="must be an integer"):
        Agent("a", "n", "sip:a@x", ("g",), {"x": 2.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="no seat group"):
        Agent("a", "n", "sip:a@x", ())
    with pytest.raises(ValueError, match="must start with sip:"):
        Agent("a", "n", "a@x", ("g",))
    with pytest.raises(ValueError, match="id must not be empty"):
        Agent("", "n", "sip:a@x", ("g",))


ACTIONS = {
    "log_in": lambda s: s.log_in(5.0),
    "log_out": lambda s: s.log_out(5.0),
    "ready": lambda s: s.ready(5.0),
    "not_ready": lambda s: s.not_ready("lunch", 5.0),
    "offer": lambda s: s.offer("c2", 5.0),
    "answer": lambda s: s.answer(5.0),
    "fail_offer": lambda s: s.fail_offer(OfferFailure.NO_ANSWER, 5.0, OfferPolicy()),
    "withdraw_offer": lambda s: s.withdraw_offer(5.0),
    "end_call": lambda s: s.end_call(5.0, 10.0),
}
# (from, action) → to; every pair not listed must be refused.
ALLOWED = {
    (S.LOGGED_OUT, "log_in"): S.AVAILABLE,
    (S.AVAILABLE, "log_out"): S.LOGGED_OUT,
    (S.NOT_READY, "log_out"): S.LOGGED_OUT,
    (S.WRAP_UP, "log_out"): S.LOGGED_OUT,
    (S.NOT_READY, "ready"): S.AVAILABLE,
    (S.WRAP_UP, "ready"): S.AVAILABLE,
    (S.AVAILABLE, "not_ready"): S.NOT_READY,
    (S.NOT_READY, "not_ready"): S.NOT_READY,
    (S.WRAP_UP, "not_ready"): S.NOT_READY,
    (S.AVAILABLE, "offer"): S.OFFERED,
    (S.OFFERED, "answer"): S.ON_CALL,
    (S.OFFERED, "fail_offer"): S.AVAILABLE,
    (S.OFFERED, "withdraw_offer"): S.AVAILABLE,
    (S.ON_CALL, "end_call"): S.WRAP_UP,
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_every_transition_is_allowed_or_refused(status: AgentStatus, action: str) -> None:
    state = state_in(status)
    expected = ALLOWED.get((status, action))
    if expected is None:
        with pytest.raises(InvalidTransition, match=f"cannot {action.replace('_', ' ')} while"):
            ACTIONS[action](state)
        assert state.status is status and state.since == 0.0  # nothing changed
    else:
        ACTIONS[action](state)
        assert state.status is expected
        assert state.since == 5.0


def test_state_details_follow_the_moves() -> None:
    state = state_in(S.AVAILABLE)
    state.not_ready("培训", 1.0)
    assert state.reason == "培训"
    with pytest.raises(ValueError, match="needs a reason"):
        state.not_ready("", 2.0)
    state.ready(3.0)
    assert state.reason is None and state.since == 3.0
    state.offer("c1", 4.0)
    assert state.call_id == "c1"
    state.answer(6.0)
    state.end_call(66.0, 15.0)
    assert state.talk_time_s == 60.0 and state.calls_answered == 1
    assert state.wrap_up_until == 81.0 and state.call_id is None
    state.ready(70.0)  # wrap-up done early
    assert state.wrap_up_until is None
    state.offer("c2", 71.0)
    state.answer(71.0)
    state.end_call(81.0, 0.0)  # no wrap-up: available at once
    assert state.status is S.AVAILABLE and state.since == 81.0 and state.talk_time_s == 70.0


def test_missed_offers_make_the_agent_not_ready() -> None:
    policy = OfferPolicy(max_missed=3)
    state = state_in(S.AVAILABLE)
    for n, failure in enumerate((OfferFailure.NO_ANSWER, OfferFailure.REJECTED), 1):
        state.offer(f"c{n}", n)
        assert state.fail_offer(failure, n, policy) is None
        assert state.status is S.AVAILABLE
    state.offer("c3", 3)
    assert state.fail_offer(OfferFailure.BUSY, 3, policy) == MISSED_REASON
    assert (state.status, state.reason) == (S.NOT_READY, "未接听")
    assert state.failures == {
        OfferFailure.NO_ANSWER: 1,
        OfferFailure.REJECTED: 1,
        OfferFailure.BUSY: 1,
        OfferFailure.UNREACHABLE: 0,
    }
    assert state.missed_in_a_row == 0  # a fresh run after ready


def test_an_answered_offer_resets_the_run_of_misses() -> None:
    policy = OfferPolicy(max_missed=2)
    state = state_in(S.AVAILABLE)
    state.offer("c1", 1)
    state.fail_offer(OfferFailure.NO_ANSWER, 1, policy)
    state.offer("c2", 2)
    state.answer(2)
    state.end_call(3, 0)
    state.offer("c3", 4)
    assert state.fail_offer(OfferFailure.NO_ANSWER, 4, policy) is None
    assert state.status is S.AVAILABLE and state.failures[OfferFailure.NO_ANSWER] == 2


def test_unreachable_makes_not_ready_at_once_and_policies_are_configurable() -> None:
    state = state_in(S.AVAILABLE)
    state.offer("c1", 1)
    assert state.fail_offer(OfferFailure.UNREACHABLE, 1, OfferPolicy()) == UNREACHABLE_REASON
    assert state.status is S.NOT_READY
    lenient = OfferPolicy(max_missed=1, counts_as_missed=frozenset(), not_ready_at_once={})
    state.ready(2)
    for n in range(5):
        state.offer(f"d{n}", 3 + n)
        assert state.fail_offer(OfferFailure.UNREACHABLE, 3 + n, lenient) is None
    strict = OfferPolicy(max_missed=1)
    state.offer("e", 10)
    assert state.fail_offer(OfferFailure.NO_ANSWER, 10, strict) == MISSED_REASON
    with pytest.raises(ValueError, match="at least 1"):
        OfferPolicy(max_missed=0)
    with pytest.raises(ValueError, match="both counted"):
        OfferPolicy(not_ready_at_once={OfferFailure.BUSY: "busy"})


# ----- queues -------------------------------------------------------------------


def test_seat_group_is_checked() -> None:
    assert SeatGroup("g").strategy is Strategy.LONGEST_IDLE
    assert SeatGroup("g", required_skill="yue", required_level=3).needs() == {"yue": 3}
    for bad, message in (
        ({"max_wait_s": 0}, "max_wait_s"),
        ({"max_length": 0}, "max_length"),
        ({"wrap_up_s": -1}, "wrap_up_s"),
        ({"ring_timeout_s": 0}, "ring_timeout_s"),
        ({"required_level": 6}, "required_level"),
    ):
        with pytest.raises(ValueError, match=message):
            SeatGroup("g", **bad)  # type: ignore[arg-type]


def test_queue_orders_by_priority_then_arrival() -> None:
    queue = CallQueue(SeatGroup("g", max_length=5))
    assert queue.add(QueuedCall("a", "g", 1.0, seq=1)) == 1
    assert queue.add(QueuedCall("b", "g", 2.0, seq=2)) == 2
    assert queue.add(QueuedCall("c", "g", 2.0, seq=3)) == 3  # same time: by arrival number
    assert queue.add(QueuedCall("d", "g", 3.0, CallerPriority.MARKED, seq=4)) == 1
    assert queue.add(QueuedCall("e", "g", 4.0, CallerPriority.REPEAT_CALLER, seq=5)) == 2
    assert [call.call_id for call in queue] == ["d", "e", "a", "b", "c"]
    assert queue.position("b") == 4 and "b" in queue and len(queue) == 5
    with pytest.raises(QueueFull, match="maximum of 5") as full:
        queue.add(QueuedCall("f", "g", 5.0, seq=6))
    assert full.value.retryable
    assert queue.remove("e").call_id == "e"
    assert [call.call_id for call in queue] == ["d", "a", "b", "c"]
    with pytest.raises(UnknownId, match="not queued"):
        queue.remove("e")
    with pytest.raises(UnknownId):
        queue.position("e")
    with pytest.raises(ValueError, match="already queued"):
        queue.add(QueuedCall("a", "g", 6.0, seq=7))
    with pytest.raises(ValueError, match="not g"):
        queue.add(QueuedCall("z", "other", 6.0, seq=8))


# ----- strategies ---------------------------------------------------------------


def idle(agent_id: str, since: float, **fields: float) -> AgentState:
    state = AgentState(agent(agent_id, **{k: int(v) for k, v in fields.items() if k.isupper()}))
    state.log_in(since)
    for name, value in fields.items():
        if not name.isupper():
            setattr(state, name, value)
    return state


CALL = QueuedCall("c", "g", 0.0, skills={"YUE": 1})


def test_longest_idle_is_the_default_with_id_tie_break() -> None:
    pool = [idle("b", 5), idle("c", 3), idle("a", 3)]
    assert choose_agent(CALL, pool, 10).id == "a"
    assert choose_agent(CALL, pool[:2], 10, Strategy.LONGEST_IDLE).id == "c"
    assert choose_agent(CALL, [], 10) is None


def test_round_robin_goes_round_by_id() -> None:
    pool = [idle("c", 1), idle("a", 9), idle("b", 5)]
    picks, last = [], None
    for _ in range(4):
        last = choose_agent(CALL, pool, 10, Strategy.ROUND_ROBIN, last_agent_id=last).id
        picks.append(last)
    assert picks == ["a", "b", "c", "a"]
    # the last agent is busy now: the next one after it, wrapping round
    assert choose_agent(CALL, pool[1:], 10, Strategy.ROUND_ROBIN, last_agent_id="b").id == "a"


def test_fewest_calls_then_longest_idle() -> None:
    pool = [idle("a", 1, calls_answered=4), idle("b", 8, calls_answered=2)]
    pool.append(idle("c", 6, calls_answered=2))
    assert choose_agent(CALL, pool, 10, Strategy.FEWEST_CALLS).id == "c"


def test_least_talk_time_then_longest_idle() -> None:
    pool = [idle("a", 1, talk_time_s=900), idle("b", 8, talk_time_s=300)]
    pool += [idle("c", 6, talk_time_s=300.5), idle("d", 7, talk_time_s=300)]
    assert choose_agent(CALL, pool, 10, Strategy.LEAST_TALK_TIME).id == "d"


def test_skill_weighted_prefers_the_highest_levels() -> None:
    call = QueuedCall("c", "g", 0.0, skills={"YUE": 1, "TAX": 1})
    pool = [idle("a", 1, YUE=5), idle("b", 8, YUE=3, TAX=3), idle("c", 2, YUE=4, TAX=2)]
    assert choose_agent(call, pool, 10, Strategy.SKILL_WEIGHTED).id == "c"  # 6, tie: idle
    pool.append(idle("d", 9, YUE=5, TAX=4))
    assert choose_agent(call, pool, 10, Strategy.SKILL_WEIGHTED).id == "d"


# ----- the dispatcher -----------------------------------------------------------


def make_acd(*agents: Agent, policy: OfferPolicy | None = None, **group: object) -> Acd:
    acd = Acd([SeatGroup("g", **group)], agents, offer_policy=policy)  # type: ignore[arg-type]
    for each in agents:
        acd.log_in(each.id, 0.0)
    return acd


def test_a_call_is_offered_answered_and_wrapped_up() -> None:
    acd = make_acd(agent("a"), ring_timeout_s=15, wrap_up_s=30)
    acd.enqueue("c1", "g", 10.0)
    assert acd.position("c1") == 1
    assert acd.tick(10.0) == [Offer("c1", "a", "g", 10.0, 25.0)]
    assert acd.ringing_agent("c1") == "a" and acd.agent("a").status is S.OFFERED
    assert acd.tick(12.0) == []  # nothing more to do
    assert acd.offer_answered("c1", 14.0) == Answered("c1", "a", "g", 14.0, 4.0)
    assert acd.queue("g") == () and acd.connected_agent("c1") == "a"
    acd.call_ended("c1", 194.0)
    assert acd.agent("a").status is S.WRAP_UP and acd.next_timer_at() == 224.0
    assert acd.tick(223.999) == []
    assert acd.tick(300.0) == [WrapUpEnded("a", 224.0)]  # at its own time, not at the tick
    assert acd.agent("a").since == 224.0 and acd.agent("a").talk_time_s == 180.0


def test_ring_timeout_fires_exactly_and_the_call_keeps_its_place() -> None:
    acd = make_acd(agent("a"), agent("b"), ring_timeout_s=20)
    acd.agent_not_ready("b", "break", 0.0)
    acd.enqueue("c1", "g", 1.0)
    assert acd.tick(1.0) == [Offer("c1", "a", "g", 1.0, 21.0)]
    acd.enqueue("c2", "g", 2.0)
    assert acd.tick(2.0) == []
    assert acd.next_timer_at() == 21.0
    assert acd.tick(20.999) == []
    acd.agent_ready("b", 20.999)
    decisions = acd.tick(21.0)
    assert decisions[0] == RingTimeout("c1", "a", 21.0)
    # c1 is still first: b (the longest idle now) gets it, a gets c2
    assert decisions[1:] == [Offer("c1", "b", "g", 21.0, 41.0), Offer("c2", "a", "g", 21.0, 41.0)]
    assert acd.agent("a").failures[OfferFailure.NO_ANSWER] == 1
    assert [call.call_id for call in acd.queue("g")] == ["c1", "c2"]


def test_n_missed_offers_through_the_acd_make_the_agent_not_ready() -> None:
    acd = make_acd(agent("a"), policy=OfferPolicy(max_missed=2), ring_timeout_s=10)
    acd.enqueue("c1", "g", 0.0)
    assert isinstance(acd.tick(0.0)[0], Offer)
    assert acd.offer_failed("c1", OfferFailure.REJECTED, 3.0) == []
    assert acd.tick(3.0) == [Offer("c1", "a", "g", 3.0, 13.0)]
    assert acd.tick(13.0) == [RingTimeout("c1", "a", 13.0), AgentNotReady("a", "未接听", 13.0)]
    assert acd.agent("a").reason == MISSED_REASON and acd.position("c1") == 1
    assert acd.tick(100.0) == []  # no agent: the call waits


def test_max_wait_fires_exactly_and_withdraws_a_ringing_offer() -> None:
    acd = make_acd(agent("a"), max_wait_s=60, ring_timeout_s=30)
    acd.agent_not_ready("a", "break", 0.0)
    acd.enqueue("c1", "g", 0.0)
    acd.enqueue("c2", "g", 5.0)
    assert acd.tick(5.0) == []
    acd.agent_ready("a", 40.0)
    assert acd.tick(40.0) == [Offer("c1", "a", "g", 40.0, 70.0)]
    assert acd.next_timer_at() == 60.0
    assert acd.tick(59.999) == []
    assert acd.tick(60.0) == [
        WaitTimeout("c1", "g", 60.0, 60.0, withdrawn_from="a"),
        Offer("c2", "a", "g", 60.0, 90.0),
    ]
    assert acd.agent("a").failures[OfferFailure.NO_ANSWER] == 0  # not the agent's fault
    acd.offer_answered("c2", 64.0)
    acd.enqueue("c3", "g", 64.0)
    assert acd.tick(200.0) == [WaitTimeout("c3", "g", 124.0, 60.0)]


def test_caller_hang_up_is_abandoned_with_time_waited() -> None:
    acd = make_acd(agent("a"))
    acd.enqueue("c1", "g", 3.0)
    acd.enqueue("c2", "g", 4.0)
    acd.tick(4.0)
    assert acd.caller_hung_up("c2", 9.5) == Abandoned("c2", "g", 9.5, 5.5)
    assert acd.caller_hung_up("c1", 10.0) == Abandoned("c1", "g", 10.0, 7.0, withdrawn_from="a")
    assert acd.agent("a").status is S.AVAILABLE and acd.queue("g") == ()
    with pytest.raises(UnknownId, match="not waiting"):
        acd.caller_hung_up("c1", 11.0)


def test_misuse_is_refused_clearly() -> None:
    acd = make_acd(agent("a"))
    acd.enqueue("c1", "g", 5.0)
    with pytest.raises(TimeWentBack, match="from 5.0 to 4.0"):
        acd.tick(4.0)
    with pytest.raises(ValueError, match="already in the ACD"):
        acd.enqueue("c1", "g", 5.0)
    with pytest.raises(UnknownId, match="no seat group x"):
        acd.enqueue("c9", "x", 5.0)
    with pytest.raises(UnknownId, match="not ringing"):
        acd.offer_answered("c1", 5.0)
    with pytest.raises(UnknownId, match="not ringing"):
        acd.offer_failed("c1", OfferFailure.BUSY, 5.0)
    with pytest.raises(UnknownId, match="not connected"):
        acd.call_ended("c1", 5.0)
    with pytest.raises(UnknownId, match="no agent z"):
        acd.agent_ready("z", 5.0)
    acd.tick(5.0)
    acd.offer_answered("c1", 6.0)
    with pytest.raises(InvalidTransition, match="call_ended instead"):
        acd.caller_hung_up("c1", 7.0)
    with pytest.raises(InvalidTransition, match="cannot log out while on_call"):
        acd.log_out("a", 7.0)
    with pytest.raises(ValueError, match="unknown seat group"):
        Acd([SeatGroup("g")], [agent("a", ("g", "h"))])
    with pytest.raises(ValueError, match="defined twice"):
        Acd([SeatGroup("g")], [agent("a"), agent("a")])
    with pytest.raises(ValueError, match="defined twice"):
        Acd([SeatGroup("g"), SeatGroup("g")])
    with pytest.raises(QueueFull):
        full = make_acd(max_length=1)
        full.enqueue("c1", "g", 0.0)
        full.enqueue("c2", "g", 0.0)


def test_skills_and_groups_limit_who_is_offered() -> None:
    acd = Acd(
        [SeatGroup("g", required_skill="yue", required_level=2), SeatGroup("h")],
        [agent("a", ("g",), yue=1), agent("b", ("h",), yue=5), agent("c", ("g", "h"), yue=3)],
    )
    for each in "abc":
        acd.log_in(each, 0.0)
    acd.enqueue("c1", "g", 1.0)
    acd.enqueue("c2", "g", 2.0, skills={"tax": 1})  # nobody has tax
    acd.enqueue("c3", "h", 3.0, priority=CallerPriority.EMERGENCY_ADJACENT)
    offers = acd.tick(3.0)
    # c3 first by priority: longest idle in h is b (tie at 0.0, smaller id)
    assert offers == [Offer("c3", "b", "h", 3.0, 23.0), Offer("c1", "c", "g", 3.0, 23.0)]
    assert acd.queue("g")[1].skills == {"yue": 2, "tax": 1}


def test_round_robin_through_the_acd() -> None:
    acd = make_acd(agent("a"), agent("b"), agent("c"), strategy=Strategy.ROUND_ROBIN)
    served = []
    for n in range(6):
        acd.enqueue(f"c{n}", "g", float(n))
        (offer,) = acd.tick(float(n))
        served.append(offer.agent_id)
        acd.offer_answered(offer.call_id, float(n))
        acd.call_ended(offer.call_id, float(n))
    assert served == ["a", "b", "c", "a", "b", "c"]


# ----- invariants over many random steps ----------------------------------------


def _check_invariants(acd: Acd, offers: list[Offer]) -> None:
    waiting = {call.call_id: call for group in acd.groups() for call in acd.queue(group.id)}
    busy: dict[str, str] = {}
    for state in acd.agents():
        if state.status in (S.OFFERED, S.ON_CALL):
            assert state.call_id is not None
            assert state.call_id not in busy, "one call on two agents"
            busy[state.call_id] = state.id
            if state.status is S.OFFERED:
                assert acd.ringing_agent(state.call_id) == state.id
                assert state.call_id in waiting, "offer without a waiting call"
            else:
                assert acd.connected_agent(state.call_id) == state.id
        else:
            assert state.call_id is None, "a free agent holds a call"
    for call_id in waiting:
        agent_id = acd.ringing_agent(call_id)
        assert agent_id is None or acd.agent(agent_id).status is S.OFFERED
    for group in acd.groups():  # order kept: priority, then arrival
        places = [call.place for call in acd.queue(group.id)]
        assert places == sorted(places)
    unoffered = [c for c in waiting.values() if acd.ringing_agent(c.call_id) is None]
    for state in acd.agents():  # work conserving after a tick
        if state.status is S.AVAILABLE:
            for call in unoffered:
                assert not (
                    call.group_id in state.agent.seat_groups and state.agent.meets(call.skills)
                ), f"{call.call_id} waits while {state.id} is free for it"
    for offer in offers:  # nobody ahead was skipped for this agent
        offered = acd.agent(offer.agent_id).agent
        mine = waiting.get(offer.call_id)
        if mine is None:
            continue
        for call in unoffered:
            if call.place < mine.place and call.group_id == offer.group_id:
                assert not offered.meets(call.skills), f"{call.call_id} skipped"


KINDS = {Offer: "offer", RingTimeout: "ring", WrapUpEnded: "wrap", WaitTimeout: "wait"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invariants_hold_over_random_steps(seed: int) -> None:
    rng = random.Random(seed)
    groups = [
        SeatGroup("g", Strategy.LONGEST_IDLE, max_wait_s=120, wrap_up_s=10, ring_timeout_s=15),
        SeatGroup("h", Strategy.ROUND_ROBIN, max_length=6, wrap_up_s=0, ring_timeout_s=8),
        SeatGroup("k", Strategy.SKILL_WEIGHTED, max_wait_s=45.5, required_skill="yue"),
        SeatGroup("m", Strategy.FEWEST_CALLS, wrap_up_s=3.25),
        SeatGroup("n", Strategy.LEAST_TALK_TIME, max_wait_s=30),
    ]
    names = [group.id for group in groups]
    agents = [
        Agent(
            f"a{n}",
            f"a{n}",
            f"sip:a{n}@node",
            tuple(rng.sample(names, rng.randint(1, 3))),
            {"yue": rng.randint(1, 5)} if rng.random() < 0.6 else {},
        )
        for n in range(8)
    ]
    acd = Acd(groups, agents, offer_policy=OfferPolicy(max_missed=2))
    now, calls = 0.0, 0
    counts = dict.fromkeys(("offer", "ring", "wrap", "wait", "answer", "abandon"), 0)
    for _step in range(3000):
        now += rng.choice((0.0, 0.25, 0.5, 1.0, 2.0, 5.0))
        due = acd.next_timer_at()
        if due is not None and due <= now and rng.random() < 0.5:
            now = due  # sometimes tick exactly at the deadline, sometimes late
        event = rng.random()
        if event < 0.35:
            calls += 1
            group = rng.choice(groups)
            try:
                acd.enqueue(
                    f"c{calls}",
                    group.id,
                    now,
                    priority=rng.choice((0, 0, 0, 1, 3)),
                    skills={"yue": rng.randint(1, 4)} if rng.random() < 0.2 else None,
                )
            except QueueFull:
                assert len(acd.queue(group.id)) == group.max_length
        elif event < 0.75:
            _agent_or_caller_event(acd, rng, now, counts)
        else:
            state = rng.choice(acd.agents())
            match state.status:
                case S.LOGGED_OUT:
                    acd.log_in(state.id, now)
                case S.NOT_READY:
                    acd.agent_ready(state.id, now)
                case S.AVAILABLE if rng.random() < 0.3:
                    acd.agent_not_ready(state.id, "break", now)
                case S.WRAP_UP if rng.random() < 0.2:
                    acd.log_out(state.id, now)
        expected_timers = _due_timers(acd, now)
        decisions = acd.tick(now)
        fired = [
            (d.at, type(d).__name__, getattr(d, "call_id", getattr(d, "agent_id", None)))
            for d in decisions
            if isinstance(d, RingTimeout | WrapUpEnded | WaitTimeout)
        ]
        assert sorted(fired) == sorted(expected_timers), "timers fire exactly when configured"
        for d in decisions:
            kind = KINDS.get(type(d))
            if kind:
                counts[kind] += 1
            assert d.at <= now
        _check_invariants(acd, [d for d in decisions if isinstance(d, Offer)])
    assert all(counts[kind] > 10 for kind in ("offer", "ring", "wrap", "wait", "answer", "abandon"))


def _due_timers(acd: Acd, now: float) -> list[tuple[float, str, str]]:
    """What should fire by ``now``, worked out from the public state alone."""
    timers = []
    ringing_deadlines = {}
    for state in acd.agents():
        until = state.wrap_up_until
        if state.status is S.WRAP_UP and until is not None and until <= now:
            timers.append((until, "WrapUpEnded", state.id))
        if state.status is S.OFFERED:
            group_id = next(
                g.id for g in acd.groups() if state.call_id in {c.call_id for c in acd.queue(g.id)}
            )
            ringing_deadlines[state.call_id] = state.since + acd.group(group_id).ring_timeout_s
    for group in acd.groups():
        for call in acd.queue(group.id):
            ring_at = ringing_deadlines.get(call.call_id)
            wait_at = None if group.max_wait_s is None else call.enqueued_at + group.max_wait_s
            if ring_at is not None and ring_at <= now and (wait_at is None or ring_at <= wait_at):
                timers.append((ring_at, "RingTimeout", call.call_id))
            if wait_at is not None and wait_at <= now:
                timers.append((wait_at, "WaitTimeout", call.call_id))
    return timers


def _agent_or_caller_event(acd: Acd, rng: random.Random, now: float, counts: dict) -> None:
    offered = [s for s in acd.agents() if s.status is S.OFFERED]
    on_call = [s for s in acd.agents() if s.status is S.ON_CALL]
    waiting = [c for g in acd.groups() for c in acd.queue(g.id)]
    choice = rng.random()
    if choice < 0.45 and offered:
        state = rng.choice(offered)
        assert state.call_id is not None
        if rng.random() < 0.75:
            answered = acd.offer_answered(state.call_id, now)
            assert answered.agent_id == state.id and answered.waited_s >= 0
            counts["answer"] += 1
        else:
            acd.offer_failed(state.call_id, rng.choice(list(OfferFailure)), now)
    elif choice < 0.8 and on_call:
        state = rng.choice(on_call)
        assert state.call_id is not None
        acd.call_ended(state.call_id, now)
    elif waiting:
        call = rng.choice(waiting)
        abandoned = acd.caller_hung_up(call.call_id, now)
        assert abandoned.waited_s == now - call.enqueued_at
        counts["abandon"] += 1
