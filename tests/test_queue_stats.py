"""events.stats: the retained per-group figures, from plain inputs."""

from __future__ import annotations

import json

import pytest

from events import contract, topics
from events.messages import Message, decode, encode
from events.stats import (
    AGENT_STATES,
    AgentSnapshot,
    QueueOutcome,
    WaitingCall,
    WindowSummary,
    changed,
    queue_stats,
    summarise,
)

NOW = 100_000.0
DAY_START = NOW - 10 * 3600  # local midnight, ten hours ago

OUTCOMES = [
    # this morning, long before the last half hour
    QueueOutcome(DAY_START + 60, "answered", 5.0),
    QueueOutcome(DAY_START + 120, "answered", 40.0),
    QueueOutcome(DAY_START + 180, "abandoned", 70.0),
    QueueOutcome(DAY_START + 240, "callback", 95.0),
    # the last 30 minutes
    QueueOutcome(NOW - 1200, "answered", 15.0),  # exactly the target: within
    QueueOutcome(NOW - 600, "answered", 15.1),
    QueueOutcome(NOW - 300, "abandoned", 8.0),
    QueueOutcome(NOW - 60, "message", 120.0),
    # yesterday: not today
    QueueOutcome(DAY_START - 10, "answered", 1.0),
]


def test_a_window_counts_what_left_the_queue_in_it() -> None:
    recent = summarise(OUTCOMES, NOW - 1800)
    assert recent == WindowSummary(
        offered=4,
        answered=2,
        answered_within=1,
        abandoned=1,
        service_level=0.25,
        asa_s=15.1,  # (15.0 + 15.1) / 2, rounded to a tenth
        abandon_rate=0.25,
    )
    today = summarise(OUTCOMES, DAY_START)
    assert (today.offered, today.answered, today.answered_within, today.abandoned) == (8, 4, 2, 2)
    assert today.service_level == 0.25 and today.abandon_rate == 0.25
    assert summarise(OUTCOMES, DAY_START, answer_within_s=30).answered_within == 3
    assert summarise(OUTCOMES, DAY_START - 3600, until=DAY_START).offered == 1


def test_no_calls_give_no_rates_rather_than_zero() -> None:
    empty = summarise([], 0.0)
    assert empty.offered == 0
    assert empty.service_level is None and empty.abandon_rate is None and empty.asa_s is None


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue outcome 'lost'"):
        summarise([QueueOutcome(1.0, "lost", 0.0)], 0.0)


def payload() -> dict:
    return queue_stats(
        "general",
        now=NOW,
        day_start=DAY_START,
        waiting=[WaitingCall("c1", NOW - 31.54), WaitingCall("c2", NOW - 3)],
        agents=[
            AgentSnapshot("a1", "on_call", NOW - 400),
            AgentSnapshot("a2", "on_call", NOW - 20),
            AgentSnapshot("a3", "not_ready", NOW - 300, reason="小休"),
            AgentSnapshot("a4", "logged_out", NOW - 7200),
        ],
        outcomes=OUTCOMES,
        at=1774577702.0,
    )


def test_the_payload_has_every_figure_of_the_wallboard() -> None:
    data = payload()
    assert data["group"] == "general" and data["open"] is True
    assert data["waiting"] == 2
    assert data["longest_wait_s"] == 31.5
    assert set(data["agents"]) == set(AGENT_STATES)
    assert data["agents"]["on_call"] == {"agents": 2, "longest_s": 400.0}
    assert data["agents"]["available"] == {"agents": 0, "longest_s": 0.0}
    assert data["agents_logged_in"] == 3
    assert data["service_target_s"] == 15.0
    assert data["today"]["offered"] == 8 and data["today"]["service_level"] == 0.25
    assert data["last_30_min"]["offered"] == 4
    # JSON all the way, and the same shape as the contract's example.
    message = decode(encode(Message(contract.QUEUE_STATS, data, node="gz-1")))
    assert message.data == json.loads(json.dumps(data))
    spec = contract.spec(contract.QUEUE_STATS)
    assert set(data) == {f.name for f in spec.fields} == set(spec.example)
    assert set(data["today"]) == set(spec.example["today"])
    assert set(data["agents"]) == set(spec.example["agents"])


def test_the_hubs_own_summaries_can_be_given() -> None:
    given = WindowSummary(10, 9, 8, 1, 0.8, 4.2, 0.1)
    data = queue_stats(
        "housing",
        now=NOW,
        day_start=DAY_START,
        waiting=[],
        agents=[],
        today=given,
        last_30_min=given,
        is_open=False,
    )
    assert data["today"]["service_level"] == 0.8 and data["last_30_min"]["asa_s"] == 4.2
    assert data["waiting"] == 0 and data["longest_wait_s"] == 0.0 and data["open"] is False
    assert data["agents_logged_in"] == 0 and data["at"] is None


def test_a_wait_that_only_ticks_is_not_a_change() -> None:
    first = payload()
    later = {**first, "at": first["at"] + 5, "longest_wait_s": 36.5}
    assert not changed(first, later)
    assert changed(None, first)
    assert changed(first, {**first, "waiting": 3})
    moved = json.loads(json.dumps(first))
    moved["agents"]["available"]["agents"] = 1
    assert changed(first, moved)
    ticking = json.loads(json.dumps(first))
    ticking["agents"]["on_call"]["longest_s"] = 999.0
    assert not changed(first, ticking)


def test_the_topic() -> None:
    assert topics.queue_stats("general") == "hotline/v1/queues/general/stats"
    assert topics.matches(topics.ALL_QUEUE_STATS, topics.queue_stats("housing"))
