"""`hotline tickets list|show|transition` (in process) against a temporary SQLite store."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.support.cli import hotline_in_process, refused
from tests.support.nodes import HOTLINE
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore


def hotline(url: str, *args: str, columns: int = 240) -> subprocess.CompletedProcess[str]:
    env = {"HOTLINE_TICKETS__DATABASE_URL": url, "COLUMNS": str(columns)}
    return hotline_in_process("tickets", *args, env=env)


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, list[str]]:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    now = datetime.now(UTC)
    with TicketStore(url) as store:
        noise = store.create(
            TicketDraft(
                caller_number="13800138000",
                request_type=RequestType.COMPLAINT,
                domain="环境保护",
                address="天河区体育西路1号",
                content="工地夜间施工噪音",
            ),
            now - timedelta(days=60),
        )
        store.transition(noise.number, "accept", "agent-1", now - timedelta(days=60))
        store.transition(
            noise.number, "dispatch", "agent-1", now - timedelta(days=60), department="生态环境局"
        )
        question = store.create(
            TicketDraft(caller_number="13900139000", request_type=RequestType.CONSULTATION),
            now,
        )
    return url, [noise.number, question.number]


def test_list(seeded: tuple[str, list[str]]) -> None:
    url, (noise, question) = seeded
    table = hotline(url, "list")
    assert table.returncode == 0, table.stderr
    assert noise in table.stdout and question in table.stdout and "2 ticket(s)" in table.stdout
    assert "超期" in table.stdout
    assert "overdue" in hotline(url, "list", "--wide").stdout
    rows = json.loads(hotline(url, "list", "--json").stdout)
    assert [r["number"] for r in rows] == [question, noise]
    assert rows[1]["status"] == "dispatched" and rows[1]["lead_department"] == "生态环境局"

    def listed(*filters: str) -> list[str]:
        result = hotline(url, "list", "--json", *filters)
        assert result.returncode == 0, result.stderr
        return [r["number"] for r in json.loads(result.stdout)]

    assert listed("--status", "派单") == [noise]
    assert listed("--status", "draft") == [question]
    assert listed("--domain", "环境保护") == [noise]
    assert listed("--type", "咨询") == [question]
    assert listed("--caller", "13800138000") == [noise]
    assert listed("--overdue") == [noise]
    today = datetime.now(UTC).date()
    assert listed("--since", str(today - timedelta(days=1))) == [question]
    assert listed("--until", str(today - timedelta(days=1))) == [noise]


@pytest.fixture
def crowded(seeded: tuple[str, list[str]]) -> tuple[str, list[str]]:
    """The seeded tickets and two whose fields are long: a landline, a Chinese domain
    and summary longer than any column, a confidential caller."""
    url, numbers = seeded
    now = datetime.now(UTC)
    with TicketStore(url) as store:
        long = store.create(
            TicketDraft(
                caller_number="020-87654321",
                request_type=RequestType.HELP,
                domain="城乡建设管理与规划",
                summary="小区门口路灯坏了三个多月，晚上漆黑一片，老人小孩出行很不安全 [请尽快]",
            ),
            now,
        )
        secret = store.create(
            TicketDraft(
                caller_number="13700137000",
                confidential=True,
                request_type=RequestType.REPORT,
                domain="市场监管",
                content="举报某超市销售过期食品，电话13600136000可联系",
            ),
            now,
        )
    return url, [*numbers, long.number, secret.number]


def test_list_fits_an_80_column_terminal(crowded: tuple[str, list[str]]) -> None:
    url, numbers = crowded
    result = hotline(url, "list", columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, result.stdout
    assert lines[0].split() == [
        "number", "state", "created", "type", "domain", "caller", "summary"
    ]  # fmt: skip
    rows = {number: next(line for line in lines if number in line) for number in numbers}
    assert len(rows) == 4 and len(lines) == 2 + 4 + 1  # header, rule, tickets, count
    noise, question, long, secret = numbers
    assert "派单 超期" in rows[noise] and "138****8000" in rows[noise]
    assert "投诉" in rows[noise] and "环境保护" in rows[noise] and "工地夜间" in rows[noise]
    assert "草稿" in rows[question] and "139****9000" in rows[question]
    assert "020-****4321" in rows[long] and "城乡建" in rows[long] and "小区门口" in rows[long]
    assert rows[long].rstrip().endswith("…")  # the summary, cut
    assert "保密" in rows[secret] and "13700137000" not in rows[secret]
    assert "13600136000" not in result.stdout  # numbers in the text are masked too
    assert "13800138000" not in result.stdout and "lead" not in lines[0]
    # Created short: today's the time, older ones the day (or month, in another year).
    assert re.fullmatch(r"\d\d:\d\d", rows[question].split()[2])
    assert re.fullmatch(r"\d\d-\d\d|\d{4}-\d\d", rows[noise].split()[3])
    assert "4 ticket(s)" in lines[-1]


def test_callbacks_list_fits_80_columns(crowded: tuple[str, list[str]]) -> None:
    url, (_, question, *_) = crowded
    now = datetime.now(UTC)
    with TicketStore(url) as store:
        store.request_callback(question, "13900139000", "queue", now)
    result = hotline(url, "list", "--callbacks", columns=80)
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, result.stdout
    assert lines[0].split() == ["number", "state", "created", "type", "callback", "summary"]
    assert "预约回电 13900139000" in result.stdout  # the number to call, whole


def test_wide_lists_every_column_whole(crowded: tuple[str, list[str]]) -> None:
    url, (noise, _, long, _) = crowded
    for columns in (80, 240):  # however narrow the terminal: for less -S
        result = hotline(url, "list", "--wide", columns=columns)
        assert result.returncode == 0, result.stderr
        header = next(line for line in result.stdout.splitlines() if "number" in line)
        for name in ("created", "state", "lead", "due", "callback", "summary"):
            assert name in header, header
        row = next(line for line in result.stdout.splitlines() if noise in line)
        assert "13800138000" in row and "生态环境局" in row and "overdue" in row
        assert "派单 dispatched" in row and "城乡建设管理与规划" in result.stdout
        assert "[请尽快]" in result.stdout and "(confidential)" in result.stdout
        assert "4 ticket(s)" in result.stdout
    assert long in result.stdout


def test_json_does_not_depend_on_the_terminal(crowded: tuple[str, list[str]]) -> None:
    url, numbers = crowded
    narrow = hotline(url, "list", "--json", columns=80).stdout
    assert narrow == hotline(url, "list", "--json", columns=240).stdout
    rows = json.loads(narrow)
    assert sorted(r["number"] for r in rows) == sorted(numbers)
    long = next(r for r in rows if r["number"] == numbers[2])
    assert long["caller_number"] == "020-87654321" and long["domain"] == "城乡建设管理与规划"
    assert long["summary"].endswith("[请尽快]") and "history" not in long


def test_list_refuses_bad_filters(seeded: tuple[str, list[str]]) -> None:
    url, _ = seeded
    refused(hotline(url, "list", "--status", "done"), "--status done: choose one of", "办理")
    refused(hotline(url, "list", "--type", "抱怨"), "--type 抱怨: choose one of 咨询")
    refused(hotline(url, "list", "--since", "yesterday"), "--since yesterday: give a date")


def test_show(seeded: tuple[str, list[str]]) -> None:
    url, (noise, _) = seeded
    shown = hotline(url, "show", noise)
    assert shown.returncode == 0, shown.stderr
    for text in (noise, "派单 dispatched", "生态环境局", "agent-1", "accept", "dispatch"):
        assert text in shown.stdout
    data = json.loads(hotline(url, "show", noise, "--json").stdout)
    assert [e["action"] for e in data["history"]] == ["create", "accept", "dispatch"]
    assert data["history"][2]["details"] == {"department": "生态环境局"}
    assert data["owner"] == "agent-1" and data["request_type"] == "投诉"
    refused(hotline(url, "show", "GD12345-20260101-999999"), "there is no ticket")


def test_transition(seeded: tuple[str, list[str]]) -> None:
    url, (noise, question) = seeded
    done = hotline(url, "transition", noise, "签收", "--actor", "生态环境局")
    assert done.returncode == 0, done.stderr
    assert f"{noise}: sign by 生态环境局: 签收 signed" in " ".join(done.stdout.split())
    refused(
        hotline(url, "transition", noise, "return", "--actor", "生态环境局"),
        "cannot request_return: needs a reason",
    )
    back = hotline(
        url,
        "transition",
        noise,
        "退单",
        "--actor",
        "生态环境局",
        "--reason",
        "非本局",
        "--department",
        "城市管理和综合执法局",
    )
    assert back.returncode == 0, back.stderr
    moved = hotline(
        url,
        "transition",
        noise,
        "改派",
        "--actor",
        "hotline",
        "--reason",
        "属城管职责",
        "--department",
        "城市管理和综合执法局",
        "--json",
    )
    assert moved.returncode == 0, moved.stderr
    data = json.loads(moved.stdout)
    # named as the directory knows it (tickets.departments: the shipped example)
    assert data["status"] == "dispatched" and data["lead_department"] == "city.urban_management"
    assert data["history"][-1]["reason"] == "属城管职责"
    refused(
        hotline(url, "transition", question, "reply", "--actor", "x", "--note", "好"),
        "cannot reply: not allowed in state draft",
        "allowed now: accept, discard, link",
    )
    refused(hotline(url, "transition", question, "fly", "--actor", "x"), "no action 'fly'")
    refused(
        hotline(url, "transition", "GD12345-20260101-999999", "accept", "--actor", "x"),
        "there is no ticket GD12345-20260101-999999",
    )
    for action, extra in [
        ("accept", []),
        ("close_at_once", ["--note", "已告知"]),
        ("callback", []),
        ("rate", ["--rating", "不满意"]),
        ("重办", ["--reason", "未解决"]),
    ]:
        result = hotline(url, "transition", question, action, "--actor", "agent-2", *extra)
        assert result.returncode == 0, result.stderr
    assert json.loads(hotline(url, "show", question, "--json").stdout)["status"] == "handling"


def test_the_default_store_lives_in_the_data_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_NODE__DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [str(HOTLINE), "tickets", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert (tmp_path / "data" / "tickets.db").is_file()


def test_an_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    refused(
        hotline("postgresql+psycopg://nobody@127.0.0.1:1/none", "list"),
        "cannot open the ticket database",
    )


def test_callbacks(seeded: tuple[str, list[str]]) -> None:
    url, (noise, question) = seeded
    now = datetime.now(UTC)
    with TicketStore(url) as store:
        message = store.create(
            TicketDraft(
                caller_number="13700137000",
                request_type=RequestType.HELP,
                content="路灯坏了",
                callback_number="13700137000",
                callback_reason="voicemail",
            ),
            now - timedelta(hours=10),
        )
        store.request_callback(question, "13900139000", "queue", now)
        store.request_callback(noise, "13800138000", "queue", now - timedelta(days=59))
        store.callback_done(noise, now - timedelta(days=58), "agent-1")

    def listed(*filters: str) -> list[str]:
        result = hotline(url, "list", "--json", *filters)
        assert result.returncode == 0, result.stderr
        return [r["number"] for r in json.loads(result.stdout)]

    assert listed("--callbacks") == [question, message.number]
    assert listed("--callbacks", "--type", "咨询") == [question]
    assert listed() == [question, message.number, noise]
    table = hotline(url, "list", "--callbacks")
    assert table.returncode == 0, table.stderr
    assert "callback" in table.stdout and "2 ticket(s)" in table.stdout
    assert "预约回电 13900139000" in table.stdout and "留言回电 13700137000" in table.stdout
    assert "done " in hotline(url, "list", "--wide").stdout  # noise: called back

    shown = " ".join(hotline(url, "show", message.number).stdout.split())
    assert "callback 13700137000" in shown and "callback reason 留言回电 voicemail" in shown
    assert "callback done waiting" in shown
    done = " ".join(hotline(url, "show", noise).stdout.split())
    assert "callback reason 预约回电 queue" in done and "request_callback" in done
    assert "callback_done" in done and "callback done waiting" not in done
    data = json.loads(hotline(url, "show", message.number, "--json").stdout)
    assert data["callback_number"] == "13700137000" and data["callback_reason"] == "voicemail"
    assert data["callback_done_at"] is None
    assert json.loads(hotline(url, "show", noise, "--json").stdout)["callback_done_at"]
