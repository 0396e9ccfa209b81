"""Departments' work in the ticket store, on SQLite and PostgreSQL: the migration keeps
existing tickets and gives them their lead's part, parts are found by department, a
repeat is merged into the open ticket, the sweep writes each step with its event
once, attachments are checked, hashed and listed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from tickets.attachments import AttachmentError, store_attachment
from tickets.departments import default_directory
from tickets.lifecycle import Action
from tickets.model import AssignmentRole, RequestType, Status, TicketDraft
from tickets.store import (
    VERSION_TABLE,
    Base,
    TicketQuery,
    TicketStore,
    make_engine,
    upgrade_database,
)

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Guangzhou
SMELL = TicketDraft(
    caller_number="13800138000",
    request_type=RequestType.COMPLAINT,
    domain="环境保护",
    category_code="HB02",
    address="天河区石牌街道华师小区5栋",
    content="小区垃圾站每天散发恶臭，蚊蝇很多",
    summary="垃圾站恶臭",
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def store(url: str) -> Iterator[TicketStore]:
    with TicketStore(url) as opened:
        yield opened


class Heard:
    """A change listener that keeps the actions it hears."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def changed(self, session: Any, ticket: Any, entries: Sequence[Any]) -> None:
        self.actions += [e.action for e in entries]

    def committed(self) -> None:
        pass


def dispatched(store: TicketStore, department: str, **options: Any) -> str:
    ticket = store.create(SMELL, NOW)
    store.transition(ticket.number, Action.ACCEPT, "agent-1", NOW)
    store.transition(
        ticket.number, Action.DISPATCH, "agent-1", NOW, department=department, **options
    )
    return ticket.number


