"""系统繁忙 on the wallboard in Chromium (Playwright, headless, 1366×768): the real
app served on a loopback port (`served_node`, as the OpenAPI test serves it), signed
in through the sign-in page, and the node's status file (``run/node.json``) written
the way the supervisor writes it.  While the node admits every call the banner is
hidden; once the status says it is shedding the page's next poll shows the banner
with the share admitted and the count refused, the same count as in 系统拒接; once
the status says it is open again the banner goes and the count stays.  The busy
board is saved to docs/screenshots/wallboard-busy.png.

No supervisor runs here: in a whole node it rewrites node.json every 2 s from what
Kamailio really refused, which a test cannot steer to shedding and back.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from playwright import sync_api

from tests.support.browser import fill_sign_in, save_screenshot
from tests.support.served import ADMIN, served_node  # an admin's console is the wallboard

POLL_MS = 10_000  # the page polls every 2 s: a few polls' worth
OPEN = {
    "state": "open",
    "admit_pct": 100,
    "reason": "",
    "hub_p90_s": 0.12,
    "hub_lag_p90_s": 0.05,
    "cpu": 0.31,
    "refused": {"rate": 0, "load": 0, "hub_slow": 0, "full": 0},
    "refused_total": 0,
}
SHEDDING = {
    "state": "shedding",
    "admit_pct": 25,
    "reason": "workers refused calls the hub answered too late",
    "hub_p90_s": 2.4,
    "hub_lag_p90_s": 1.1,
    "cpu": 0.99,
    "refused": {"rate": 0, "load": 31, "hub_slow": 9, "full": 2},
    "refused_total": 42,
}


def write_node_status(data_dir: Path, admission: dict[str, Any]) -> None:
    """``run/node.json`` as the supervisor publishes it: whole, by rename, so a poll
    never reads half a file."""
    run = data_dir / "run"
    run.mkdir(parents=True, exist_ok=True)
    status = {"node": "node1", "state": "ready", "parts": [], "updated": time.time()}
    tmp = run / "node.tmp"
    tmp.write_text(json.dumps({**status, "admission": admission}), encoding="utf-8")
    os.replace(tmp, run / "node.json")


def test_the_wallboard_shows_the_busy_banner_while_the_node_sheds_and_drops_it_when_open(
    browser_page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    write_node_status(data_dir, OPEN)
    with served_node(data_dir) as node:
        page = browser_page()
        page.goto(f"{node.base_url}/")
        fill_sign_in(page, *ADMIN)
        page.wait_for_url(f"{node.base_url}/wallboard")
        banner = page.locator("#system-busy")
        refused = page.locator("#refused-total")
        expect = sync_api.expect
        expect(page.locator("section.group[data-group='综合']")).to_be_visible()
        expect(refused).to_have_text("0")
        expect(banner).to_be_hidden()

        write_node_status(data_dir, SHEDDING)  # the peak: a quarter of new calls admitted
        expect(banner).to_be_visible(timeout=POLL_MS)
        expect(banner).to_have_text(
            "系统繁忙：新来电仅接入约 25%，其余即时提示稍后再拨（已拒接 42 通）"
        )
        expect(refused).to_have_text(str(SHEDDING["refused_total"]))
        save_screenshot(page, "wallboard-busy")

        write_node_status(data_dir, {**SHEDDING, "state": "open", "admit_pct": 100})
        expect(banner).to_be_hidden(timeout=POLL_MS)
        expect(refused).to_have_text("42")  # refused since start: the count stays
