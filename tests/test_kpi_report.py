"""``hotline report kpi`` on a SQLite store seeded with tickets, 回访 tasks and the
outbox's call events: the figures by hand, the same numbers as the wallboard's
service level and as ``hotline report departments`` / ``verification`` for the
same period, and an Excel workbook whose every figure is the JSON's."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from events import messages as m
from events import topics
from events.messages import Message
from events.outbox import Outbox
from ivr.hub.queue_log import OUTCOME_EVENTS, QueueLog, entries_from_events
from tests.support.cli import hotline_in_process, refused
from tickets.lifecycle import Action
from tickets.model import Rating, Resolution, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import AnswerSource, Attempt, AttemptOutcome, TaskState

LOCAL = ZoneInfo("Asia/Shanghai")
MONDAY, TUESDAY = date(2026, 12, 7), date(2026, 12, 8)
NOW = datetime(2026, 12, 9, 9, 0, tzinfo=LOCAL)

NODE_TOML = """
[[agents]]
id = "1001"
seat_groups = ["综合"]
sip_uri = "sip:1001@192.0.2.10:5060"

[[agents]]
id = "1002"
seat_groups = ["城建"]
sip_uri = "sip:1002@192.0.2.11:5060"

[verification]
enabled = true
trunk_uri = "sip:{number}@gw.example"
"""

# (call, event, group, waited_s, local day, local time): two days of queue outcomes.
CALLS = [
    ("c1", m.CALL_CONNECTED, "综合", 5.0, MONDAY, time(9, 0, 10)),
    ("c1", m.CALL_TRANSCRIPT, "综合", None, MONDAY, time(9, 4, 10)),  # 240 s talking
    ("c2", m.CALL_CONNECTED, "综合", 20.0, MONDAY, time(9, 10)),
    ("c2", m.CALL_TRANSCRIPT, "综合", None, MONDAY, time(9, 12)),  # 120 s
    ("c3", m.CALL_ABANDONED, "综合", 35.0, MONDAY, time(10, 0)),
    ("c4", m.CALLBACK_REQUESTED, "城建", 50.0, MONDAY, time(11, 0)),
    ("c4", m.CALL_QUEUED, "城建", None, MONDAY, time(10, 59)),  # not an outcome
    ("c5", m.CALL_CONNECTED, "城建", 12.0, MONDAY, time(23, 59, 30)),
    ("c5", m.CALL_TRANSCRIPT, "城建", None, TUESDAY, time(0, 1, 30)),  # 120 s, past midnight
    ("c6", m.CALL_CONNECTED, "城建", 16.0, TUESDAY, time(0, 0)),  # local midnight: Tuesday
    ("c7", m.CALL_CONNECTED, "城建", 3.0, date(2026, 12, 10), time(8, 0)),  # after the period
]


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, LOCAL)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four tickets (one closed at once, one dispatched and closed, a repeat of it,
    one dispatched late on Tuesday), one answered 回访 and the call events."""
    root = tmp_path_factory.mktemp("kpi")
    (root / "node.toml").write_text(NODE_TOML, encoding="utf-8")
    (root / "data").mkdir()
    with TicketStore(f"sqlite:///{root / 'data' / 'tickets.db'}") as store:

        def work(draft: TicketDraft, created: datetime, steps: list[tuple[Any, ...]]) -> str:
            number = store.create(draft, created).number
            for minutes, action, actor, options in steps:
                store.transition(
                    number, action, actor, created + timedelta(minutes=minutes), **options
                )
            return number

        work(
            TicketDraft(caller_number="13500000001", summary="社保卡补办要带什么材料"),
            at(MONDAY, time(9, 0)),
            [(2, Action.ACCEPT, "1001", {}), (5, Action.CLOSE_AT_ONCE, "1001", {"note": "已告知"})],
        )
        lamp = TicketDraft(
            caller_number="13800138000",
            address="天河区青山路",
            category_path="城乡建设/市政设施/路灯",
            summary="青山路路灯不亮",
            content="青山路的路灯坏了一个月，晚上很黑",
        )
        closed = work(
            lamp,
            at(MONDAY, time(9, 10)),
            [
                (2, Action.ACCEPT, "1001", {}),
                (20, Action.DISPATCH, "1001", {"department": "city.urban_management"}),
                (50, Action.SIGN, "um-1", {}),  # half an hour after dispatch: on time
                (60, Action.START, "um-1", {}),
                (90, Action.REPLY, "um-1", {"note": "已修复"}),
                (100, Action.APPROVE_REPLY, "um-2", {}),
                (110, Action.CLOSE, "1001", {}),
            ],
        )
        repeat = store.intake(lamp, at(MONDAY, time(15, 0))).ticket  # linked to it at once
        assert repeat.linked_to == closed
        work(
            TicketDraft(
                caller_number="13900000009",
                address="天河区锦绣花园小区",
                category_path="城乡建设/供水/停水",
                summary="锦绣花园小区停水",
            ),
            at(TUESDAY, time(9, 0)),
            [
                (5, Action.ACCEPT, "1002", {}),
                (30, Action.DISPATCH, "1002", {"department": "city.water"}),
                (360, Action.SIGN, "w-1", {}),  # 15:30: past the two working hours
            ],
        )
        outbox = Outbox(store.engine)
        for call_id, kind, group, waited, day, clock in CALLS:
            data: dict[str, object] = {"call_id": call_id, "group": group}
            if waited is not None:
                data["waited_s"] = waited
            if kind == m.CALL_TRANSCRIPT:
                data = {"call_id": call_id, "seat_group": group, "ticket": ""}
            outbox.clock = lambda moment=at(day, clock): moment
            outbox.add(topics.call_event(call_id, kind), Message(kind, data, node="node1"))
    result = hotline(
        root, "verification", "call", closed, "--now", at(MONDAY, time(14)).isoformat()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with TicketStore(f"sqlite:///{root / 'data' / 'tickets.db'}") as store:
        tasks = VerificationStore(store)
        [task] = tasks.for_ticket(closed)
        attempt = Attempt(task.created_at, AttemptOutcome.COMPLETED, "s1", "system", "")
        tasks.save(
            dataclasses.replace(
                task,
                seat_group="综合",
                state=TaskState.DONE,
                attempts=(attempt,),
                resolution=Resolution.SOLVED,
                rating=Rating.SATISFIED,
                rating_source=AnswerSource.KEY,
                resolution_source=AnswerSource.KEY,
            )
        )
    return root


def hotline(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return hotline_in_process(
        *args, "-c", str(root / "node.toml"), "--data-dir", str(root / "data"),
        env={"COLUMNS": "250"},
    )  # fmt: skip


def kpi(root: Path, *args: str, first: date = MONDAY, last: date = TUESDAY) -> dict[str, Any]:
    period = ("--from", first.isoformat(), "--to", last.isoformat(), "--now", NOW.isoformat())
    result = hotline(root, "report", "kpi", *period, "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_the_figures_by_hand(node: Path) -> None:
    report = kpi(node)
    assert (report["from"], report["to"], report["by"]) == ("2026-12-07", "2026-12-08", "day")
    total = report["total"]
    assert (total["offered"], total["answered"], total["answered_within"]) == (6, 4, 2)
    assert total["answer_rate"] == 0.6667 and total["service_level"] == 0.3333
    assert total["average_wait_s"] == 13.2  # (5 + 20 + 12 + 16) / 4
    assert total["p90_wait_s"] == 20.0
    assert total["average_handling_s"] == 160.0  # (240 + 120 + 120) / 3: c6's end not known
    assert (total["tickets"], total["accepted"], total["closed_at_once"]) == (4, 3, 1)
    assert total["first_contact_rate"] == 0.3333 and total["repeat_rate"] == 0.25
    assert (total["dispatched"], total["signed_on_time"], total["replied"]) == (2, 1, 1)
    assert total["signed_on_time_rate"] == 0.5 and total["closed_on_time_rate"] == 1.0
    assert total["verification_rate"] == 1.0 and total["satisfaction_rate"] == 1.0
    monday, tuesday = report["periods"]
    assert (monday["offered"], monday["service_level"], monday["tickets"]) == (5, 0.4, 3)
    assert (tuesday["offered"], tuesday["service_level"], tuesday["tickets"]) == (1, 0.0, 1)
    assert tuesday["signed_on_time_rate"] == 0.0 and tuesday["average_handling_s"] is None
    groups = {g["group"]: g for g in report["seat_groups"]}
    assert groups["综合"]["offered"] == 3 and groups["综合"]["abandon_rate"] == 0.3333
    assert groups["综合"]["tickets"] == 2 and groups["综合"]["verification_rate"] == 1.0
    assert groups["城建"]["offered"] == 3 and groups["城建"]["tickets"] == 1
    assert report["categories"][0] == {
        "category": "城乡建设/市政设施/路灯",
        "tickets": 2,
        "share": 0.5,
    }
    assert report["places"][0] == {"place": "青山路", "tickets": 2, "share": 0.5}
    assert report["filters"] == {"group": None, "department": None, "category": None}
    assert report["calls_from"].startswith("2026-12-07T01:00:10")  # the oldest event, in UTC


def test_filters_by_seat_group_department_and_category(node: Path) -> None:
    general = kpi(node, "--group", "综合")["total"]
    assert (general["offered"], general["tickets"], general["dispatched"]) == (3, 2, 1)
    water = kpi(node, "--department", "city.water")
    assert water["filters"]["department"] == "广州市水务局"
    assert water["total"]["offered"] == 0 and water["total"]["answer_rate"] is None
    assert (water["total"]["tickets"], water["total"]["dispatched"]) == (1, 1)
    assert [d["department"] for d in water["departments"]] == ["广州市水务局"]
    lamps = kpi(node, "--category", "城乡建设/市政设施")["total"]
    assert (lamps["tickets"], lamps["repeats"], lamps["verification_due"]) == (2, 1, 1)


def test_weeks_and_months(node: Path) -> None:
    weeks = kpi(node, "--by", "week", first=date(2026, 11, 30), last=date(2026, 12, 13))
    assert [(p["period"], p["offered"]) for p in weeks["periods"]] == [
        ("2026-W49", 0),
        ("2026-W50", 7),  # c7 on Thursday too
    ]
    months = kpi(node, "--by", "month", first=date(2026, 11, 1), last=date(2026, 12, 31))
    assert [(p["period"], p["tickets"]) for p in months["periods"]] == [
        ("2026-11", 0),
        ("2026-12", 4),
    ]


def test_the_service_level_is_the_wallboards_for_the_same_calls(node: Path) -> None:
    with TicketStore(f"sqlite:///{node / 'data' / 'tickets.db'}") as store:
        rows = Outbox(store.engine).since(at(MONDAY, time()), OUTCOME_EVENTS)
    for day in (MONDAY, TUESDAY):
        midnight, end = at(day, time()), at(day + timedelta(days=1), time())
        log = QueueLog()  # what the wallboard shows for "today" at the day's last moment
        log.restore(
            entries_from_events((r.created_at, r.message) for r in rows if r.created_at < end)
        )
        for group in ("综合", "城建"):
            wallboard = log.summary(group, midnight)
            row = kpi(node, "--group", group, first=day, last=day)["total"]
            assert wallboard.offered == row["offered"] and wallboard.answered == row["answered"]
            assert wallboard.service_level == row["service_level"]
            assert wallboard.abandon_rate == row["abandon_rate"]
            assert wallboard.asa_s == row["average_wait_s"]
    assert kpi(node, "--group", "城建", first=TUESDAY, last=TUESDAY)["total"]["offered"] == 1


def test_departments_and_verification_agree_with_their_reports(node: Path) -> None:
    report = kpi(node)
    period = ("--from", "2026-12-07", "--to", "2026-12-08", "--now", NOW.isoformat(), "--json")
    departments = hotline(node, "report", "departments", *period)
    verification = hotline(node, "report", "verification", *period)
    assert departments.returncode == verification.returncode == 0
    ours = {d["department"]: d for d in report["departments"]}
    listed = json.loads(departments.stdout)["departments"]
    assert len(listed) == 2
    for theirs in listed:
        row = ours[theirs["name"]]
        assert row["dispatched"] == theirs["dispatched"]
        assert row["signed_on_time_rate"] == theirs["signed_on_time_rate"]
        assert row["closed_on_time_rate"] == theirs["closed_on_time_rate"]
    answered = json.loads(verification.stdout)
    assert report["total"]["verification_due"] == answered["total"]["due"] == 1
    assert report["total"]["verification_rate"] == answered["total"]["verification_rate"]
    assert report["total"]["satisfaction_rate"] == answered["total"]["satisfaction_rate"]
    for name, theirs in answered["departments"].items():
        assert ours[name]["verification_rate"] == theirs["verification_rate"]
        assert ours[name]["satisfaction_rate"] == theirs["satisfaction_rate"]


def _cell(value: object) -> object:
    return value.date().isoformat() if isinstance(value, datetime) else value


def test_the_workbook_holds_the_jsons_figures(node: Path, tmp_path: Path) -> None:
    target = tmp_path / "kpi.xlsx"
    report = kpi(node, "--xlsx", str(target))
    book = load_workbook(target)
    assert book.sheetnames == ["总览", "按日", "坐席组", "承办单位", "类别", "地点"]
    from analytics.kpi import ALL_PARTS, COLUMNS, DEPARTMENT_PARTS, GROUP_PARTS, Kind

    def columns(parts: tuple[str, ...]) -> list[tuple[str, str, Kind]]:
        return [c for part in parts for c in COLUMNS[part]]

    overview = {r[0].value: r[1] for r in book["总览"].iter_rows(min_row=2)}
    assert _cell(overview["起始日期"].value) == "2026-12-07"
    for key, label, kind in columns(ALL_PARTS):
        assert overview[label].value == report["total"][key], label
        if kind is Kind.RATE:
            assert overview[label].number_format == "0.0%"
    assert isinstance(overview["接通率"].value, float)

    def rows(title: str) -> tuple[list[str], list[list[Any]]]:
        sheet = book[title]
        assert sheet.freeze_panes == "A2"
        found = [[c.value for c in r] for r in sheet.iter_rows()]
        return found[0], [[_cell(v) for v in r] for r in found[1:]]

    heads, days = rows("按日")
    assert heads[:3] == ["时段", "起", "止"] and "15秒接通率" in heads
    every = columns(ALL_PARTS)
    assert days == [
        [p["period"], p["from"], p["to"], *(p[k] for k, _, _ in every)] for p in report["periods"]
    ]
    rate_column = heads.index("接通率") + 1
    assert book["按日"].cell(2, rate_column).number_format == "0.0%"
    assert book["按日"].column_dimensions["A"].width >= len("2026-12-07")
    for title, key, parts, listed in (
        ("坐席组", "group", GROUP_PARTS, report["seat_groups"]),
        ("承办单位", "department", DEPARTMENT_PARTS, report["departments"]),
    ):
        heads, found = rows(title)
        assert heads == [title, *(label for _, label, _ in columns(parts))]
        assert found == [[r[key], *(r[k] for k, _, _ in columns(parts))] for r in listed]
    for title, key, listed in (
        ("类别", "category", report["categories"]),
        ("地点", "place", report["places"]),
    ):
        heads, found = rows(title)
        assert heads == [title, "工单", "占比"]
        assert found == [[r[key], r["tickets"], r["share"]] for r in listed]
        assert found  # the seeded tickets have categories and places


def test_the_terminal_tables_are_in_chinese(node: Path) -> None:
    result = hotline(
        node,
        "report",
        "kpi",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-08",
        "--now",
        NOW.isoformat(),
    )
    assert result.returncode == 0, result.stderr
    for words in ("考核指标", "接通率", "15秒接通率", "一次办结率", "坐席组", "承办单位", "青山路"):
        assert words in result.stdout, words
    assert "66.7%" in result.stdout  # 接通率 over the two days


def test_refusals_say_what_to_give(node: Path, tmp_path: Path) -> None:
    refused(hotline(node, "report", "kpi", "--by", "year"), "--by year", "day, week or month")
    refused(hotline(node, "report", "kpi", "--from", "12/07"), "--from", "YYYY-MM-DD")
    refused(
        hotline(node, "report", "kpi", "--from", "2026-12-09", "--to", "2026-12-01"), "is before"
    )
    refused(hotline(node, "report", "kpi", "--department", "城市之光局"), "no department")
    refused(
        hotline(node, "report", "kpi", "--from", "2000-01-01", "--to", "2026-12-01"),
        "at most 3660 days",
    )
    missing = tmp_path / "nowhere" / "kpi.xlsx"
    refused(hotline(node, "report", "kpi", "--xlsx", str(missing)), "--xlsx", "nowhere")
