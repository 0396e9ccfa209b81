"""A department works a ticket in Chromium (Playwright, headless, 1366×768) against
the web app served on a loopback port with a real ticket store, accounts and the
shipped department directory: the supervisor dispatches it from 工单管理 with the
catalogue's suggestion, the district's handler signs and answers with boilerplate,
its reviewer approves, the supervisor sees the reply flagged (形式办结) with its
reasons and rejects it, the handler answers concretely, the reviewer approves and
the supervisor closes it.  Screenshots of 工单管理 (tickets.png), the review page
with the flags (ticket-review.png) and 承办单位工作台 (department.png) go to
docs/screenshots/."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher

from sip_config import Settings
from tests.support.browser import fill_sign_in, save_screenshot
from tickets.departments import default_directory
from tickets.model import Channel, RequestType, TicketDraft
from tickets.store import TicketStore
from web.accounts import Accounts
from web.app import create_app
from web.context import WebContext
from web.roles import Role

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
TIANHE = "district.tianhe"
USERS = {
    "supervisor": ("zhiban", "board-pass-01", Role.SUPERVISOR, ""),
    "handler": ("chen", "handler-pass-1", Role.DEPARTMENT_HANDLER, TIANHE),
    "reviewer": ("lin", "reviewer-pass-1", Role.DEPARTMENT_REVIEWER, TIANHE),
}
STREETLIGHT = "天河区天河路100号小区门口的路灯坏了一个星期，晚上很黑，老人出入很不方便"
BOILERPLATE = "您反映的问题已转交相关部门处理，我们将加强管理。"
CONCRETE = (
    "经核实，天河区天河路100号小区门口路灯因线路老化损坏。我区已于今日派员到现场"
    "更换灯具和线路，当晚路灯恢复照明，夜间已复查正常。"
)
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(512)
# Other tickets, so that the lists look like a working day: (content, address, days ago).
OTHERS = [
    ("天河区体育西路的井盖松动了，车一过就响", "天河区体育西路", 1),
    ("天河区石牌街道华师路小区的垃圾站很臭，好几天没人清运", "天河区石牌街道华师路", 2),
    ("天河区天河北路的人行道砖破损，下雨积水", "天河区天河北路", 30),
    ("越秀区北京路步行街的垃圾桶满了没人清理", "越秀区北京路", 3),
]


@dataclass
class Served:
    base: str
    store: TicketStore
    number: str


def _draft(content: str, address: str, caller: str) -> TicketDraft:
    return TicketDraft(
        channel=Channel.PHONE,
        caller_number=caller,
        request_type=RequestType.COMPLAINT,
        domain="城乡建设",
        category_path="城乡建设/城市建设和市政管理/城市公共设施",
        address=address,
        content=content,
        summary="投诉：" + content[:24],
    )


def _working_day(store: TicketStore, now: datetime) -> datetime:
    """``now`` or the working day before, at 10:00 hotline time (signing is office time)."""
    policy = store.policy.deadlines
    day = policy.local_day(now)
    while not policy.calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Guangzhou


def _seed(store: TicketStore) -> str:
    """The ticket the test works, accepted, and others in their states around it."""
    now = datetime.now(UTC)
    directory = default_directory()
    number = ""
    for n, (content, address, days) in enumerate(OTHERS):
        at = _working_day(store, now - timedelta(days=days))
        ticket = store.create(_draft(content, address, f"1370013700{n}"), at)
        store.transition(ticket.number, "accept", "1001", at)
        lead = "district.yuexiu" if "越秀" in address else TIANHE
        store.transition(ticket.number, "dispatch", "zhiban", at, department=lead, rules=directory)
        if n == 1:
            store.transition(
                ticket.number, "sign", "chen", at, by_department=TIANHE, rules=directory
            )
    store.sweep(now)  # the one dispatched 30 days ago is overdue: 超期, 督办
    at = _working_day(store, now)
    ticket = store.create(_draft(STREETLIGHT, "天河区天河路100号", "13800138000"), at)
    number = store.transition(ticket.number, "accept", "1001", at).number
    return number


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(node={"data_dir": tmp_path}, recordings={"dir": tmp_path / "recordings"})
    url = settings.tickets_database_url
    store = TicketStore(url)
    accounts = Accounts(url, settings.web, hasher=FAST)
    for name, password, role, department in USERS.values():
        accounts.add_user(name, role, password, department=department)
    number = _seed(store)
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
        yield Served(f"http://127.0.0.1:{port}", store, number)
    finally:
        server.should_exit = True
        thread.join(10)
        accounts.close()
        store.close()


def sign_in(new_page: Any, served: Served, who: str, home: str) -> Any:
    page = new_page()
    name, password, _, _ = USERS[who]
    page.goto(served.base + "/login")
    fill_sign_in(page, name, password)
    page.wait_for_url(served.base + home)
    return page


def status_of(page: Any) -> str:
    return page.inner_text("#tk-status").strip()


def act(page: Any, action: str, **fields: str) -> None:
    """Fill the action's form, submit it and wait for the page to say it was done."""
    form = page.locator(f"#tk-form-{action}")
    for name, value in fields.items():
        form.locator(f'[name="{name}"]').fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_selector("#tk-notice.tk-shown")
    assert "已完成" in page.inner_text("#tk-notice")


