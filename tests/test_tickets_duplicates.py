"""tickets.duplicates: repeated requests (重复诉求) are found, unrelated ones are not."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.duplicates import (
    DuplicateRules,
    find_duplicate,
    normalise_address,
    normalise_text,
    similarity,
)
from tickets.model import Status, Ticket, TicketDraft

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NOISE = "我家楼下的工地每天晚上十一点以后还在施工，噪音很大，吵得孩子睡不着觉"
NOISE_AGAIN = "喂，你好，楼下那个工地晚上十一点以后还在施工，噪音太大了，孩子都睡不着"
WAGES = "我在工厂上班，老板拖欠了三个月的工资一直不发"


def ticket(
    seq: int,
    content: str,
    *,
    caller: str = "13800138000",
    address: str = "广州市天河区体育西路1号",
    ago: timedelta = timedelta(0),
    status: Status = Status.HANDLING,
    category: str = "",
) -> Ticket:
    draft = TicketDraft(
        caller_number=caller, address=address, content=content, category_code=category
    )
    made = Ticket.from_draft(draft, f"GD12345-20261128-{seq:06d}", NOW - ago, date(2026, 12, 18))
    return dataclasses.replace(made, status=status)


def test_similarity() -> None:
    assert similarity(NOISE, NOISE) == pytest.approx(1.0)
    assert similarity(NOISE, NOISE_AGAIN) >= 0.5
    assert similarity(NOISE, "楼上邻居半夜装修噪音很大") < 0.25  # same theme, another matter
    assert similarity(NOISE, WAGES) < 0.1
    assert similarity("", NOISE) == 0.0
    assert normalise_text("喂，嗯 ABC１２３！") == "abc123"
    assert normalise_address("天河区 体育西路１号。") == normalise_address("天河区体育西路1号")


def test_same_address_and_similar_content() -> None:
    earlier = ticket(1, NOISE, caller="13900000001", ago=timedelta(days=2))
    new = ticket(2, NOISE_AGAIN, caller="13700000002", address="广州市天河区 体育西路1号")
    match = find_duplicate(new, [earlier])
    assert match is not None and match.number == earlier.number
    assert match.reason == "same address and similar content" and match.similarity >= 0.4


def test_same_address_different_content_is_new() -> None:
    earlier = ticket(1, NOISE, caller="13900000001", ago=timedelta(days=1))
    new = ticket(2, WAGES, caller="13700000002")
    assert find_duplicate(new, [earlier]) is None


def test_similar_content_at_another_address_is_new() -> None:
    earlier = ticket(1, NOISE, caller="13900000001", address="越秀区中山五路3号")
    assert find_duplicate(ticket(2, NOISE_AGAIN, caller="13700000002"), [earlier]) is None


def test_same_caller() -> None:
    earlier = ticket(1, NOISE, ago=timedelta(days=6), address="")
    # same caller, similar words, no address given
    match = find_duplicate(ticket(2, "工地晚上施工噪音大", address=""), [earlier])
    assert match is not None and match.reason == "same caller and similar content"
    # same caller, same address, different words
    at_home = ticket(3, NOISE)
    match = find_duplicate(ticket(4, "又来了，还是那个问题"), [at_home])
    assert match is not None and match.reason == "same caller and address"
    # same caller, same category code
    cat = ticket(5, NOISE, address="", category="HB01")
    match = find_duplicate(ticket(6, "吵", address="", category="HB01"), [cat])
    assert match is not None and match.reason == "same caller and category"


def test_same_caller_with_another_matter_is_new() -> None:
    earlier = ticket(1, NOISE, address="")
    assert find_duplicate(ticket(2, WAGES, address="白云区某工厂"), [earlier]) is None
    everything = DuplicateRules(caller_similarity=0)
    assert find_duplicate(ticket(2, WAGES, address="白云区某工厂"), [earlier], everything)


def test_anonymous_callers_are_not_one_caller() -> None:
    earlier = ticket(1, NOISE, caller="anonymous", address="")
    new = ticket(2, "工地晚上施工噪音大", caller="anonymous", address="")
    assert find_duplicate(new, [earlier]) is None


@pytest.mark.parametrize(("days", "found"), [(6.9, True), (7.1, False)])
def test_window(days: float, found: bool) -> None:
    earlier = ticket(1, NOISE, ago=timedelta(days=days))
    assert (find_duplicate(ticket(2, NOISE_AGAIN), [earlier]) is not None) is found
    narrow = DuplicateRules(window=timedelta(days=1))
    assert find_duplicate(ticket(2, NOISE_AGAIN), [earlier], narrow) is None


def test_closed_recent_tickets_count_but_discarded_and_later_do_not() -> None:
    closed = ticket(1, NOISE, status=Status.CLOSED, ago=timedelta(days=3))
    assert find_duplicate(ticket(2, NOISE_AGAIN), [closed]) is not None
    discarded = ticket(3, NOISE, status=Status.DISCARDED, ago=timedelta(days=1))
    later = ticket(4, NOISE, ago=-timedelta(hours=1))
    new = ticket(2, NOISE_AGAIN)
    assert find_duplicate(new, [discarded, later, new]) is None


def test_best_match_and_chains_link_to_the_first() -> None:
    first = ticket(1, NOISE, ago=timedelta(days=3))
    repeat = dataclasses.replace(
        ticket(2, NOISE_AGAIN, ago=timedelta(days=1)), status=Status.LINKED, linked_to=first.number
    )
    weaker = ticket(3, "工地有噪音", caller="13900000009", ago=timedelta(days=2))
    match = find_duplicate(ticket(4, NOISE_AGAIN, caller="13600000000"), [first, weaker, repeat])
    assert match is not None and match.earlier.number == repeat.number
    assert match.number == first.number
