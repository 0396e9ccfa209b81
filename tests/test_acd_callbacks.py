"""Callbacks that keep the caller's place ("按1预约回电"), with virtual time."""

from __future__ import annotations

import pytest

from call_routing.acd import (
    Acd,
    Agent,
    AgentStatus,
    Answered,
    CallbackDue,
    CallbackGaveUp,
    CallbackPolicy,
    CallbackRequested,
    InvalidTransition,
    Offer,
    OfferFailure,
    RingTimeout,
    SeatGroup,
    UnknownId,
    WrapUpEnded,
)


def make(*agent_ids: str, retries: int = 2, retry_s: float = 300.0, **group: object) -> Acd:
    agents = [Agent(a, a, f"sip:{a}@node", ("g",)) for a in agent_ids]
    acd = Acd(
        [SeatGroup("g", **group)],  # type: ignore[arg-type]
        agents,
        callback_policy=CallbackPolicy(retries=retries, retry_s=retry_s),
    )
    for each in agent_ids:
        acd.log_in(each, 0.0)
        acd.agent_not_ready(each, "break", 0.0)
    return acd


def test_a_callback_keeps_its_place_and_reserves_the_agent_first() -> None:
    acd = make("a", ring_timeout_s=15, wrap_up_s=10)
    acd.enqueue("c1", "g", 0.0)
    acd.enqueue("c2", "g", 5.0)
    assert acd.request_callback("c1", "13800000001", 45.0) == CallbackRequested(
        "c1", "g", "13800000001", False, 45.0
    )
    assert [c.call_id for c in acd.queue("g")] == ["c1", "c2"] and acd.position("c2") == 2
    state = acd.callback("c1")
    assert state is not None and (state.number, state.attempts, state.where) == (
        "13800000001",
        0,
        "waiting",
    )
    assert acd.callback("c2") is None and acd.callback_for("13800000001") == "c1"
    with pytest.raises(InvalidTransition, match="cancel_callback"):
        acd.caller_hung_up("c1", 46.0)
    acd.agent_ready("a", 50.0)
    assert acd.tick(50.0) == [CallbackDue("c1", "a", "g", "13800000001", 1, 50.0, 65.0)]
    assert acd.agent("a").status is AgentStatus.OFFERED
    assert acd.offer_answered("c1", 52.0) == Answered("c1", "a", "g", 52.0, 52.0)
    assert acd.connected_agent("c1") == "a" and acd.callback("c1").where == "dialing"  # type: ignore[union-attr]
    acd.callback_reached("c1", 60.0)
    assert acd.callback_for("13800000001") is None  # no longer pending
    acd.call_ended("c1", 160.0)
    assert acd.agent("a").status is AgentStatus.WRAP_UP and acd.agent("a").calls_answered == 1
    assert acd.tick(170.0)[1] == Offer("c2", "a", "g", 170.0, 185.0)


def test_a_second_request_for_the_same_number_merges() -> None:
    acd = make("a")
    acd.enqueue("c1", "g", 0.0)
    acd.enqueue("c2", "g", 1.0)
    acd.request_callback("c1", "139", 2.0)
    merged = acd.request_callback("c2", "139", 3.0)
    assert merged == CallbackRequested("c1", "g", "139", True, 3.0)
    assert [c.call_id for c in acd.queue("g")] == ["c1"]  # c2 left, c1 holds the place
    with pytest.raises(UnknownId):
        acd.position("c2")
    with pytest.raises(InvalidTransition, match="callback already"):
        acd.request_callback("c1", "139", 4.0)
    with pytest.raises(ValueError, match="needs a number"):
        acd.enqueue("c3", "g", 4.0)
        acd.request_callback("c3", "", 4.0)


def test_requesting_while_ringing_withdraws_the_offer_without_fault() -> None:
    acd = make("a")
    acd.agent_ready("a", 0.0)
    acd.enqueue("c1", "g", 0.0)
    assert isinstance(acd.tick(0.0)[0], Offer)
    acd.request_callback("c1", "139", 1.0)
    assert acd.agent("a").failures[OfferFailure.NO_ANSWER] == 0
    # the agent is free again and the callback, in its place, goes to them
    assert acd.tick(1.0) == [CallbackDue("c1", "a", "g", "139", 1, 1.0, 21.0)]


