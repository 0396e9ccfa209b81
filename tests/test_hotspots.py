"""热点问题 found across requests: places as keys, titles, heat and growth, and the
grouping measured on six hand-labelled hotspots (with two decoys: another
problem at one of their places, one of their problems at another place) hidden
among 2,291 real citizens' messages."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from analytics.hotspot_evaluation import match_known
from analytics.hotspots import Hotspot, find_hotspots, growth_rate, heat_index
from analytics.message_rows import requests_from_rows
from analytics.places import place_key, places_in, same_place
from analytics.requests import Request
from analytics.titles import hotspot_title
from tests.support.domain_model import classify

HERE = Path(__file__).resolve().parent
KNOWN = HERE / "data" / "hotspot_messages.csv"
SHARED = HERE.parent.parent / "shared" / "data" / "hotline"


def read(path: Path, prefix: str = "") -> list[Request]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [dict(row, msg_id=prefix + row.get("msg_id", "")) for row in reader]
        return requests_from_rows(reader.fieldnames or [], rows)


def known_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    with KNOWN.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["hotspot"]:
                groups[row["hotspot"]].append(row["id"])
    return dict(groups)


@pytest.fixture(scope="module")
def among_real_messages() -> list[Hotspot]:
    """The labelled messages among the real ones, no category given to any."""
    background = read(SHARED / "tipdm2020_replies_dev.csv") + read(
        SHARED / "tipdm2020_messages_dev.csv", "dev-"
    )
    requests = [Request(r.id, r.at, r.title, r.text) for r in background] + read(KNOWN)
    return find_hotspots(requests, classify=classify())


# ---- places -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "specific", "areas"),
    [
        ("A市A2区丽发新城小区附近搅拌站噪音扰民", ("丽发新城",), ("A市", "A2区")),
        ("投诉A7县星沙204路公交车甩客", ("星沙204路",), ("A7县",)),
        ("强烈建议A4区清水塘北辰小学增加中餐", ("清水塘北辰小学",), ("A4区",)),
        ("金桂园小区旁工地夜间施工噪音扰民", ("金桂园",), ()),
        ("天河区体育西路1号公交站牌损坏", ("体育西路",), ("天河区",)),
        ("咨询A市务工人员租房落户政策", (), ("A市",)),
    ],
)
def test_a_message_names_its_places_as_keys(
    title: str, specific: tuple[str, ...], areas: tuple[str, ...]
) -> None:
    found = places_in(title)
    assert found.specific[: len(specific)] == specific
    assert set(areas) <= set(found.areas)


def test_the_kind_of_place_and_leading_words_are_no_part_of_its_key() -> None:
    assert place_key("关于丽发新城小区") == place_key("丽发新城") == "丽发新城"
    assert place_key("公路") == "" and place_key("人民政府") == ""  # too generic to tell apart
    assert same_place(places_in("丽发新城二期停车难"), places_in("丽发新城噪音"))
    assert not same_place(places_in("金桂园小区电梯故障"), places_in("翠湖花园电梯故障"))


def test_a_ticket_address_names_its_place_when_the_summary_does_not() -> None:
    found = places_in("路灯不亮", "晚上很黑", hint="天河区锦绣花园")
    assert found.specific == ("锦绣花园",) and found.areas == ("天河区",)


# ---- titles, heat, growth ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "place", "expected"),
    [
        ("A市A2区丽发新城小区附近搅拌站噪音扰民", "丽发新城", "丽发新城小区附近搅拌站噪音扰民"),
        ("投诉A7县星沙204路公交车甩客！", "星沙204路", "星沙204路公交车甩客"),
        ("关于C4市东山路停车位问题的反映", "东山路", "东山路停车位"),
        ("请求处理鑫达驾校退学费问题", "鑫达驾校", "鑫达驾校退学费"),
        ("半夜施工噪音让居民无法入睡", "金桂园", "金桂园半夜施工噪音让居民无法入睡"),
    ],
)
def test_a_title_is_place_and_problem(title: str, place: str, expected: str) -> None:
    assert hotspot_title(title, place) == expected


def test_heat_grows_with_people_requests_votes_and_growth() -> None:
    base = heat_index(people=5, requests=6, likes=0, dislikes=0, growth=None)
    assert heat_index(6, 6, 0, 0, None) > base  # one more person
    assert heat_index(5, 7, 0, 0, None) > base  # one more request
    assert heat_index(5, 6, 40, 0, None) > heat_index(5, 6, 0, 40, None) > base  # 反对 count half
    assert heat_index(5, 6, 0, 0, 1.0) > base  # growing
    assert heat_index(5, 6, 0, 0, -0.5) == base  # shrinking costs nothing
    assert heat_index(5, 6, 0, 0, 50.0) == heat_index(5, 6, 0, 0, 2.0)  # growth capped


def test_growth_compares_the_last_seven_days_with_the_seven_before() -> None:
    now = datetime(2026, 12, 4, 12, 0)
    times = [now - timedelta(days=d) for d in (1, 2, 3, 4, 8, 9)]
    assert growth_rate(times, now) == 1.0  # 4 against 2
    assert growth_rate([now - timedelta(days=1)], now) is None  # nothing before: no rate


# ---- grouping --------------------------------------------------------------------------


def test_every_known_hotspot_is_found_in_the_top_ten(among_real_messages: list[Hotspot]) -> None:
    matches = match_known(among_real_messages[:10], known_groups())
    missed = [m for m in matches if m.rank is None]
    assert not missed, matches
    # most of each one is together, and little else is with it
    assert sum(m.recall for m in matches) / len(matches) >= 0.8, matches
    assert min(m.precision for m in matches) >= 0.75, matches


def test_another_problem_at_the_same_place_is_a_hotspot_of_its_own(
    among_real_messages: list[Hotspot],
) -> None:
    def holding(message: str) -> Hotspot:
        return next(h for h in among_real_messages if message in h.ids)

    lift, noise, elsewhere = holding("D1-1"), holding("H1-1"), holding("D2-1")
    assert lift is not noise and elsewhere is not noise
    assert "D1-2" in lift.ids and "D2-2" in elsewhere.ids
    assert noise.place == "金桂园" and "噪音" in noise.title


def test_people_are_counted_once_however_often_they_asked(
    among_real_messages: list[Hotspot],
) -> None:
    noise = next(h for h in among_real_messages if "H1-1" in h.ids)
    assert "H1-4" in noise.ids  # U1001 again
    assert noise.people == noise.requests - 1


def test_copies_of_one_text_count_as_one_person() -> None:
    at = datetime(2026, 11, 1, 9, 0)
    text = "锦绣花园小区门口的路灯坏了一个月，晚上出行很不方便，请尽快维修。"
    requests = [
        Request(f"r{k}", at + timedelta(hours=k), "锦绣花园小区门口路灯坏了", text)
        for k in range(3)
    ] + [
        Request("r9", at, "锦绣花园小区路灯不亮", "路灯不亮好几天了，小区里黑漆漆的。", person="P1")
    ]
    [hotspot] = find_hotspots(requests, classify=classify())
    assert hotspot.requests == 4 and hotspot.people == 2
    assert hotspot.place == "锦绣花园"
    assert hotspot.start == at and hotspot.end == at + timedelta(hours=2)


def test_requests_years_apart_are_not_one_hotspot() -> None:
    at = datetime(2019, 6, 1, 9, 0)
    one = Request("a", at, "青山路地下通道积水严重", "一下雨就积水，行人无法通行。")
    two = Request("b", at + timedelta(days=3), "青山路地下通道又积水了", "排水太差，请改造。")
    later = Request("c", at + timedelta(days=900), "青山路地下通道积水", "又积水了。")
    [hotspot] = find_hotspots([one, two, later])
    assert hotspot.ids == ("a", "b")


def test_no_requests_no_hotspots_and_one_request_is_not_a_hotspot() -> None:
    assert find_hotspots([]) == []
    assert find_hotspots([Request("a", datetime(2026, 1, 1), "路灯坏了", "")]) == []


def test_the_json_of_a_hotspot_has_what_the_cli_promises(
    among_real_messages: list[Hotspot],
) -> None:
    top = among_real_messages[0].as_json()
    assert {"rank", "title", "place", "start", "end", "heat", "requests", "people", "ids"} <= set(
        top
    )
    assert top["rank"] == 1 and len(top["ids"]) == top["requests"]
    assert sum(day["requests"] for day in top["trend"]) == top["requests"]
    heats = [h.heat for h in among_real_messages]
    assert heats == sorted(heats, reverse=True)
