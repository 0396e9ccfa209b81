"""Callback tasks on tickets: the pure rules (tickets.callbacks), the store on SQLite
and a real PostgreSQL, and migration 0002 over a database written at 0001."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Column, MetaData, Table, inspect, select

from tests.support.ticket_rows import old_ticket_values, tickets_table_before
from tickets.callbacks import (
    CALLBACK_DONE,
    REQUEST_CALLBACK,
    CallbackError,
    callback_done,
    callback_number,
    request_callback,
)
from tickets.lifecycle import Action
from tickets.model import CallbackReason, Status, Ticket, TicketDraft
from tickets.store import (
    MIGRATIONS,
    AuditRow,
    TicketQuery,
    TicketRow,
    TicketStore,
    UnknownTicket,
    make_engine,
    upgrade_database,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 22, 30, tzinfo=TZ)  # Friday night: after hours

VOICEMAIL = TicketDraft(
    caller_number="13800138000",
    content="小区门口的路灯坏了一个星期",
    transcript="你好，我想反映小区门口的路灯坏了一个星期",
    call_id="c-7",
    callback_number="13800138000",
    callback_reason=CallbackReason.VOICEMAIL,
)


@pytest.fixture
def store(url: str) -> Iterator[TicketStore]:
    with TicketStore(url) as opened:
        yield opened


def draft_ticket(draft: TicketDraft = VOICEMAIL) -> Ticket:
    return Ticket.from_draft(draft, "GD12345-20261127-000001", NOW, date(2026, 12, 4))


# -- the model and the pure rules --------------------------------------------------


def test_a_reason_given_as_text_becomes_the_enum() -> None:
    assert TicketDraft(callback_reason="queue").callback_reason is CallbackReason.QUEUE
    assert TicketDraft(callback_reason="留言回电").callback_reason is CallbackReason.VOICEMAIL
    assert TicketDraft().callback_reason == ""
    assert CallbackReason.QUEUE.label == "预约回电"
    with pytest.raises(ValueError, match="no callback reason 'later'; choose one of voicemail"):
        TicketDraft(callback_number="139", callback_reason="later")
    ticket = draft_ticket()
    assert ticket.callback_reason is CallbackReason.VOICEMAIL and ticket.callback_due
    assert dataclasses.replace(ticket, callback_reason="queue").callback_reason is (
        CallbackReason.QUEUE
    )


def test_callback_due_on_the_model() -> None:
    ticket = draft_ticket()
    assert ticket.callback_due
    assert not draft_ticket(TicketDraft(caller_number="139")).callback_due
    assert not dataclasses.replace(ticket, callback_done_at=NOW).callback_due
    for status in (Status.CLOSED, Status.CALLED_BACK, Status.RATED, Status.DISCARDED):
        assert not dataclasses.replace(ticket, status=status).callback_due
    # A caller whose message repeats an earlier ticket still asked to be called back.
    assert dataclasses.replace(ticket, status=Status.LINKED).callback_due


def test_callback_numbers() -> None:
    assert callback_number(" 138 0013-8000 ") == "13800138000"
    assert callback_number("+8613800138000") == "+8613800138000"
    for bad in ("", "anonymous", "12", "sip:agent@x"):
        with pytest.raises(CallbackError, match="not a number to call back"):
            callback_number(bad)


def test_request_then_done_appends_audit_entries() -> None:
    plain = draft_ticket(TicketDraft(caller_number="13900139000"))
    later = NOW + timedelta(minutes=5)
    asked = request_callback(plain, "139 0013 9000", "queue", "hub", later)
    assert (asked.callback_number, asked.callback_reason) == ("13900139000", "queue")
    assert asked.status is Status.DRAFT and asked.updated_at == later
    assert asked.audit[:-1] == plain.audit
    entry = asked.audit[-1]
    assert (entry.action, entry.actor, entry.from_status, entry.to_status) == (
        REQUEST_CALLBACK,
        "hub",
        Status.DRAFT,
        Status.DRAFT,
    )
    assert entry.details == {"callback_number": "13900139000", "callback_reason": "queue"}
    assert request_callback(asked, "13900139000", CallbackReason.QUEUE, "hub", later) is asked
    moved = request_callback(asked, "13700137000", "queue", "agent-1", later)
    assert moved.audit[-1].details["previous_number"] == "13900139000"

    done = callback_done(moved, "agent-2", later + timedelta(hours=1), note="已联系")
    assert done.callback_done_at == later + timedelta(hours=1) and not done.callback_due
    assert done.audit[-1].action == CALLBACK_DONE
    assert done.audit[-1].details == {"callback_number": "13700137000", "note": "已联系"}
    with pytest.raises(CallbackError, match="already done"):
        callback_done(done, "agent-2", later)
    again = request_callback(done, "13700137000", "queue", "hub", later + timedelta(days=1))
    assert again.callback_due and again.callback_done_at is None  # a new task


def test_refusals() -> None:
    ticket = draft_ticket()
    with pytest.raises(CallbackError, match="has no callback task"):
        callback_done(draft_ticket(TicketDraft()), "agent", NOW)
    with pytest.raises(CallbackError, match="needs an actor"):
        callback_done(ticket, " ", NOW)
    with pytest.raises(CallbackError, match="no callback reason 'soon'"):
        request_callback(ticket, "139", "soon", "hub", NOW)
    closed = dataclasses.replace(ticket, status=Status.CLOSED)
    with pytest.raises(CallbackError, match="is finished"):
        request_callback(closed, "13900139000", "queue", "hub", NOW)
    assert callback_done(closed, "agent", NOW).callback_done_at == NOW  # the call was made


# -- the store -----------------------------------------------------------------------


def test_a_draft_with_a_callback_round_trips(store: TicketStore) -> None:
    created = store.create(VOICEMAIL, NOW)
    loaded = store.get(created.number)
    assert loaded == created
    assert loaded.callback_number == "13800138000"
    assert loaded.callback_reason is CallbackReason.VOICEMAIL
    assert loaded.callback_done_at is None
    plain = store.get(store.create(TicketDraft(caller_number="139"), NOW).number)
    assert (plain.callback_number, plain.callback_reason, plain.callback_done_at) == ("", "", None)
    # The callback fields survive a lifecycle transition.
    accepted = store.transition(created.number, Action.ACCEPT, "agent-1", NOW)
    assert store.get(created.number) == accepted and accepted.callback_due


def test_callbacks_due_oldest_first_and_filtered(store: TicketStore) -> None:
    queued = TicketDraft(caller_number="13900139000", callback_number="13900139000")
    newest = store.create(VOICEMAIL, NOW)
    oldest = store.create(
        dataclasses.replace(queued, callback_reason="queue"), NOW - timedelta(days=2)
    )
    middle = store.create(VOICEMAIL, NOW - timedelta(days=1))
    store.create(TicketDraft(caller_number="13600136000"), NOW - timedelta(days=3))  # no task
    done = store.create(VOICEMAIL, NOW - timedelta(days=4))
    store.callback_done(done.number, NOW, "agent-1")
    discarded = store.create(VOICEMAIL, NOW - timedelta(days=5))
    store.transition(discarded.number, Action.DISCARD, "agent-1", NOW, reason="空白留言")
    closed = store.create(VOICEMAIL, NOW - timedelta(days=6))
    store.transition(closed.number, Action.ACCEPT, "agent-1", NOW)
    store.transition(closed.number, Action.CLOSE_AT_ONCE, "agent-1", NOW, note="已告知")

    due = [t.number for t in store.callbacks_due()]
    assert due == [oldest.number, middle.number, newest.number]
    assert [t.number for t in store.callbacks_due(limit=2)] == due[:2]
    assert store.callbacks_due()[0].audit == ()
    assert store.callbacks_due(with_audit=True)[0].audit[0].action == "create"
    found = store.find(TicketQuery(callback_due=True))
    assert [t.number for t in found] == due[::-1]  # find lists newest first
    queued_only = TicketQuery(callback_due=True, caller_number="13900139000")
    assert [t.number for t in store.find(queued_only)] == [oldest.number]


def test_callback_done_is_audited(store: TicketStore) -> None:
    ticket = store.create(VOICEMAIL, NOW)
    store.transition(ticket.number, Action.ACCEPT, "agent-1", NOW)
    later = NOW + timedelta(hours=10)
    done = store.callback_done(ticket.number, later, "agent-2", note="已回电")
    assert store.get(ticket.number) == done
    assert done.callback_done_at == later and done.status is Status.ACCEPTED
    assert [e.action for e in done.audit] == ["create", "accept", CALLBACK_DONE]
    assert done.audit[-1].actor == "agent-2" and done.audit[-1].details["note"] == "已回电"
    assert store.callbacks_due() == []
    with pytest.raises(CallbackError, match="already done"):
        store.callback_done(ticket.number, later, "agent-2")
    with pytest.raises(UnknownTicket, match="no ticket GD12345-20261127-999999"):
        store.callback_done("GD12345-20261127-999999", later, "agent-2")
    plain = store.create(TicketDraft(), NOW)
    with pytest.raises(CallbackError, match="has no callback task"):
        store.callback_done(plain.number, later, "agent-2")
    assert store.get(plain.number) == plain  # a refusal changes nothing
    with store.engine.connect() as connection:
        seqs = connection.execute(
            select(AuditRow.seq)
            .join(TicketRow)
            .where(TicketRow.number == ticket.number)
            .order_by(AuditRow.id)
        ).scalars()
        assert list(seqs) == [0, 1, 2]  # appended, nothing rewritten


def test_request_callback_on_an_existing_ticket(store: TicketStore) -> None:
    ticket = store.create(TicketDraft(caller_number="13900139000", content="噪音"), NOW)
    assert store.callbacks_due() == []
    later = NOW + timedelta(minutes=3)
    asked = store.request_callback(ticket.number, "13900139000", CallbackReason.QUEUE, later)
    assert store.get(ticket.number) == asked
    assert asked.callback_reason is CallbackReason.QUEUE and asked.updated_at == later
    assert asked.audit[-1].action == REQUEST_CALLBACK and asked.audit[-1].actor == "system"
    assert [t.number for t in store.callbacks_due()] == [ticket.number]
    # Pressing 1 again books nothing new: no second audit entry.
    again = store.request_callback(ticket.number, "13900139000", "queue", later, by="hub")
    assert again == asked and len(store.get(ticket.number).audit) == 2
    with pytest.raises(CallbackError, match="not a number to call back"):
        store.request_callback(ticket.number, "anonymous", "queue", later)
    with pytest.raises(UnknownTicket):
        store.request_callback("GD12345-20261127-999999", "139", "queue", later)
    store.transition(ticket.number, Action.DISCARD, "agent-1", later, reason="误拨")
    with pytest.raises(CallbackError, match="is finished"):
        store.request_callback(ticket.number, "13900139000", "queue", later)


# -- migration 0002 --------------------------------------------------------------------


def test_migration_0002_keeps_rows_written_at_0001(url: str) -> None:
    upgrade_database(url, "0001")
    engine = make_engine(url)
    try:
        assert "callback_number" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
        old = tickets_table_before(
            lambda name: name.startswith("callback_") or name == "address_key"  # 0002, 0003
        )
        audit = Table(
            "ticket_audit",
            MetaData(),
            *(
                Column(c.name, c.type, primary_key=c.primary_key)
                for c in AuditRow.__table__.columns
            ),
        )
        number = "GD12345-20261101-000001"
        with engine.begin() as connection:
            ticket_id = connection.execute(
                old.insert()
                .values(
                    old_ticket_values(
                        old,
                        number,
                        NOW,
                        date(2026, 12, 4),
                        content="社保卡怎么补办",
                        owner="agent-1",
                    )
                )
                .returning(old.c.id)
            ).scalar_one()
            for seq, (action, before, after) in enumerate(
                [("create", None, "draft"), ("accept", "draft", "accepted")]
            ):
                connection.execute(
                    audit.insert().values(
                        ticket_id=ticket_id,
                        seq=seq,
                        at=NOW,
                        actor="agent-1",
                        action=action,
                        from_status=before,
                        to_status=after,
                        reason="",
                        details={},
                    )
                )
    finally:
        engine.dispose()

    with TicketStore(url) as store:  # opening it migrates to the newest revision
        kept = store.get(number)
        assert kept.content == "社保卡怎么补办" and kept.owner == "agent-1"
        assert (kept.callback_number, kept.callback_reason, kept.callback_done_at) == ("", "", None)
        assert [e.action for e in kept.audit] == ["create", "accept"]
        assert store.callbacks_due() == []
        asked = store.request_callback(number, "13800138000", "voicemail", NOW, by="agent-1")
        assert store.get(number) == asked and store.callbacks_due() == [
            dataclasses.replace(asked, audit=())
        ]

    # And back to 0001: the columns go, the rows and their audit trail stay.
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        columns = {c["name"] for c in inspect(engine).get_columns("tickets")}
        assert not {"callback_number", "callback_reason", "callback_done_at"} & columns
        with engine.connect() as connection:
            assert len(connection.execute(audit.select()).all()) == 3
    finally:
        engine.dispose()
