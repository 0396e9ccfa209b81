"""The three consoles in Chromium (Playwright, headless, 1366×768) against a real
node with real calls: an agent signs in, goes ready, sees the offered call with its
transcript while the phone still rings, then corrects and accepts the ticket; the
supervisor sees a caller waiting and switches the callback offer off; QA staff open
the call, the recording loads with the manifest's duration and a transcript line
seeks there.  A deep link opened without a session goes through the sign-in page
and back to that page; a page the role may not use answers a 403 page that leads
home; a one-time password is changed on the way in and the console confirms it.
Screenshots of the consoles and of those pages are written to docs/screenshots/.

The agent's softphone (`hotline phone --auto-answer --answer-after 10`) lets each
call ring a while, so the offer is seen on the desk before pickup.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.agent_phone import AgentPhone
from tests.support.browser import fill_sign_in, save_screenshot
from tests.support.nodes import HOTLINE, SPEECH, Node, start_node, wait_for

pytestmark = pytest.mark.node
from playwright import sync_api  # noqa: E402 (after the marker, as in the other node tests)

CLIP = "aishell1_BAC009S0764W0121.wav"  # 甚至出现交易几乎停滞的情况
USERS = {
    "agent": ("zhangmin", "desk-pass-1001", "/desk"),
    "supervisor": ("zhiban", "board-pass-01", "/wallboard"),
    "qa": ("zhijian", "review-pass-01", "/qa"),
}

NODE_TOML = """
[[agents]]
id = "1001"
name = "张敏"
password = "pw-1001"
seat_groups = ["综合"]

[[agents]]
id = "1002"
name = "李华"
password = "pw-1002"
seat_groups = ["综合"]

[seat_groups."综合"]
ring_timeout_s = 30
wrap_up_s = 60

[acd]
max_missed = 1
announce_every_s = 0
callback = true
callback_offer_after_s = 300
"""


@dataclass
class Hotline:
    node: Node
    base: str
    answered: dict[str, Any] = field(default_factory=dict)  # the desk test's call


def cli(node: Node, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HOTLINE), *args, "-c", str(node.config), "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    node = start_node(tmp_path_factory.mktemp("browser-node"), workers=2, extra_toml=NODE_TOML)
    try:
        for role, (name, password, _) in USERS.items():
            extra = ["--agent-id", "1001"] if role == "agent" else []
            added = cli(node, "users", "add", name, "--role", role, "--password", password, *extra)
            assert added.returncode == 0, added.stdout + added.stderr
        yield Hotline(node, f"http://127.0.0.1:{node.extra['web_port']}")
    finally:
        node.stop()


@pytest.fixture
def sign_in(browser_page: Any, hotline: Hotline) -> Any:
    """Opens a fresh browser context per role and signs in at the node's address
    (``/``, as the README says), landing on the role's console."""

    def open_as(role: str) -> Any:
        name, password, landing = USERS[role]
        page = browser_page()
        page.goto(f"{hotline.base}/")
        fill_sign_in(page, name, password)
        page.wait_for_url(f"{hotline.base}{landing}")
        return page

    return open_as


def header_links(page: Any) -> list[tuple[str, str, str]]:
    """The header's console links: (href, label, aria-current or "")."""
    links = page.locator("header nav.nav a")
    return [
        (
            links.nth(i).get_attribute("href") or "",
            links.nth(i).inner_text().strip(),
            links.nth(i).get_attribute("aria-current") or "",
        )
        for i in range(links.count())
    ]