def test_the_migration_keeps_dispatched_tickets_and_gives_them_their_lead(url: str) -> None:
    upgrade_database(url, "0004")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for number, status in (("GD12345-20261201-000001", "handling"), ("X-2", "draft")):
                connection.execute(
                    text(
                        "INSERT INTO tickets (number, created_at, updated_at, status, due_date, "
                        "channel, caller_number, caller_name, confidential, request_type, domain, "
                        "category_code, lead_department, co_departments, address, content, "
                        "summary, transcript, call_id, recording_dir, emergency_number, "
                        "needs_agent_review, owner, linked_to, reply, version) VALUES (:n, :at, "
                        ":at, :s, '2026-12-20', 'phone', '', '', false, '投诉', '', '', "
                        "'生态环境局', '[]', '', '噪音', '', '', '', '', '', false, '', '', '', 1)"
                    ),
                    {"n": number, "at": NOW, "s": status},
                )
        upgrade_database(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == "0006"
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    with TicketStore(url) as store:
        kept = store.get("GD12345-20261201-000001")
        assert kept.status is Status.HANDLING and kept.content == "噪音"
        (lead,) = kept.assignments
        assert (lead.department, lead.role) == ("生态环境局", AssignmentRole.LEAD)
        assert lead.signed_at is not None  # it was being handled: signed long ago
        assert store.get("X-2").assignments == ()
        found = store.find(TicketQuery(departments=("生态环境局",)))
        assert [t.number for t in found] == ["GD12345-20261201-000001"]
        replied = store.transition(kept.number, Action.REPLY, "eco", NOW, note="已处理")
        assert replied.status is Status.REVIEWING


def test_parts_are_stored_and_found_by_department(store: TicketStore) -> None:
    city = default_directory()
    lead = dispatched(
        store, "street.tianhe.shipai", co_departments=("city.urban_management",), rules=city
    )
    other = dispatched(store, "city.water")
    ticket = store.get(lead)
    assert [a.department for a in ticket.assignments] == [
        "street.tianhe.shipai",
        "city.urban_management",
    ]
    assert ticket.assignments[0].due_at is not None

    def numbers(**filters: Any) -> list[str]:
        return [t.number for t in store.find(TicketQuery(**filters))]

    assert numbers(departments=("city.urban_management",)) == [lead]
    assert numbers(departments=("city.urban_management",), lead_only=True) == []
    assert numbers(departments=("street.tianhe.shipai", "city.water")) == [other, lead]
    assert numbers(text="垃圾站", statuses=(Status.DISPATCHED,)) == [other, lead]
    assert numbers(category_code="HB") == [other, lead]
    assert numbers(supervised=True) == []
    store.transition(other, Action.SUPERVISE, "boss", NOW)
    assert numbers(supervised=True) == [other]
    due = store.get(lead).due_date
    assert numbers(due_by=due) == [other, lead] and numbers(due_by=due - timedelta(days=1)) == []
    # redispatch moves the lead's row; the co-handler stays
    store.transition(lead, Action.SIGN, "shipai", NOW, by_department="street.tianhe.shipai")
    assert numbers(departments=("street.tianhe.shipai",), lead_only=True) == [lead]


def test_a_repeat_is_merged_into_the_open_ticket(store: TicketStore) -> None:
    first = dispatched(store, "city.ecology")
    again = TicketDraft(
        caller_number="13700137000",
        request_type=RequestType.COMPLAINT,
        address="天河区石牌街道华师小区5栋",
        content="华师小区垃圾站又臭又脏，蚊蝇很多没人管",
    )
    intake = store.intake(again, NOW + timedelta(hours=2))
    assert intake.ticket.status is Status.LINKED and intake.ticket.linked_to == first
    merged = store.get(first)
    assert merged.status is Status.DISPATCHED  # not dispatched twice
    (caller,) = merged.merged_callers
    assert (caller.number, caller.ticket) == ("13700137000", intake.ticket.number)
    assert merged.audit[-1].action == "merge"
    assert [t.number for t in store.find(TicketQuery(duplicates=True))] == [intake.ticket.number]


def test_the_sweep_writes_each_step_once_with_its_event(store: TicketStore) -> None:
    heard = Heard()
    store.on_change = heard
    number = dispatched(store, "city.ecology")
    heard.actions.clear()
    late = NOW + timedelta(hours=4)  # past the two working hours to sign
    report = store.sweep(late)
    assert report.urged == [(number, "city.ecology")] and heard.actions == ["urge"]
    assert store.sweep(late).changed == 0 and heard.actions == ["urge"]
    due = store.get(number).due_date
    past = datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=2)
    report = store.sweep(past)
    assert report.overdue == [number]
    assert heard.actions[1:] == ["overdue", "urge", "supervise"]
    ticket = store.get(number)
    assert ticket.overdue_at == past and ticket.supervised
    assert store.sweep(past).changed == 0


def test_attachments_are_checked_hashed_and_listed(store: TicketStore, tmp_path: Path) -> None:
    number = dispatched(store, "city.ecology")
    root = tmp_path / "recordings" / "attachments"
    stored = store_attachment(root, number, "../../现场照片.png", PNG)
    assert stored.path.parent == root / number and stored.path.read_bytes() == PNG
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest() and stored.name == "现场照片.png"
    again = store_attachment(root, number, "现场照片.png", PNG)
    assert again.path == stored.path  # the same file is kept once
    ident = store.add_attachment(number, stored, "eco-wang", "city.ecology", NOW)
    (listed,) = store.attachments(number)
    assert (listed.id, listed.media_type, listed.size) == (ident, "image/png", len(PNG))
    for name, data, why in (
        ("photo.png", b"MZ\x90\x00 not a png", "not a file a ticket takes"),
        ("script.exe", b"MZ\x90\x00", "not a file a ticket takes"),
        ("empty.pdf", b"", "is empty"),
        ("big.pdf", b"%PDF-" + b"0" * 2048, "at most"),
    ):
        with pytest.raises(AttachmentError, match=why):
            store_attachment(root, number, name, data, max_bytes=1024)
    assert sorted(p.name for p in (root / number).iterdir()) == [stored.path.name]
