"""`hotline tickets list|show|transition` in a subprocess against a temporary SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.nodes import HOTLINE
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore


def hotline(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {"HOTLINE_TICKETS__DATABASE_URL": url, "COLUMNS": "240"}
    return subprocess.run(
        [str(HOTLINE), "tickets", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    for fragment in fragments:
        assert fragment in output, output


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
    assert "overdue" in table.stdout
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
    assert [e["action"] for e in data["audit"]] == ["create", "accept", "dispatch"]
    assert data["audit"][2]["details"] == {"department": "生态环境局"}
    assert data["owner"] == "agent-1" and data["request_type"] == "投诉"
    refused(hotline(url, "show", "GD12345-20260101-999999"), "there is no ticket")


def test_transition(seeded: tuple[str, list[str]]) -> None:
    url, (noise, question) = seeded
    done = hotline(url, "transition", noise, "签收", "--actor", "生态环境局")
    assert done.returncode == 0, done.stderr
    assert f"{noise}: sign by 生态环境局: 签收 signed" in " ".join(done.stdout.split())
    refused(
        hotline(url, "transition", noise, "return", "--actor", "生态环境局"),
        "cannot return: needs a reason",
    )
    back = hotline(url, "transition", noise, "退单", "--actor", "生态环境局", "--reason", "非本局")
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
    assert data["status"] == "dispatched" and data["lead_department"] == "城市管理和综合执法局"
    assert data["audit"][-1]["reason"] == "属城管职责"
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
    assert "done " in hotline(url, "list").stdout  # noise: called back

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
