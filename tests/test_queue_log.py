"""ivr.hub.queue_log: the wallboard's outcomes per group, and their refill after a hub
restart from the outbox's durable events (a real SQLite outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from events import messages as m
from events import topics
from events.memory import MemoryBus
from events.messages import Message
from events.outbox import Outbox
from ivr.hub.flow import FlowOptions
from ivr.hub.hub import Hub
from ivr.hub.main import restore_queue_log
from ivr.hub.queue_log import Entry, Outcome, QueueLog, entries_from_events
from ivr.hub.seat_plan import build_seating
from tests.support.seating import settings

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def outcome(kind: str, group: str | None, waited: object, call: str = "c1") -> Message:
    data: dict[str, object] = {"call_id": call}
    if group is not None:
        data["group"] = group
    if waited is not None:
        data["waited_s"] = waited
    return Message(kind, data, node="node1")


def test_durable_events_become_outcomes_oldest_first() -> None:
    events = [
        (NOW, outcome(m.CALL_ABANDONED, "综合", 70.0)),
        (NOW - timedelta(minutes=5), outcome(m.CALL_CONNECTED, "综合", 12.5)),
        (NOW + timedelta(minutes=1), outcome(m.CALLBACK_REQUESTED, "城建", 50)),
        (NOW, outcome(m.CALL_QUEUED, "综合", None)),  # not an outcome
        (NOW, outcome(m.CALL_CONNECTED, None, 3.0)),  # no group: skipped
        (NOW, outcome(m.CALLBACK_REQUESTED, "综合", None)),  # an older node: no wait
    ]
    assert entries_from_events(events) == [
        Entry("综合", NOW - timedelta(minutes=5), Outcome.ANSWERED, 12.5),
        Entry("综合", NOW, Outcome.ABANDONED, 70.0),
        Entry("综合", NOW, Outcome.CALLBACK, 0.0),
        Entry("城建", NOW + timedelta(minutes=1), Outcome.CALLBACK, 50.0),
    ]


def test_restored_outcomes_go_before_live_ones_and_old_ones_are_dropped() -> None:
    log = QueueLog(keep=timedelta(hours=26))
    log.left("综合", NOW, Outcome.ANSWERED, 4.0)  # seen live since the restart
    kept = log.restore(
        [
            Entry("综合", NOW - timedelta(hours=30), Outcome.ANSWERED, 1.0),  # too old
            Entry("综合", NOW - timedelta(hours=2), Outcome.ABANDONED, 30.0),
            Entry("综合", NOW - timedelta(hours=1), Outcome.ANSWERED, 20.0),
            Entry("综合", NOW + timedelta(seconds=1), Outcome.ANSWERED, 2.0),  # after: not before
        ]
    )
    assert kept == 3
    summary = log.summary("综合", NOW - timedelta(hours=3))
    assert (summary.offered, summary.answered, summary.answered_within, summary.abandoned) == (
        3,
        2,
        1,
        1,
    )
    assert log.summary("综合", NOW - timedelta(days=2)).offered == 3  # 30 h ago was trimmed


async def test_a_restarted_hub_shows_todays_figures_from_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'tickets.db'}")
    noon = NOW.replace(hour=12)
    for call, kind, waited, minutes_ago in [
        ("y", m.CALL_CONNECTED, 1.0, 13 * 60),  # yesterday evening
        ("a", m.CALL_CONNECTED, 8.0, 55),
        ("b", m.CALL_CONNECTED, 40.0, 45),
        ("c", m.CALL_ABANDONED, 25.0, 25),
        ("d", m.CALLBACK_REQUESTED, 60.0, 15),
    ]:
        outbox.clock = lambda at=noon - timedelta(minutes=minutes_ago): at
        outbox.add(topics.call_event(call, kind), outcome(kind, "综合", waited, call))
    outbox.add(topics.call_event("e", m.CALL_TRANSCRIPT), outcome(m.CALL_TRANSCRIPT, "综合", 1.0))
    config = settings()
    hub = Hub(
        MemoryBus(),
        "node1",
        options=FlowOptions(seats=True),
        seating=lambda flows: build_seating(config, flows, wall_clock=lambda: noon),
    )

    class Durable:  # what run_hub opened: the outbox (and its publisher)
        pass

    durable = Durable()
    durable.outbox = outbox  # type: ignore[attr-defined]
    assert await restore_queue_log(hub, durable, noon) == 5  # type: ignore[arg-type]
    assert hub.seating is not None
    stats = hub.seating.queue_stats(0.0)["综合"]
    today, recent = stats["today"], stats["last_30_min"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (4, 2, 1)
    assert today["service_level"] == 0.25  # one of four answered within 15 s
    assert recent["offered"] == 2  # the abandoned and the callback, 25 and 15 minutes ago
    assert await restore_queue_log(hub, None) == 0
    outbox.close()
