"""数据分析 in Chromium (Playwright, headless, 1366×768) against the web app served
on a loopback port with a real ticket store and accounts: a supervisor signs in,
sees the estate's burst as 新出现的热点 and the hotspots with their charts (Apache
ECharts, served by the node), and the numbers on the page equal the JSON of
GET /api/analytics/hotspots.  Screenshot: docs/screenshots/analytics.png."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from argon2 import PasswordHasher

from sip_config import Settings
from tests.support.browser import fill_sign_in, save_screenshot
from tickets.model import TicketDraft
from tickets.store import TicketStore
from web.accounts import Accounts
from web.app import create_app
from web.context import WebContext
from web.roles import Role

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SUPERVISOR = ("zhiban", "board-pass-01")
# (summary, content, hours ago): a month of a district's tickets about a few places.
WATER = [
    ("锦绣花园小区停水两天了", "从前天开始停水，没有任何通知。"),
    ("锦绣花园小区又停水", "物业说是水管爆了，什么时候来水？"),
    ("锦绣花园停水没人管", "老人小孩没水喝，请尽快抢修。"),
    ("锦绣花园小区长时间停水", "楼上住户连厕所都冲不了。"),
    ("锦绣花园小区停水问题", "打自来水公司电话没人接。"),
    ("锦绣花园小区突然停水", "请尽快恢复供水。"),
]
OTHERS = [
    ("星河实验小学门口上学时段交通拥堵", "早上七点半到八点堵得水泄不通", 24 * 3),
    ("星河实验小学放学时家长车辆乱停乱放", "车停满了整条路，孩子过马路危险", 24 * 6),
    ("星河实验小学门口接送车辆拥堵", "接送孩子的车太多，没有交警疏导", 24 * 9),
    ("星河实验小学周边违停严重", "违停车辆挡住视线，差点出事故", 24 * 13),
    ("青山路地下通道一下雨就积水", "积水半米深，行人无法通行", 24 * 5),
    ("青山路地下通道又被水淹了", "暴雨后又积水，排水太差", 24 * 12),
    ("青山路地下通道排水不畅", "排水口堵了，积水几天不退", 24 * 20),
    ("金桂园小区旁工地夜间施工噪音扰民", "晚上十点以后还在打桩", 24 * 2),
    ("金桂园小区附近工地晚上施工太吵", "施工到凌晨一两点", 24 * 4),
    ("天河路100号路灯不亮", "路灯坏了一个星期", 24 * 7),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    settings = Settings(node={"data_dir": tmp_path})
    url = settings.tickets_database_url
    store = TicketStore(url)
    now = datetime.now(UTC)
    rows = [(s, c, 2 + 6 * k) for k, (s, c) in enumerate(WATER)] + OTHERS
    for k, (summary, content, hours_ago) in enumerate(rows):
        store.create(
            TicketDraft(caller_number=f"139{k:08d}", summary=summary, content=content),
            now - timedelta(hours=hours_ago),
        )
    accounts = Accounts(url, settings.web, hasher=FAST)
    accounts.add_user(SUPERVISOR[0], Role.SUPERVISOR, SUPERVISOR[1])
    context = WebContext(settings, tickets=store, accounts=accounts)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        accounts.close()
        store.close()


def test_the_supervisor_sees_the_burst_and_the_hotspots_with_their_charts(
    base: str,
    browser_page: Any,  # the fixture of tests.support.browser (a conftest plugin)
) -> None:
    page = browser_page()
    page.goto(f"{base}/login?next={quote('/analytics')}")
    fill_sign_in(page, *SUPERVISOR)
    page.wait_for_url(f"{base}/analytics")
    page.wait_for_selector("html[data-charts-ready='2']", timeout=20_000)
    assert page.locator('nav.nav a[href="/analytics"]').inner_text() == "数据分析"

    found = page.evaluate("fetch('/api/analytics/hotspots').then((r) => r.json())")
    [burst] = found["emerging"]
    alert = page.locator(".an-alert").inner_text()
    assert burst["place"] == "锦绣花园" and "锦绣花园" in alert and f"{burst['recent']} 件" in alert

    rows = page.locator("#an-hotspots tbody tr")
    assert rows.count() == len(found["hotspots"]) >= 4
    for k, hotspot in enumerate(found["hotspots"]):
        row = rows.nth(k)
        assert row.locator("td").nth(1).inner_text() == hotspot["title"]
        assert row.locator(".an-requests").inner_text() == str(hotspot["requests"])
        assert row.locator(".an-heat").inner_text() == f"{hotspot['heat']:.1f}"
    places = {h["place"] for h in found["hotspots"]}
    assert {"锦绣花园", "星河实验小学", "青山路"} <= places

    # the charts are drawn (SVG) with the hotspots' figures
    assert page.locator("#an-heat svg").count() == 1
    heat_text = page.locator("#an-heat svg").evaluate("svg => svg.textContent")
    assert "热度排名" in heat_text
    assert f"{found['hotspots'][0]['heat']}" in heat_text  # the bar's label
    trend = page.locator("#an-trend svg").evaluate("svg => svg.textContent")
    assert "每日诉求" in trend
    assert page.locator("#an-trend svg path").count() >= 5  # a line per top hotspot, axes
    save_screenshot(page, "analytics")
