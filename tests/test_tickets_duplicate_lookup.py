"""tickets.store: duplicate candidates come by index (same caller or same address),
so intake costs the same however many tickets the window holds; migration 0003
gives tickets written before it their address key. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, inspect

from storage.sql import make_engine
from tests.support.ticket_rows import old_ticket_values, tickets_table_before
from tickets.model import RequestType, Status, TicketDraft
from tickets.store import TicketRow, TicketStore, upgrade_database

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def draft(caller: str, address: str, content: str) -> TicketDraft:
    return TicketDraft(
        caller_number=caller,
        request_type=RequestType.COMPLAINT,
        address=address,
        content=content,
    )


def test_intake_reads_only_tickets_with_the_callers_number_or_address(url: str) -> None:
    with TicketStore(url) as store:
        for index in range(60):  # a busy morning of other people's requests
            store.create(
                draft(f"1390000{index:04d}", f"越秀区东风路{index}号", "路灯不亮"),
                NOW - timedelta(hours=1),
            )
        first = store.create(
            draft(
                "13800138000", "天河区体育西路1号", "楼下工地每天晚上十一点以后还在施工，噪音很大"
            ),
            NOW,
        )
        loaded: list[int] = []

        def count(target: TicketRow, _context: object) -> None:
            loaded.append(target.id)

        event.listen(TicketRow, "load", count)
        try:
            again = store.intake(
                draft(
                    "13700137000",
                    "天河区 体育西路1号",
                    "楼下那个工地晚上十一点以后还在施工，噪音太大了",
                ),
                NOW + timedelta(minutes=5),
            )
        finally:
            event.remove(TicketRow, "load", count)
        assert again.duplicate is not None and again.duplicate.number == first.number
        # The new ticket itself, and the one candidate: not the 60 others of the window.
        assert len(set(loaded)) <= 3, loaded
        by_caller = store.intake(
            draft("13800138000", "", "楼下工地晚上十一点以后施工的噪音还是很大"),
            NOW + timedelta(minutes=9),
        )
        assert by_caller.duplicate is not None
        assert by_caller.duplicate.reason in ("same caller and similar content",)
        nobody = store.intake(draft("anonymous", "", "噪音"), NOW + timedelta(minutes=10))
        assert nobody.duplicate is None and nobody.ticket.status is Status.DRAFT


def test_migration_0003_gives_older_tickets_their_address_key(url: str) -> None:
    upgrade_database(url, "0002")
    engine = make_engine(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("tickets")}
        assert "address_key" not in columns
        old = tickets_table_before(lambda name: name == "address_key")
        with engine.begin() as connection:
            connection.execute(
                old.insert().values(
                    old_ticket_values(
                        old,
                        "GD12345-20261101-000001",
                        NOW - timedelta(days=1),
                        date(2026, 12, 4),
                        request_type="投诉",
                        address="广州市天河区体育西路１号",  # a full-width digit
                        content="工地夜间施工噪音很大",
                    )
                )
            )
    finally:
        engine.dispose()
    with TicketStore(url) as store:  # opening it migrates to the newest revision
        repeat = store.intake(
            draft("13700137000", "广州市天河区 体育西路1号", "工地晚上施工噪音很大"),
            NOW + timedelta(hours=1),
        )
        assert repeat.duplicate is not None
        assert repeat.duplicate.number == "GD12345-20261101-000001"
