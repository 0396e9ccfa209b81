"""tickets.store against SQLite and a real PostgreSQL (started for the session)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from tickets.lifecycle import Action, TransitionError, transition
from tickets.model import Channel, Rating, RequestType, Status, TicketDraft, parse_number
from tickets.policy import TicketPolicy
from tickets.store import (
    VERSION_TABLE,
    AuditRow,
    Base,
    ConcurrentChange,
    StoreError,
    TicketQuery,
    TicketStore,
    UnknownTicket,
    make_engine,
    upgrade_database,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)  # Friday

NOISE = TicketDraft(
    channel=Channel.PHONE,
    caller_number="13800138000",
    caller_name="张先生",
    confidential=True,
    request_type=RequestType.COMPLAINT,
    domain="环境保护",
    category_code="HB01",
    lead_department="生态环境局",
    co_departments=("城市管理和综合执法局",),
    address="广州市天河区体育西路1号",
    content="楼下工地每天晚上十一点以后还在施工，噪音很大",
    summary="工地夜间施工噪音扰民",
    transcript="喂，你好，楼下工地每天晚上十一点以后还在施工，噪音很大",
    call_id="c-42",
    recording_dir="recordings/2026/11/27/c-42",
)


@pytest.fixture
def store(url: str) -> Iterator[TicketStore]:
    with TicketStore(url) as opened:
        yield opened


def test_migration_creates_the_schema_on_an_empty_database(url: str) -> None:
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade_database(url)
        tables = set(inspect(engine).get_table_names())
        assert tables == {
            "tickets",
            "ticket_audit",
            "ticket_sequences",
            "ticket_examples",
            "ticket_departments",
            "ticket_attachments",
            "verification_tasks",
            VERSION_TABLE,
        }
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == "0006"
            assert compare_metadata(context, Base.metadata) == []  # migrations match the models
        upgrade_database(url)  # a second run changes nothing
    finally:
        engine.dispose()


def test_round_trip_with_audit(store: TicketStore) -> None:
    created = store.create(NOISE, NOW)
    assert created.number == "GD12345-20261127-000001"
    assert created.due_date == date(2026, 12, 18)
    assert store.get(created.number) == created
    ticket = created
    steps = [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "生态环境局", "co_departments": ("公安局",)}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REQUEST_EXTENSION, {"reason": "需要夜间蹲点", "working_days": 5}),
    ]
    for hours, (action, options) in enumerate(steps, start=1):
        ticket = store.transition(
            ticket.number, action, "agent-1", NOW + timedelta(hours=hours), **options
        )
    loaded = store.get(ticket.number)
    assert loaded == ticket
    assert loaded.extension is not None and loaded.extension.working_days == 5
    assert loaded.co_departments == ("公安局",) and loaded.confidential
    assert [e.action for e in loaded.audit] == ["create"] + [a.value for a, _ in steps]
    assert loaded.audit[2].details == {"department": "生态环境局", "co_departments": "公安局"}
    assert all(e.at.tzinfo is not None for e in loaded.audit)
    granted = store.transition(ticket.number, Action.APPROVE_EXTENSION, "hotline", NOW)
    assert store.get(ticket.number).due_date == granted.due_date == date(2026, 12, 25)


def test_a_refused_transition_changes_nothing(store: TicketStore) -> None:
    ticket = store.create(NOISE, NOW)
    with pytest.raises(TransitionError, match="allowed now: accept, discard, link"):
        store.transition(ticket.number, Action.SIGN, "dept", NOW)
    with pytest.raises(TransitionError, match="needs a reason"):
        store.transition(ticket.number, Action.DISCARD, "agent", NOW)
    assert store.get(ticket.number) == ticket
    with pytest.raises(UnknownTicket, match="no ticket GD12345-20261127-999999"):
        store.transition("GD12345-20261127-999999", Action.ACCEPT, "agent", NOW)


def test_save_refuses_a_stale_ticket(store: TicketStore) -> None:
    ticket = store.create(NOISE, NOW)
    mine = transition(ticket, Action.ACCEPT, "agent-1", NOW)
    theirs = transition(ticket, Action.LINK, "system", NOW, linked_to="GD12345-20261120-000001")
    store.save(theirs)
    with pytest.raises(ConcurrentChange, match="read it again"):
        store.save(mine)
    assert store.get(ticket.number).status is Status.LINKED
    rated = store.save(
        transition(store.get(ticket.number), Action.UNLINK, "agent-1", NOW, reason="另一件事")
    )
    assert store.get(ticket.number) == rated


def test_numbers_per_day(url: str) -> None:
    with TicketStore(url) as store, TicketStore(url, TicketPolicy("SZ12345")) as other:
        first = [store.create(NOISE, NOW).number for _ in range(3)]
        assert [parse_number(n)[2] for n in first] == [1, 2, 3]
        # 23:30 on Friday in Guangzhou is still Friday; 00:30 on Saturday is a new day.
        late = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
        assert store.create(NOISE, late).number == "GD12345-20261127-000004"
        assert store.create(NOISE, late + timedelta(hours=1)).number == "GD12345-20261128-000001"
        assert other.create(NOISE, NOW).number == "SZ12345-20261127-000001"


def test_numbers_under_concurrency(url: str) -> None:
    """Four stores (as four hub processes would) and four threads each, at once."""
    stores = [TicketStore(url, migrate=(i == 0)) for i in range(4)]
    numbers: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def create_many(store: TicketStore) -> None:
        try:
            start.wait()
            for _ in range(15):
                made = store.create(NOISE, NOW).number
                with lock:
                    numbers.append(made)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=create_many, args=(s,)) for s in stores for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for store in stores:
        store.close()
    assert not failures, failures
    assert sorted(parse_number(n)[2] for n in numbers) == list(range(1, 241))


def test_find_filters(store: TicketStore) -> None:
    wages = TicketDraft(
        caller_number="13900139000",
        request_type=RequestType.HELP,
        domain="劳动和社会保障",
        content="老板拖欠三个月工资",
    )
    old = store.create(NOISE, NOW - timedelta(days=30))
    store.transition(old.number, Action.ACCEPT, "a", NOW - timedelta(days=30))
    store.transition(old.number, Action.DISPATCH, "a", NOW - timedelta(days=30), department="x")
    recent = store.create(wages, NOW)
    store.transition(recent.number, Action.ACCEPT, "a", NOW)
    replied = store.create(NOISE, NOW - timedelta(days=40))
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "x"}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": "已处理"}),
        (Action.APPROVE_REPLY, {}),
    ]:
        store.transition(replied.number, action, "a", NOW - timedelta(days=40), **options)

    def numbers(**filters: object) -> list[str]:
        return [t.number for t in store.find(TicketQuery(**filters))]  # type: ignore[arg-type]

    assert numbers() == [recent.number, old.number, replied.number]  # newest first
    assert numbers(status=Status.DISPATCHED) == [old.number]
    assert numbers(domain="劳动和社会保障") == [recent.number]
    assert numbers(request_type=RequestType.COMPLAINT) == [old.number, replied.number]
    assert numbers(caller_number="13900139000") == [recent.number]
    assert numbers(created_from=NOW - timedelta(days=31), created_before=NOW) == [old.number]
    assert numbers(overdue_on=date(2026, 11, 27)) == [old.number]  # a reply stops the clock
    assert numbers(limit=1, offset=1) == [old.number]
    listed = store.find(TicketQuery(status=Status.ACCEPTED))
    assert listed[0].audit == () and store.find(TicketQuery(), with_audit=True)[0].audit
    assert [t.number for t in store.recent(NOW - timedelta(days=1))] == [recent.number]


def test_intake_links_a_repeat_to_the_first_ticket(store: TicketStore) -> None:
    first = store.create(NOISE, NOW - timedelta(days=2))
    again = TicketDraft(
        caller_number="13700137000",
        request_type=RequestType.COMPLAINT,
        address="广州市天河区 体育西路1号",
        content="喂，楼下那个工地晚上十一点以后还在施工，噪音太大了",
    )
    intake = store.intake(again, NOW)
    assert intake.duplicate is not None and intake.duplicate.number == first.number
    assert intake.ticket.status is Status.LINKED and intake.ticket.linked_to == first.number
    stored = store.get(intake.ticket.number)
    assert stored == intake.ticket
    assert stored.audit[-1].reason == "same address and similar content"
    third = store.intake(again, NOW + timedelta(hours=1))
    assert third.ticket.linked_to == first.number  # chains point at the first ticket
    other = store.intake(TicketDraft(caller_number="13600136000", content="路灯不亮"), NOW)
    assert other.duplicate is None and other.ticket.status is Status.DRAFT
    kept = store.intake(again, NOW + timedelta(hours=2), link_duplicates=False)
    assert kept.duplicate is not None and kept.ticket.status is Status.DRAFT


def test_rating_and_reopen_persist(store: TicketStore) -> None:
    ticket = store.create(TicketDraft(request_type=RequestType.CONSULTATION), NOW)
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.CLOSE_AT_ONCE, {"note": "告知办理地点"}),
        (Action.CALLBACK, {}),
        (Action.RATE, {"rating": "不满意"}),
    ]:
        ticket = store.transition(ticket.number, action, "agent", NOW, **options)
    assert store.get(ticket.number).rating is Rating.DISSATISFIED
    later = NOW + timedelta(days=3)
    again = store.transition(ticket.number, Action.REOPEN, "hotline", later, reason="未解决")
    assert store.get(ticket.number) == again and again.rating is None
    assert again.due_date == date(2026, 12, 2)  # Monday + 2 working days


def test_audit_rows_are_numbered_in_order(store: TicketStore) -> None:
    ticket = store.create(NOISE, NOW)
    store.transition(ticket.number, Action.ACCEPT, "a", NOW)
    store.transition(ticket.number, Action.DISPATCH, "a", NOW, department="x")
    with store.engine.connect() as connection:
        seqs = connection.execute(select(AuditRow.seq).order_by(AuditRow.id)).scalars().all()
    assert seqs == [0, 1, 2]


def test_naive_times_and_bad_urls_are_refused(tmp_path: Path) -> None:
    with TicketStore(f"sqlite:///{tmp_path / 't.db'}") as store, pytest.raises(Exception) as bad:
        store.create(NOISE, datetime(2026, 11, 27, 10, 0))
    assert "time zone" in str(bad.value)
    with pytest.raises(StoreError, match="not supported"):
        TicketStore("mysql://localhost/db")
    with pytest.raises(StoreError, match="not a database URL"):
        TicketStore("::")


def test_the_store_from_settings(tmp_path: Path) -> None:
    from sip_config import load_settings

    settings = load_settings(
        None, {"node.data_dir": tmp_path / "data", "tickets.number_prefix": "FS12345"}
    )
    with TicketStore.from_settings(settings) as store:
        assert store.create(NOISE, NOW).number == "FS12345-20261127-000001"
    assert (tmp_path / "data" / "tickets.db").is_file()