def open_ticket(page: Any, served: Served, home: str) -> None:
    prefix = "/tickets/" if home == "/tickets" else "/department/tickets/"
    page.goto(served.base + prefix + served.number)
    page.wait_for_selector("#tk-status")


def test_a_department_answers_and_the_centre_rejects_a_boilerplate_reply(
    served: Served,
    browser_page: Any,  # the fixture of tests.support.browser (a conftest plugin)
) -> None:
    number = served.number
    centre = sign_in(browser_page, served, "supervisor", "/wallboard")
    centre.click('nav.nav a[href="/tickets"]')  # 工单管理 in the header
    centre.wait_for_selector("#tk-list")
    rows = centre.locator("#tk-list tbody tr")
    assert rows.count() == len(OTHERS) + 1
    assert centre.locator("#tk-list tr.tk-overdue").count() == 1  # dispatched 30 days ago
    assert "超期" in centre.inner_text("#tk-list") and "督办" in centre.inner_text("#tk-list")
    assert re.search(r"剩余\d+个工作日", centre.inner_text("#tk-list"))
    save_screenshot(centre, "tickets")

    # Dispatch with the catalogue's suggestion: the lead as suggested, no co-handler.
    centre.click(f'#tk-list a[href="/tickets/{number}"]')
    centre.wait_for_selector("#tk-form-dispatch")
    suggestion = centre.inner_text("#tk-suggestion")
    assert "主办 天河区人民政府" in suggestion and "派单目录" in suggestion
    form = centre.locator("#tk-form-dispatch")
    assert form.locator('select[name="department"]').input_value() == TIANHE
    form.locator('select[name="co_departments"]').select_option([])
    with centre.expect_navigation():
        form.locator("button[type=submit]").click()
    centre.wait_for_selector("#tk-notice.tk-shown")
    assert status_of(centre) == "派单"
    assert "天河区人民政府" in centre.inner_text("#tk-parts")

    # The district's handler signs and answers with boilerplate.
    handler = sign_in(browser_page, served, "handler", "/department")
    assert "天河区人民政府" in handler.inner_text("#department-title")
    listed = handler.inner_text("#department-tickets")
    assert number in listed and "签收时限" in listed and re.search(r"剩余\d+(天|小时)", listed)
    late = handler.locator("#department-tickets tr.tk-overdue")
    assert late.count() >= 1 and "已超期" in handler.inner_text("#department-tickets")
    assert (
        handler.locator(f'#department-tickets tr.tk-overdue[data-number="{number}"]').count() == 0
    )
    save_screenshot(handler, "department")
    handler.click(f'#department-tickets a[href="/department/tickets/{number}"]')
    handler.wait_for_selector("#tk-form-sign")
    assert "138****8000" in handler.inner_text(".tk-facts")  # masked for departments
    act(handler, "sign")
    assert status_of(handler) == "签收"
    # A photo of the site with a progress note (办理进展), then the answer.
    upload = handler.locator("#tk-upload")
    upload.locator('input[name="file"]').set_input_files(
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    upload.locator('textarea[name="note"]').fill("已派员到现场查看，灯具损坏")
    with handler.expect_navigation():
        upload.locator("button[type=submit]").click()
    handler.wait_for_selector("#tk-notice.tk-shown")
    assert "现场照片.png" in handler.inner_text("#tk-files")
    assert "已派员到现场查看" in handler.inner_text("#tk-history")
    act(handler, "reply", reply=BOILERPLATE)
    assert status_of(handler) == "待审核"

    # Its reviewer approves the draft (内部审核).
    reviewer = sign_in(browser_page, served, "reviewer", "/department")
    reviewer.click("#tab-reviewing")
    reviewer.click(f'#department-tickets a[href="/department/tickets/{number}"]')
    reviewer.wait_for_selector("#tk-form-approve_reply")
    assert BOILERPLATE in reviewer.inner_text("#tk-reply")
    act(reviewer, "approve_reply")
    assert status_of(reviewer) == "答复"

    # The centre sees the reply flagged, with every reason, and sends it back.
    centre.reload()
    centre.wait_for_selector("#tk-assessment")
    flagged = centre.inner_text("#tk-assessment")
    assert "疑似形式办结" in flagged and "套话" in flagged
    assert centre.locator("#tk-reasons li").count() >= 3
    save_screenshot(centre, "ticket-review")
    act(centre, "reject_reply", reason="答复为套话，未说明是否修复及修复时间，请重办")
    assert status_of(centre) == "办理"

    # The department answers again, concretely; its reviewer approves; the centre closes it.
    open_ticket(handler, served, "/department")
    assert "退回重办" in handler.inner_text("#tk-history")
    act(handler, "reply", reply=CONCRETE)
    open_ticket(reviewer, served, "/department")
    act(reviewer, "approve_reply")
    centre.reload()
    centre.wait_for_selector("#tk-assessment")
    assert "答复较为具体" in centre.inner_text("#tk-assessment")
    act(centre, "close")
    assert status_of(centre) == "办结"
    history = centre.inner_text("#tk-history")
    for step in ("派单", "签收", "答复", "审核通过", "退回重办", "办结"):
        assert step in history, step
    closed = served.store.get(number)
    assert closed.status.value == "closed" and closed.reply == CONCRETE
