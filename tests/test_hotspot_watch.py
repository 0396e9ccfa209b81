"""The hub's hotspot watch over a real ticket store and outbox (SQLite): a burst
of tickets about one estate's water is published once as hotspot.emerging, not
again on the next look, and not again after a restart that reads the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from events import contract, topics
from events import messages as m
from events.messages import Message
from events.outbox import Outbox
from ivr.hub.hotspot_watch import HotspotWatch, watch_hotspots
from sip_config.analytics_settings import AnalyticsSection
from tests.support.domain_model import classify
from tickets.model import TicketDraft
from tickets.store import TicketStore

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
WATER = [
    ("锦绣花园小区停水两天了", "从前天开始停水，没有任何通知。"),
    ("锦绣花园小区又停水", "物业说是水管爆了，什么时候来水？"),
    ("锦绣花园停水没人管", "老人小孩没水喝，请自来水公司尽快抢修。"),
    ("锦绣花园小区长时间停水", "楼上住户连厕所都冲不了。"),
    ("锦绣花园小区停水问题", "打自来水公司电话没人接。"),
    ("锦绣花园小区突然停水", "请尽快恢复供水。"),
]


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    with TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}") as opened:
        for k, (summary, content) in enumerate(WATER):
            opened.create(
                TicketDraft(
                    caller_number=f"1390000000{k}",
                    summary=summary,
                    content=content,
                    category_path="城乡建设/供水",
                ),
                NOW - timedelta(hours=2 + 6 * k),
            )
        opened.create(
            TicketDraft(caller_number="13700000000", summary="青山路路灯不亮", content="一个月了"),
            NOW - timedelta(hours=3),
        )
        yield opened


def test_a_burst_is_published_once_with_its_tickets(store: TicketStore, tmp_path: Path) -> None:
    watch = HotspotWatch(store, AnalyticsSection(hotspot_every_s=1), "gz-1", classify())
    sent: list[tuple[str, Message]] = []
    stop = asyncio.Event()

    async def publish(topic: str, message: Message) -> None:
        sent.append((topic, message))
        stop.set()

    asyncio.run(watch_hotspots(watch, publish, stop, clock=lambda: NOW, first_after_s=0))
    [(topic, message)] = sent
    assert topic == topics.hotspot_event(m.HOTSPOT_EMERGING)
    contract.validate(topic, message)  # the declared fields and types
    assert message.data["recent"] == 6 and message.data["place"] == "锦绣花园"
    assert message.data["people"] == 6
    assert len(message.data["tickets"]) == 6
    assert message.data["categories"] == [{"name": "城乡建设/供水", "requests": 6}]
    assert "1390000000" not in str(message.data)  # no caller's number
    assert watch.look(NOW + timedelta(minutes=15)) == []  # already published

    outbox = Outbox(f"sqlite:///{tmp_path / 'events.db'}", clock=lambda: NOW)
    outbox.add(topic, message)
    restarted = HotspotWatch(store, AnalyticsSection(), "gz-1", classify())
    assert restarted.remember(outbox, NOW + timedelta(hours=1)) == 1
    assert restarted.look(NOW + timedelta(hours=1)) == []
    assert restarted.emerging  # still flaring, just not news


def test_a_failed_look_is_tried_again(store: TicketStore) -> None:
    class Broken:
        def find(self, *_: object, **__: object) -> list:
            raise OSError("database is gone")

    watch = HotspotWatch(Broken(), AnalyticsSection(hotspot_every_s=1), "gz-1")
    stop = asyncio.Event()
    looks: list[datetime] = []

    def clock() -> datetime:
        looks.append(NOW)
        if len(looks) >= 2:
            stop.set()
        return NOW

    async def publish(topic: str, message: Message) -> None:  # pragma: no cover
        raise AssertionError("nothing to publish")

    asyncio.run(watch_hotspots(watch, publish, stop, clock=clock, first_after_s=0))
    assert len(looks) == 2  # the watch went on after the failure
