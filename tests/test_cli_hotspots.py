"""``hotline hotspots``: detect over a message-board export, list over the node's
tickets; errors in a file are named with their row."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.cli import hotline_in_process, refused
from tickets.model import TicketDraft
from tickets.store import TicketStore

HERE = Path(__file__).resolve().parent
KNOWN = HERE / "data" / "hotspot_messages.csv"


def hotline(*args: str) -> subprocess.CompletedProcess[str]:
    return hotline_in_process(*args, env={"COLUMNS": "160"})


def test_detect_prints_the_top_hotspots_as_json() -> None:
    result = hotline("hotspots", "detect", str(KNOWN), "--top", "3", "--json")
    assert result.returncode == 0, result.stderr
    hotspots = json.loads(result.stdout)["hotspots"]
    assert [h["rank"] for h in hotspots] == [1, 2, 3]
    for hotspot in hotspots:
        assert hotspot["requests"] == len(hotspot["ids"]) >= hotspot["people"] >= 1
        assert hotspot["place"] and hotspot["place"] in hotspot["title"]
        assert datetime.fromisoformat(hotspot["start"]) <= datetime.fromisoformat(hotspot["end"])
        # one labelled hotspot each: the ids share their prefix
        assert len({i.split("-")[0] for i in hotspot["ids"]}) == 1, hotspot


def test_detect_shows_a_table_by_default() -> None:
    result = hotline("hotspots", "detect", str(KNOWN), "--top", "2")
    assert result.returncode == 0, result.stderr
    assert "热点问题" in result.stdout and "热度" in result.stdout
    assert "requests grouped in" in result.stderr


def test_chinese_headers_and_board_times_are_read(tmp_path: Path) -> None:
    export = tmp_path / "附件3.csv"
    export.write_text(
        "\ufeff留言编号,留言用户,留言主题,留言时间,留言详情,点赞数,反对数\n"
        "1,U1,青山路地下通道积水严重,2019/6/12 8:30:00,一下雨就积水，行人无法通行。,3,0\n"
        "2,U2,青山路地下通道又积水了,2019-06-14 18:02:11,下大雨通道又积满了水。,10,1\n"
        "3,U1,青山路地道积水何时解决,2019/6/20 7:45,积水问题存在好几年了。,0,0\n",
        encoding="utf-8",
    )
    result = hotline("hotspots", "detect", str(export), "--json")
    assert result.returncode == 0, result.stderr
    [hotspot] = json.loads(result.stdout)["hotspots"]
    assert hotspot["ids"] == ["1", "2", "3"] and hotspot["people"] == 2
    assert hotspot["likes"] == 13 and hotspot["dislikes"] == 1


def test_a_missing_column_and_unreadable_rows_are_named(tmp_path: Path) -> None:
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("id,time,title\n1,2019/8/7 19:52:14,路灯坏了\n", encoding="utf-8")
    refused(hotline("hotspots", "detect", str(no_text)), "missing column: text")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,time,title,text,likes\n"
        "1,2019/8/7 19:52:14,路灯坏了,小区路灯坏了,0\n"
        "2,8月7日晚上,路灯坏了,小区路灯坏了,0\n"
        "3,2019-07-11 00:00:00,路灯坏了,小区路灯坏了,很多\n",
        encoding="utf-8",
    )
    result = hotline("hotspots", "detect", str(bad))
    refused(result, "row 2: time '8月7日晚上' is not a time", "row 3: likes '很多' is not a number")
    refused(hotline("hotspots", "detect", str(tmp_path / "nowhere.csv")), "nowhere.csv")


def test_list_groups_the_tickets_of_the_last_days(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    with TicketStore(f"sqlite:///{data / 'tickets.db'}") as store:
        for k, (summary, content, days_ago) in enumerate(
            [
                ("金桂园小区旁工地夜间施工噪音扰民", "工地每天晚上十点后还在打桩", 2),
                ("金桂园小区附近工地晚上施工太吵", "连续一周施工到凌晨", 3),
                ("金桂园小区工地深夜打桩", "半夜十二点还在打桩，整栋楼都在震", 5),
                ("金桂园小区工地夜间施工", "去年也反映过夜间施工", 60),  # outside 30 days
                ("青山路路灯不亮", "路灯坏了一个月", 4),
            ]
        ):
            store.create(
                TicketDraft(caller_number=f"1380013800{k}", content=content, summary=summary),
                now - timedelta(days=days_ago),
            )
    result = hotline(
        "hotspots", "list", "--data-dir", str(data), "--now", now.isoformat(), "--json"
    )
    assert result.returncode == 0, result.stderr
    [hotspot] = json.loads(result.stdout)["hotspots"]
    assert hotspot["requests"] == 3 and hotspot["people"] == 3 and hotspot["place"] == "金桂园"
    wider = hotline(
        "hotspots", "list", "--data-dir", str(data), "--now", now.isoformat(), "--days", "90",
        "--json",
    )  # fmt: skip
    assert json.loads(wider.stdout)["hotspots"][0]["requests"] == 4
