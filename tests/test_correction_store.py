"""tickets.examples against SQLite and a real PostgreSQL: the migration that adds the
corrections, a correction written with its ticket change or not at all, the model's
labels kept from the first correction, and the examples ``hotline nlu train
--from-tickets`` gets (``since``, corrected vs accepted, the newest label)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from tickets.examples import (
    ACCEPTED,
    CORRECTED,
    Labels,
    correction_rates,
    corrections,
    labelled_examples,
    save_corrected,
    ticket_text,
)
from tickets.lifecycle import Action, transition
from tickets.model import RequestType, Status, Ticket, TicketDraft
from tickets.store import (
    MIGRATIONS,
    VERSION_TABLE,
    Base,
    ConcurrentChange,
    TicketStore,
    make_engine,
    upgrade_database,
)

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Guangzhou

LAMP = TicketDraft(
    caller_number="13800138000",
    request_type=RequestType.CONSULTATION,
    domain="交通运输",
    category_code="JT01",
    lead_department="交通运输局",
    content="我们小区门口的路灯坏了一个星期",
    transcript="喂，我们小区门口的路灯坏了一个星期",
    call_id="c-1",
)


@pytest.fixture
def store(url: str) -> Iterator[TicketStore]:
    with TicketStore(url) as opened:
        yield opened


def corrected(ticket: Ticket, **labels: str) -> Ticket:
    values = {k: RequestType(v) if k == "request_type" else v for k, v in labels.items()}
    return dataclasses.replace(ticket, **values)


def downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_migration_adds_the_corrections_and_matches_the_models(url: str) -> None:
    upgrade_database(url, "0003")
    engine = make_engine(url)
    try:
        assert "ticket_examples" not in inspect(engine).get_table_names()
        upgrade_database(url)
        assert "ticket_examples" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == "0006"
            assert compare_metadata(context, Base.metadata) == []
        downgrade(engine, "0003")
        assert "ticket_examples" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_correction_is_stored_with_the_ticket_and_keeps_the_models_labels(
    store: TicketStore,
) -> None:
    ticket = store.create(LAMP, NOW)
    first = corrected(ticket, request_type="投诉", domain="城乡建设", category_code="CX05")
    save_corrected(store, ticket, first, "1002", NOW + timedelta(minutes=1))
    assert store.get(ticket.number).domain == "城乡建设"
    second = corrected(store.get(ticket.number), lead_department="城市管理和综合执法局")
    save_corrected(store, store.get(ticket.number), second, "1003", NOW + timedelta(minutes=2))
    made = corrections(store, ticket.number)
    assert [c.agent for c in made] == ["1002", "1003"]
    model = Labels("咨询", "交通运输", "JT01", "交通运输局")
    assert all(c.predicted == model for c in made), "the model's labels stay the predicted"
    assert made[0].changed == ("request_type", "domain", "category_code")
    assert made[1].labels == Labels("投诉", "城乡建设", "CX05", "城市管理和综合执法局")
    assert made[1].changed == LABELS_ALL
    assert made[0].text == "我们小区门口的路灯坏了一个星期"
    assert made[0].at == NOW + timedelta(minutes=1) and made[0].ticket == ticket.number


LABELS_ALL = ("request_type", "domain", "category_code", "department")


def test_no_correction_is_stored_when_the_labels_are_unchanged(store: TicketStore) -> None:
    ticket = store.create(LAMP, NOW)
    save_corrected(
        store, ticket, dataclasses.replace(ticket, address="天河区幸福小区"), "1002", NOW
    )
    accepted = transition(store.get(ticket.number), Action.ACCEPT, "1002", NOW)
    save_corrected(store, store.get(ticket.number), accepted, "1002", NOW)
    assert corrections(store) == []
    assert store.get(ticket.number).address == "天河区幸福小区"


def test_a_failed_write_leaves_neither_the_change_nor_the_correction(
    store: TicketStore,
) -> None:
    ticket = store.create(LAMP, NOW)
    mine = transition(corrected(ticket, domain="城乡建设"), Action.ACCEPT, "1002", NOW)
    theirs = transition(ticket, Action.LINK, "system", NOW, linked_to="GD12345-20261120-000001")
    store.save(theirs)
    with pytest.raises(ConcurrentChange):
        save_corrected(store, ticket, mine, "1002", NOW)
    assert corrections(store) == []

    other = store.create(LAMP, NOW)

    def crash(*_: object) -> None:
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        store.save(corrected(other, domain="城乡建设"), also=crash)
    assert store.get(other.number).domain == "交通运输", "the ticket change rolled back too"


def close_at_once(store: TicketStore, ticket: Ticket, at: datetime) -> Ticket:
    accepted = transition(ticket, Action.ACCEPT, "1002", at)
    return store.save(transition(accepted, Action.CLOSE_AT_ONCE, "1002", at, note="已告知"))


def test_labelled_examples_are_corrections_and_tickets_closed_as_labelled(
    store: TicketStore,
) -> None:
    fixed = store.create(LAMP, NOW)
    save_corrected(store, fixed, corrected(fixed, domain="城乡建设"), "1002", NOW)
    later = store.get(fixed.number)
    save_corrected(
        store, later, corrected(later, domain="市场监管"), "1003", NOW + timedelta(hours=2)
    )
    confirmed = close_at_once(store, store.create(LAMP, NOW), NOW + timedelta(hours=1))
    store.create(LAMP, NOW)  # still a draft: confirms nothing
    silent = store.create(dataclasses.replace(LAMP, content="", transcript="坐席：您好"), NOW)
    save_corrected(store, silent, corrected(silent, domain="城乡建设"), "1002", NOW)
    thrown = store.create(LAMP, NOW)
    save_corrected(store, thrown, corrected(thrown, domain="城乡建设"), "1002", NOW)
    store.transition(thrown.number, Action.DISCARD, "1002", NOW, reason="无效来电")

    found = labelled_examples(store, None)
    by_ticket = {e.ticket: e for e in found}
    assert set(by_ticket) == {fixed.number, confirmed.number}, "one per ticket, texts not empty"
    newest = by_ticket[fixed.number]
    assert (newest.source, newest.domain, newest.agent) == (CORRECTED, "市场监管", "1003")
    assert newest.at == NOW + timedelta(hours=2)
    kept = by_ticket[confirmed.number]
    assert (kept.source, kept.domain, kept.request_type) == (ACCEPTED, "交通运输", "咨询")
    assert kept.at == NOW + timedelta(hours=1) and kept.text == LAMP.content
    assert [e.at for e in found] == sorted(e.at for e in found)

    recent = labelled_examples(store, NOW + timedelta(minutes=90))
    assert [(e.ticket, e.source) for e in recent] == [(fixed.number, CORRECTED)]
    assert labelled_examples(store, NOW + timedelta(days=1)) == []
    assert store.get(thrown.number).status is Status.DISCARDED


def test_the_text_is_what_the_citizen_said() -> None:
    assert ticket_text("  路灯坏了 ", "市民：喂") == "路灯坏了"
    assert ticket_text("", "市民：喂，路灯坏了\n坐席：好的\n市民：在东门") == "喂，路灯坏了，在东门"
    assert ticket_text("", "坐席：您好") == ""


def test_correction_rates_per_domain_the_model_gave(store: TicketStore) -> None:
    for n in range(4):
        ticket = store.create(dataclasses.replace(LAMP, call_id=f"c-{n}"), NOW)
        if n < 2:
            save_corrected(store, ticket, corrected(ticket, domain="城乡建设"), "1002", NOW)
    water = store.create(dataclasses.replace(LAMP, domain="水务", call_id="c-9"), NOW)
    save_corrected(store, water, corrected(water, request_type="投诉"), "1002", NOW)
    back = store.get(water.number)
    save_corrected(store, back, corrected(back, request_type="咨询"), "1002", NOW)  # undone
    store.create(dataclasses.replace(LAMP, call_id=""), NOW)  # a web form: not a call
    store.create(dataclasses.replace(LAMP, domain="", call_id="c-8"), NOW)  # nothing understood
    store.create(dataclasses.replace(LAMP, call_id="c-old"), NOW - timedelta(days=8))

    rates = {d.domain: d for d in correction_rates(store, NOW - timedelta(days=7))}
    assert set(rates) == {"交通运输", "水务"}
    traffic = rates["交通运输"]
    assert (traffic.understood, traffic.corrected, traffic.rate) == (4, 2, 0.5)
    (change,) = traffic.changes
    assert (change.label, change.predicted, change.corrected, change.count) == (
        "domain",
        "交通运输",
        "城乡建设",
        2,
    )
    assert (rates["水务"].understood, rates["水务"].corrected, rates["水务"].changes) == (1, 0, ())
    assert [d.domain for d in correction_rates(store, NOW - timedelta(days=7))][0] == "交通运输"
    assert correction_rates(store, NOW + timedelta(hours=1)) == []
