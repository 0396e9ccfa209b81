"""本周坐席更正 on the wallboard in Chromium (Playwright, headless, 1366×768): the real
app served on a loopback port (``served_node``), its ticket store holding a week of
understood calls, some corrected by agents on the desk (``tickets.examples``), and a
supervisor (an admin) signed in through the sign-in page.  The panel lists each
domain the model gave with its calls, corrections, rate and most frequent changes,
most corrected first; the board is saved to docs/screenshots/corrections.png."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright import sync_api

from sip_config import Settings
from tests.support.browser import fill_sign_in, save_screenshot
from tests.support.served import ADMIN, served_node  # an admin's console is the wallboard
from tickets.examples import save_corrected
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore

CALL = TicketDraft(caller_number="13800138000", content="来电反映的问题", call_id="c")
# domain the model gave → (calls, [(label changes an agent made, how many tickets)])
WEEK: dict[str, tuple[dict[str, str], int, list[tuple[dict[str, str], int]]]] = {
    "城乡建设": (
        {"request_type": "投诉", "category_code": "CX05", "lead_department": "住房城乡建设局"},
        24,
        [
            ({"domain": "交通运输"}, 4),
            ({"category_code": "CX02"}, 2),
            ({"request_type": "求助"}, 1),
        ],
    ),
    "交通运输": (
        {"request_type": "投诉", "category_code": "JT01", "lead_department": "交通运输局"},
        15,
        [({"lead_department": "公安交警支队"}, 2)],
    ),
    "环境保护": (
        {"request_type": "举报", "category_code": "HB01", "lead_department": "生态环境局"},
        9,
        [({"domain": "城乡建设", "lead_department": "城市管理和综合执法局"}, 3)],
    ),
    "教育": ({"request_type": "咨询", "category_code": "JY01"}, 4, [({"request_type": "建议"}, 1)]),
    "市场监管": ({"request_type": "投诉", "category_code": "SC03"}, 6, []),
}


def a_week_of_calls(url: str) -> None:
    now = datetime.now(UTC)
    with TicketStore(url) as store:
        for domain, (labels, count, corrections) in WEEK.items():
            plan = [change for change, times in corrections for _ in range(times)]
            for n in range(count):
                draft = dataclasses.replace(
                    CALL,
                    domain=domain,
                    call_id=f"{domain}-{n}",
                    request_type=RequestType(labels["request_type"]),
                    category_code=labels["category_code"],
                    lead_department=labels.get("lead_department", ""),
                )
                ticket = store.create(draft, now - timedelta(hours=3 + n))
                if n < len(plan):
                    values: dict[str, Any] = dict(plan[n])
                    if "request_type" in values:
                        values["request_type"] = RequestType(values["request_type"])
                    changed = dataclasses.replace(ticket, **values)
                    save_corrected(store, ticket, changed, "1002", now - timedelta(hours=1))


def test_the_wallboard_shows_how_often_agents_corrected_each_domain(
    browser_page: Any,  # noqa: F811 (the fixture of tests.support.browser)
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    a_week_of_calls(Settings(node={"data_dir": data_dir}).tickets_database_url)
    with served_node(data_dir) as node:
        page = browser_page()
        page.goto(f"{node.base_url}/")
        fill_sign_in(page, *ADMIN)
        page.wait_for_url(f"{node.base_url}/wallboard")
        expect = sync_api.expect
        panel = page.locator("#corrections")
        expect(panel.get_by_role("heading", name="本周坐席更正")).to_be_visible()
        rows = panel.locator("#corrections-rows tr")
        expect(rows).to_have_count(len(WEEK))
        order = [rows.nth(i).get_attribute("data-domain") for i in range(len(WEEK))]
        assert order == ["城乡建设", "环境保护", "交通运输", "教育", "市场监管"]
        first = rows.nth(0)
        expect(first.locator("td").nth(1)).to_have_text("24")
        expect(first.locator("td").nth(2)).to_have_text("7")
        expect(first.locator("td.rate")).to_contain_text("29.2%")
        expect(first.locator(".change").first).to_have_text("领域 城乡建设 → 交通运输 ×4")
        expect(rows.nth(1).locator("td.rate")).to_have_class("rate bad")  # a third corrected
        expect(rows.nth(4).locator("td.changes")).to_have_text("—")
        expect(page.locator("#corrections-facts")).to_contain_text("理解来电 58 通")
        expect(page.locator("#corrections-empty")).to_be_hidden()
        box = panel.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, "fits the screen's width"
        save_screenshot(page, "corrections")