def test_unreached_frees_the_agent_at_once_and_retries_exactly_keeping_the_place() -> None:
    acd = make("a", retries=1, retry_s=300, wrap_up_s=30)
    acd.enqueue("c1", "g", 0.0)
    acd.request_callback("c1", "139", 1.0)
    acd.enqueue("c2", "g", 2.0)
    acd.agent_ready("a", 10.0)
    acd.tick(10.0)
    acd.offer_answered("c1", 11.0)
    assert acd.callback_unreached("c1", 41.0) == []
    state = acd.agent("a")
    assert state.status is AgentStatus.AVAILABLE and state.since == 41.0  # no wrap-up
    assert state.calls_answered == 0 and state.talk_time_s == 0.0
    assert acd.callback("c1").retry_at == 341.0  # type: ignore[union-attr]
    assert acd.tick(41.0) == [Offer("c2", "a", "g", 41.0, 61.0)]
    acd.offer_answered("c2", 42.0)
    acd.enqueue("c3", "g", 100.0)
    acd.call_ended("c2", 200.0)  # wrap-up to 230
    assert acd.next_timer_at() == 230.0
    assert acd.tick(300.0) == [WrapUpEnded("a", 230.0), Offer("c3", "a", "g", 300.0, 320.0)]
    assert acd.next_timer_at() == 320.0
    acd.offer_answered("c3", 301.0)
    acd.enqueue("c4", "g", 330.0)
    assert acd.next_timer_at() == 341.0  # the retry is a timer
    assert acd.tick(340.999) == []
    acd.call_ended("c3", 341.0)
    acd.agent_ready("a", 341.0)
    # back in its old place: before c4, although c4 was queued while it waited
    assert acd.tick(341.0) == [CallbackDue("c1", "a", "g", "139", 2, 341.0, 361.0)]
    acd.offer_answered("c1", 342.0)
    assert acd.callback_unreached("c1", 372.0) == [CallbackGaveUp("c1", "g", "139", 2, 372.0)]
    assert acd.callback_for("139") is None
    with pytest.raises(UnknownId):
        acd.callback("c1")
    assert acd.tick(372.0) == [Offer("c4", "a", "g", 372.0, 392.0)]


def test_an_agent_not_answering_a_callback_is_a_ring_timeout() -> None:
    acd = make("a", "b", ring_timeout_s=10)
    acd.enqueue("c1", "g", 0.0)
    acd.request_callback("c1", "139", 0.0)
    acd.agent_ready("a", 1.0)
    assert acd.tick(1.0) == [CallbackDue("c1", "a", "g", "139", 1, 1.0, 11.0)]
    acd.agent_ready("b", 2.0)
    assert acd.tick(11.0) == [
        RingTimeout("c1", "a", 11.0),
        CallbackDue("c1", "b", "g", "139", 1, 11.0, 21.0),  # same attempt, next agent
    ]
    assert acd.offer_failed("c1", OfferFailure.REJECTED, 12.0) == []
    assert acd.position("c1") == 1


def test_a_callback_with_no_line_free_is_postponed_without_using_an_attempt() -> None:
    acd = make("a", retries=0, ring_timeout_s=10)
    acd.enqueue("c1", "g", 0.0)
    acd.request_callback("c1", "139", 0.0)
    acd.enqueue("c2", "g", 1.0)
    acd.agent_ready("a", 5.0)
    assert acd.tick(5.0) == [CallbackDue("c1", "a", "g", "139", 1, 5.0, 15.0)]
    acd.callback_postponed("c1", 5.0, 30.0)
    # The agent is free at once, not marked for a miss, and takes the next caller.
    assert acd.agent("a").missed_in_a_row == 0
    (offer,) = acd.tick(5.0)
    assert isinstance(offer, Offer) and offer.call_id == "c2"
    assert acd.callback("c1").where == "retry_wait"  # type: ignore[union-attr]
    acd.offer_answered("c2", 6.0)
    acd.call_ended("c2", 20.0)  # no wrap-up in this group: available again
    assert acd.tick(34.9) == []
    # Back in its place at 35 s, and still on its first (and only) attempt.
    assert acd.tick(35.0) == [CallbackDue("c1", "a", "g", "139", 1, 35.0, 45.0)]
    acd.offer_answered("c1", 36.0)
    assert acd.callback_unreached("c1", 40.0) == [CallbackGaveUp("c1", "g", "139", 1, 40.0)]
    with pytest.raises(UnknownId):
        acd.callback_postponed("c1", 41.0, 30.0)


def test_callbacks_do_not_time_out_and_can_be_cancelled() -> None:
    acd = make("a", max_wait_s=60)
    acd.enqueue("c1", "g", 0.0)
    acd.request_callback("c1", "139", 10.0)
    assert acd.tick(1000.0) == []  # no WaitTimeout for a callback
    acd.cancel_callback("c1", 1001.0)
    assert acd.queue("g") == () and acd.callback_for("139") is None
    acd.enqueue("c2", "g", 1002.0)
    with pytest.raises(InvalidTransition, match="no callback"):
        acd.cancel_callback("c2", 1003.0)
    with pytest.raises(UnknownId, match="no callback being dialled"):
        acd.callback_reached("c2", 1003.0)


def test_zero_retries_gives_up_after_the_first_attempt() -> None:
    acd = make("a", retries=0)
    acd.enqueue("c1", "g", 0.0)
    acd.request_callback("c1", "139", 0.0)
    acd.agent_ready("a", 0.0)
    acd.tick(0.0)
    acd.offer_answered("c1", 0.0)
    assert acd.callback_unreached("c1", 30.0) == [CallbackGaveUp("c1", "g", "139", 1, 30.0)]
    with pytest.raises(ValueError, match="retries"):
        CallbackPolicy(retries=-1)
    with pytest.raises(ValueError, match="retry_s"):
        CallbackPolicy(retry_s=0)