class Caller:
    """A citizen on `hotline phone`, in the background; ``args`` script the call."""

    def __init__(self, node: Node, workdir: Path, number: str, *args: str) -> None:
        self.number = number
        self.out = (workdir / f"caller-{number}.out").open("w+")
        self.process = subprocess.Popen(
            [str(HOTLINE), "phone", node.uri, "--from", number, "--timeout", "60", *args],
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def summary(self) -> dict[str, Any]:
        self.process.wait(60)
        lines = Path(self.out.name).read_text(errors="replace").splitlines()
        found = [json.loads(line) for line in lines if line.startswith("{")]
        return found[-1] if found else {}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.out.close()


def manifest_of(node: Node, caller: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for manifest in node.manifests():
            if manifest["caller"] == caller and manifest["status"] != "recording":
                return manifest
        return None

    return wait_for(found, 40, f"the manifest of {caller}'s call")


def test_the_agent_sees_the_offer_with_its_transcript_before_pickup_and_accepts_the_ticket(
    hotline: Hotline, sign_in: Any, tmp_path: Path
) -> None:
    node = hotline.node
    phone = AgentPhone(node, "1001", tmp_path, answer_after_s=10)
    caller: Caller | None = None
    try:
        phone.wait_registered()
        page = sign_in("agent")
        state = page.locator("#state")
        page.wait_for_selector("#socket:has-text('实时连接正常')")
        page.click("#btn-login")  # 签入
        wait_text(state, "空闲（就绪）")
        page.keyboard.press("F3")  # 小休 (reason: the first, 小休)
        wait_text(state, "示忙")
        wait_text(page.locator("#state-reason"), "（小休）")
        page.keyboard.press("F2")  # 就绪
        wait_text(state, "空闲（就绪）")
        assert agent_status(node, "1001") == "available"

        caller = Caller(
            node,
            tmp_path,
            "13800000101",
            "--play",
            str(SPEECH / CLIP),
            "--play-at",
            "0.5",
            "--dtmf",
            "0@7",
            # Long enough that a slow machine's offer (about 8 s in) plus the phone's
            # 10 s of ringing still leaves the agent on the call while the desk works.
            "--hangup-after",
            "30",
        )
        # Offered: the desk shows the call ringing, with what the caller said so far.
        page.wait_for_selector("#call:not([hidden])", timeout=30_000)
        wait_text(page.locator("#call-stage"), "振铃中")
        assert page.inner_text("#call-caller") == "13800000101"
        page.wait_for_selector("#transcript li:not(.partial)", timeout=20_000)
        said = page.inner_text("#transcript")
        assert re.search(r"交易|停滞|情况", said), said
        assert page.inner_text("#call-priority")
        page.wait_for_selector("#ticket:not([hidden])")  # the draft, before pickup
        number = page.inner_text("#ticket-number").strip()
        assert number, "the draft ticket's number is on the desk"
        assert phone.lines() == [{"registered": node.target}], "no call taken yet"
        assert agent_status(node, "1001") == "offered"

        wait_text(page.locator("#call-stage"), "通话中", timeout=20_000)
        wait_for(lambda: agent_status(node, "1001") == "on_call", 10, "1001 on the call")

        summary = "市民反映房产交易停滞（浏览器测试）"
        page.fill("#t-summary", summary)
        page.fill("#t-address", "广州市天河区体育西路1号")
        page.click("#ticket button[data-submit='accept']")  # 受理
        wait_text(page.locator("#ticket-status"), "受理")
        assert "受理：已完成" in page.inner_text("#message")
        shown = ticket_show(node, number)
        assert shown["status"] == "accepted", shown
        assert shown["summary"] == summary, shown
        assert shown["address"] == "广州市天河区体育西路1号", shown
        save_screenshot(page, "desk")

        caller_summary = caller.summary()
        assert caller_summary.get("answered"), caller_summary
        ended = wait_for(
            lambda: [line for line in phone.lines() if "call_ended" in line], 15, "the phone's call"
        )
        assert ended[0]["answered"], ended
        manifest = manifest_of(node, "13800000101")
        assert manifest["agent"] == "1001" and manifest["ticket"] == number
        hotline.answered.update(manifest=manifest, number=number)
    finally:
        if caller is not None:
            caller.stop()
        phone.stop()


def test_the_supervisor_sees_a_caller_waiting_and_switches_the_callback_offer_off(
    hotline: Hotline, sign_in: Any, tmp_path: Path
) -> None:
    node = hotline.node
    for agent_id in ("1001", "1002"):
        if agent_status(node, agent_id) != "logged_out":
            assert cli(node, "agents", "not-ready", agent_id).returncode == 0
    page = sign_in("supervisor")
    group = page.locator("section.group[data-group='综合']")
    group.wait_for()
    wait_text(group.locator(".waiting"), "0")
    assert page.is_checked("#callback-offer"), "the node starts with the callback offer on"

    caller = Caller(node, tmp_path, "13800000102", "--dtmf", "0@1", "--hangup-after", "14")
    try:
        wait_text(group.locator(".waiting"), "1", timeout=15_000)  # nobody ready: it waits
        board = page.context.request.get(f"{hotline.base}/api/wallboard").json()
        (general,) = [g for g in board["groups"] if g["group"] == "综合"]
        assert general["waiting"] == 1
        save_screenshot(page, "wallboard")

        page.uncheck("#callback-offer")
        page.wait_for_selector("#board-message:has-text('预约回电关闭：已生效')")
        board = page.context.request.get(f"{hotline.base}/api/wallboard").json()
        assert board["callback_offer"] is False
        page.reload()
        page.locator("section.group[data-group='综合']").wait_for()
        assert not page.is_checked("#callback-offer"), "the switch stays off after a reload"

        caller.process.wait(40)
        wait_text(page.locator("section.group[data-group='综合'] .waiting"), "0")
    finally:
        caller.stop()


def test_qa_opens_the_call_hears_the_recording_and_seeks_by_transcript_line(
    hotline: Hotline, sign_in: Any
) -> None:
    assert hotline.answered, "the desk test's call is needed: run the module whole"
    manifest = hotline.answered["manifest"]
    call_id = manifest["call_id"]
    legs = {leg["leg"]: leg for leg in manifest["legs"]}

    page = sign_in("qa")
    page.click(f"a[data-call-id='{call_id}']")
    page.wait_for_url(f"{hotline.base}/qa/calls/{call_id}")
    first = page.get_attribute("input[name='leg']:checked", "value")
    assert first == "qa", "the stereo recording is offered first"
    page.wait_for_function(
        "() => { const a = document.getElementById('qa-audio');"
        " return a.readyState >= 1 && isFinite(a.duration) && a.duration > 0; }"
    )
    duration = page.evaluate("document.getElementById('qa-audio').duration")
    assert abs(duration - legs["qa"]["duration_s"]) < 0.5, (duration, legs["qa"])
    assert "录音完整" in page.inner_text("#qa-integrity")
    assert hotline.answered["number"] in page.inner_text(".qa-right")

    lines = page.locator("#qa-transcript button[data-at]")
    assert lines.count() >= 1, page.inner_text("#qa-transcript")
    line = lines.first
    at = float(line.get_attribute("data-at") or "nan")
    offset = float(page.get_attribute("#qa-audio", "data-offset") or "0")
    target = at - offset
    # Somewhere else first (the end of the recording), then the line brings it back.
    page.evaluate(f"document.getElementById('qa-audio').currentTime = {duration - 0.2}")
    page.wait_for_function(f"document.getElementById('qa-audio').currentTime > {duration - 0.5}")
    line.click()
    page.wait_for_function(
        "([t]) => { const a = document.getElementById('qa-audio');"
        " return a.currentTime >= t - 0.05 && a.currentTime < t + 1.5; }",
        arg=[target],
    )
    page.evaluate("document.getElementById('qa-audio').pause()")
    save_screenshot(page, "qa")


def test_a_deep_link_signs_in_and_returns_there_and_a_refused_page_leads_home(
    hotline: Hotline, browser_page: Any
) -> None:
    base = hotline.base
    name, password, home = USERS["supervisor"]
    wanted = "/qa?seat_group=%E7%BB%BC%E5%90%88"  # 综合, as the address bar sends it
    page = browser_page()
    page.goto(f"{base}{wanted}")  # nobody signed in: to the sign-in page, next kept
    page.wait_for_url(re.compile(re.escape(f"{base}/login?next=")))
    assert page.input_value("input[name='next']") == wanted
    assert "登录后将继续打开您要访问的页面" in page.inner_text("#login-next")
    assert header_links(page) == []
    save_screenshot(page, "login", min_bytes=8_000)

    fill_sign_in(page, name, password)
    page.wait_for_url(f"{base}{wanted}")  # back where the link pointed
    assert header_links(page) == [
        ("/wallboard", "值班长看板", ""),
        ("/qa", "质检", "page"),
        ("/tickets", "工单管理", ""),
        ("/verification", "回访工作台", ""),
        ("/analytics", "数据分析", ""),
    ]

    page.goto(f"{base}/desk")  # the agents' desk: refused with a page, not a loop
    assert page.inner_text("h1") == "无权访问此页面"
    assert "没有使用此页面的权限" in page.inner_text("#forbidden-reason")
    assert page.url == f"{base}/desk"
    save_screenshot(page, "forbidden", min_bytes=8_000)
    page.click("#forbidden-home")
    page.wait_for_url(f"{base}{home}")

    page.goto(f"{base}/login?next=//example.com/")  # never off this site
    page.wait_for_url(f"{base}{home}")
    page.goto(f"{base}/")  # the node's address: one's console when signed in
    page.wait_for_url(f"{base}{home}")


def test_a_one_time_password_is_changed_on_the_way_in_and_the_console_confirms_it(
    hotline: Hotline, browser_page: Any
) -> None:
    base = hotline.base
    added = cli(
        hotline.node, "users", "add", "xinren", "--role", "qa",
        "--password", "first-pass-01", "--must-change",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    page = browser_page()
    page.goto(f"{base}/")
    assert page.inner_text("h1") == "登录"
    fill_sign_in(page, "xinren", "first-pass-01")
    page.wait_for_url(f"{base}/account/password")
    assert "一次性密码" in page.inner_text("#must-change")
    assert header_links(page) == [], "nowhere else to go before the password is changed"
    page.fill("#current_password", "first-pass-01")
    page.fill("#new_password", "my-own-pass-01")
    page.fill("#confirm_password", "my-own-pass-01")
    save_screenshot(page, "password", min_bytes=8_000)
    page.press("#confirm_password", "Enter")
    page.wait_for_url(f"{base}/qa")  # the console, not an empty sign-in page
    assert page.inner_text("#flash").startswith("密码已修改")
    assert header_links(page) == [("/qa", "质检", "page"), ("/tickets", "工单管理", "")]
    save_screenshot(page, "password-changed")
    page.reload()
    assert page.locator("#flash").count() == 0, "the confirmation shows once"


# ---- helpers --------------------------------------------------------------------------
def wait_text(locator: Any, text: str, timeout: float = 15_000) -> None:
    sync_api.expect(locator).to_have_text(text, timeout=timeout)


def agent_status(node: Node, agent_id: str) -> str:
    listed = cli(node, "agents", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return str(json.loads(listed.stdout)[agent_id]["status"])


def ticket_show(node: Node, number: str) -> dict[str, Any]:
    shown = cli(node, "tickets", "show", number, "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return json.loads(shown.stdout)
