"""events.ticket_feed: every ticket change writes its ticket.changed event into the
outbox in the change's own transaction (SQLite and PostgreSQL); a change that
fails leaves no event, an event that cannot be written undoes the change."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from events.contract import is_durable, spec
from events.messages import TICKET_CHANGED
from events.outbox import Outbox
from events.ticket_feed import TicketFeed, change_event
from tickets.lifecycle import TransitionError
from tickets.model import RequestType, TicketDraft
from tickets.store import ConcurrentChange, TicketStore

NOW = datetime(2026, 3, 27, 2, 0, tzinfo=UTC)
DRAFT = TicketDraft(
    caller_number="13800138000",
    caller_name="王先生",
    request_type=RequestType.COMPLAINT,
    domain="环境保护",
    category_code="HB-03",
    address="天河区体育西路1号",
    content="工地晚上十一点还在施工，噪音很大",
    summary="工地夜间施工噪音扰民",
    call_id="20260327-100000-w1-abcdef",
)


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def fed(url: str):  # noqa: ANN201
    store = TicketStore(url)
    outbox = Outbox(store.engine)
    wakes = Wakes()
    store.on_change = TicketFeed(outbox, "gz-1", wakes)
    yield store, outbox, wakes
    store.close()


def _changes(outbox: Outbox) -> list[dict]:
    rows = outbox.pending(1000)
    assert all(row.message.type == TICKET_CHANGED for row in rows)
    return [{"topic": row.topic, **row.message.data} for row in rows]


def test_each_change_writes_one_event_in_order(fed) -> None:  # noqa: ANN001
    store, outbox, wakes = fed
    ticket = store.create(DRAFT, NOW)
    store.transition(ticket.number, "accept", "a1001", NOW + timedelta(minutes=1))
    store.transition(
        ticket.number, "dispatch", "a1001", NOW + timedelta(minutes=2), department="区生态环境局"
    )
    events = _changes(outbox)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("create", None, "draft"),
        ("accept", "draft", "accepted"),
        ("dispatch", "accepted", "dispatched"),
    ]
    assert {e["topic"] for e in events} == {f"hotline/v1/tickets/{ticket.number}/changed"}
    last = events[-1]
    assert last["status"] == "dispatched" and last["lead_department"] == "区生态环境局"
    assert last["details"] == {"department": "区生态环境局"}
    assert last["actor"] == "a1001" and last["owner"] == "a1001"
    assert last["at"] == (NOW + timedelta(minutes=2)).isoformat()
    assert last["call_id"] == DRAFT.call_id and last["request_type"] == "投诉"
    assert wakes.count == 3  # once per committed transaction
    # Each event has the contract's fields, and nothing of the citizen's.
    fields = {f.name for f in spec(TICKET_CHANGED).fields}
    assert set(events[0]) - {"topic"} == fields
    text = repr(events)
    for private in ("13800138000", "王先生", "体育西路", "十一点"):
        assert private not in text
    assert is_durable(TICKET_CHANGED)


def test_a_refused_or_stale_change_leaves_no_event(fed) -> None:  # noqa: ANN001
    store, outbox, wakes = fed
    ticket = store.create(DRAFT, NOW)
    with pytest.raises(TransitionError):
        store.transition(ticket.number, "close", "a1001", NOW)  # a draft cannot be closed
    accepted = store.transition(ticket.number, "accept", "a1001", NOW)
    stale = dataclasses.replace(ticket, summary="改过的摘要")  # read before the accept
    from tickets.lifecycle import transition

    with pytest.raises(ConcurrentChange):
        store.save(transition(stale, "discard", "a1002", NOW, reason="无效来电"))
    assert [e["action"] for e in _changes(outbox)] == ["create", "accept"]
    assert store.get(ticket.number).status == accepted.status
    assert wakes.count == 2


def test_an_event_that_cannot_be_written_undoes_the_change(fed) -> None:  # noqa: ANN001
    store, outbox, wakes = fed
    ticket = store.create(DRAFT, NOW)

    class Broken(TicketFeed):
        def changed(self, session, ticket, entries) -> None:  # noqa: ANN001
            raise RuntimeError("outbox unavailable")

    store.on_change = Broken(outbox, "gz-1", wakes)
    with pytest.raises(RuntimeError):
        store.transition(ticket.number, "accept", "a1001", NOW)
    assert store.get(ticket.number).status.value == "draft"
    assert len(store.get(ticket.number).audit) == 1
    assert wakes.count == 1


def test_intake_links_a_duplicate_with_two_events(fed) -> None:  # noqa: ANN001
    store, outbox, _ = fed
    first = store.create(DRAFT, NOW)
    again = store.intake(DRAFT, NOW + timedelta(hours=1))
    assert again.duplicate is not None and again.duplicate.number == first.number
    events = [e for e in _changes(outbox) if e["number"] == again.ticket.number]
    assert [e["action"] for e in events] == ["create", "link"]
    assert events[-1]["linked_to"] == first.number and events[-1]["status"] == "linked"


def test_callback_tasks_are_in_the_feed_without_the_number(fed) -> None:  # noqa: ANN001
    store, outbox, _ = fed
    ticket = store.create(DRAFT, NOW)
    store.request_callback(ticket.number, "13900139000", "queue", NOW)
    store.callback_done(ticket.number, NOW + timedelta(minutes=5), "a1001", note="已回电")
    events = _changes(outbox)
    assert [e["callback_pending"] for e in events] == [False, True, False]
    assert "13900139000" not in repr(events)
    assert events[-1]["details"] == {"note": "已回电"}


def test_the_example_in_the_contract_is_what_the_feed_writes(fed) -> None:  # noqa: ANN001
    store, _, _ = fed
    ticket = store.create(DRAFT, NOW)
    message = change_event(ticket, ticket.audit[0], "gz-1")
    assert set(message.data) == set(spec(TICKET_CHANGED).example)
