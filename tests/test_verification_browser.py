"""回访 in Chromium (Playwright, headless, 1366×768) against the web app served on a
loopback port with a real ticket store, accounts, the shipped department directory
and a fake console (the survey's status, a verifier's call): a verifier signs in to
the 回访工作台, sees the tasks that need a person (待人工回访) with masked numbers
and countdowns, opens one, takes it and enters 已解决 / 满意, which rates the ticket;
a supervisor opens a ticket awaiting 回访复核 and sends it back (重办) with the
citizen's comment as the reason.  Screenshots of the console (verification.png)
and of a task's page (verification-task.png) go to docs/screenshots/."""

from __future__ import annotations

import socket
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from argon2 import PasswordHasher

from recordings import manifest as manifests
from sip_config import Settings
from tests.support.browser import fill_sign_in, save_screenshot
from tickets.lifecycle import Action
from tickets.model import Rating, RequestType, Resolution, Status, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import (
    AnswerSource,
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from web.accounts import Accounts
from web.app import create_app
from web.context import WebContext
from web.roles import Role

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
USERS = {
    "verifier": ("wu", "verifier-pass-1", Role.VERIFIER, "1003"),
    "supervisor": ("zhiban", "board-pass-01", Role.SUPERVISOR, ""),
}
TIANHE, YUEXIU = "district.tianhe", "district.yuexiu"
COMPLAINT = "不满意，晚上路灯还是不亮，说修好了根本没修"
# (content, caller, department): the closed tickets whose citizens are called back.
TICKETS = [
    ("天河区天河路100号小区门口的路灯坏了一个星期，晚上很黑", "天河区天河路100号", "13800138000"),
    ("天河区体育西路的井盖松动了，车一过就响", "天河区体育西路", "13700137001"),
    ("越秀区北京路步行街的垃圾桶满了没人清理", "越秀区北京路步行街", "13600136002"),
    ("天河区石牌街道华师路小区的垃圾站很臭，好几天没人清运", "天河区华师路", "13500135003"),
    ("越秀区东风中路施工噪音扰民，晚上十一点还在施工", "越秀区东风中路", "13400134004"),
]


class FakeConsole:
    """The hub's 回访 side: two survey calls on the line; a verifier's call placed."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def has_agents(self) -> bool:
        return True

    def verification_status(self) -> dict[str, Any]:
        return {"paused": False, "calls": 2, "max_calls": 4}

    async def call_for_verification(self, task_id: int, agent_id: str) -> str:
        self.calls.append((task_id, agent_id))
        return ""


@dataclass
class Served:
    base: str
    store: TicketStore
    tasks: VerificationStore
    first: VerificationTask  # 待人工回访: three tries unanswered
    review: str  # a ticket awaiting 回访复核


def _department(address: str) -> str:
    return YUEXIU if address.startswith("越秀") else TIANHE


def _closed(store: TicketStore, content: str, address: str, caller: str, at: datetime) -> str:
    draft = TicketDraft(
        caller_number=caller,
        request_type=RequestType.COMPLAINT,
        content=content,
        summary="投诉：" + content[:20],
        address=address,
    )
    number = store.create(draft, at - timedelta(days=4)).number
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": _department(address)}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": "经核实已安排人员现场处理，问题已解决。"}),
        (Action.APPROVE_REPLY, {}),
        (Action.CLOSE, {}),
    ]:
        store.transition(number, action, "someone", at, **options)
    return number


def _wav(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(folder / "qa.wav"), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(32000))
    manifests.write(
        folder,
        manifests.Manifest(
            call_id=folder.name,
            sip_call_id="",
            node="n1",
            worker="w1",
            caller="12345",
            called="13800138000",
            started_at=datetime.now(UTC).isoformat(),
            sample_rate=8000,
            legs=[manifests.LegRecording("qa", "qa.wav", channels=2, sample_rate=8000)],
        ),
    )


def _seed(store: TicketStore, recordings: Path) -> tuple[VerificationTask, str]:
    """Closed tickets with their tasks in every tab, and one ticket awaiting review."""
    tasks = VerificationStore(store)
    now = datetime.now(UTC)
    numbers = [
        _closed(store, content, address, caller, now - timedelta(hours=30 - n))
        for n, (content, address, caller) in enumerate(TICKETS)
    ]

    def task(n: int, **fields: Any) -> VerificationTask:
        _, address, caller = TICKETS[n]
        made = now - timedelta(hours=26 - n)
        base = {
            "ticket": numbers[n],
            "number": caller,
            "kind": TaskKind.CALL,
            "state": TaskState.NEEDS_PERSON,
            "created_at": made,
            "updated_at": made,
            "due_by": made + timedelta(days=3, hours=n * 5),
            "department": _department(address),
            "seat_group": "综合" if n % 2 else "城建",
        }
        (added,) = tasks.add([VerificationTask(**(base | fields))])
        return added

    def tries(count: int, outcome: AttemptOutcome, detail: str) -> tuple[Attempt, ...]:
        start = now - timedelta(hours=24)
        return tuple(
            Attempt(start + timedelta(hours=4 * i), outcome, f"s-{i}", detail=detail)
            for i in range(count)
        )

    _wav(recordings / "2026" / "12" / "07" / "sv-1")
    first = task(
        0,
        reason=TaskReason.UNREACHED,
        attempts=tries(3, AttemptOutcome.NO_ANSWER, "SIP 480 无人接听"),
        recording_dir="2026/12/07/sv-1",
    )
    wrong = tries(1, AttemptOutcome.WRONG_PERSON, "打错了")
    task(1, reason=TaskReason.WRONG_PERSON, attempts=wrong)
    task(2, reason=TaskReason.UNCLEAR, attempts=tries(2, AttemptOutcome.INCOMPLETE, "还行吧…嗯"))
    task(1, kind=TaskKind.ON_SITE, reason=TaskReason.SAMPLED, sampled=True)
    task(4, number="13400134099", state=TaskState.SCHEDULED, next_at=now + timedelta(hours=2))
    task(2, number="13600136099", state=TaskState.SKIPPED, reason=TaskReason.DO_NOT_CALL)

    # The fourth ticket's citizen said it is not solved: 差评, awaiting 回访复核.
    review = numbers[3]
    task(
        3,
        state=TaskState.DONE,
        attempts=tries(1, AttemptOutcome.COMPLETED, "按键 2，按键 1"),
        resolution_source=AnswerSource.KEY,
        rating_source=AnswerSource.VOICE,
        comment=COMPLAINT,
        resolution=Resolution.UNSOLVED,
        rating=Rating.VERY_DISSATISFIED,
    )
    store.transition(review, Action.CALLBACK, "system", now, note="回访")
    store.transition(
        review, Action.RATE, "system", now, rating="非常不满意", resolution="未解决", note=COMPLAINT
    )
    return first, review


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    recordings = tmp_path / "recordings"
    settings = Settings(node={"data_dir": tmp_path}, recordings={"dir": recordings})
    url = settings.tickets_database_url
    store = TicketStore(url)
    accounts = Accounts(url, settings.web, hasher=FAST)
    for name, password, role, agent_id in USERS.values():
        accounts.add_user(name, role, password, agent_id=agent_id)
    first, review = _seed(store, recordings)
    context = WebContext(settings, console=FakeConsole(), tickets=store, accounts=accounts)
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
        yield Served(f"http://127.0.0.1:{port}", store, VerificationStore(store), first, review)
    finally:
        server.should_exit = True
        thread.join(10)
        accounts.close()
        store.close()


def sign_in(new_page: Any, served: Served, who: str, target: str) -> Any:
    page = new_page()
    name, password, _, _ = USERS[who]
    page.goto(f"{served.base}/login?next={quote(target)}")
    fill_sign_in(page, name, password)
    page.wait_for_url(served.base + target)
    return page


def test_a_verifier_enters_an_answer_and_the_supervisor_sends_a_disputed_one_back(
    served: Served,
    browser_page: Any,  # the fixture of tests.support.browser (a conftest plugin)
) -> None:
    task = served.first
    verifier = sign_in(browser_page, served, "verifier", "/verification")
    assert verifier.locator('nav.nav a[href="/verification"]').inner_text() == "回访工作台"
    assert verifier.locator("#tab-person").get_attribute("aria-current") == "page"
    assert "自动回访进行中" in verifier.inner_text("#vf-survey")
    listed = verifier.inner_text("#vf-tasks")
    assert verifier.locator("#vf-tasks tbody tr").count() == 3
    assert "138****8000" in listed and "13800138000" not in listed
    assert "多次未接通" in listed and "非本人号码" in listed and "天河区人民政府" in listed
    assert "剩余" in listed
    save_screenshot(verifier, "verification")

    verifier.click(f'#vf-tasks a[href="/verification/tasks/{task.id}"]')
    verifier.wait_for_selector("#vf-take")
    assert "路灯坏了一个星期" in verifier.inner_text("#vf-content")
    assert verifier.locator("#vf-attempts tbody tr").count() == 3
    assert verifier.locator("#vf-audio").count() == 1
    with verifier.expect_navigation():
        verifier.click("#vf-take button")
    verifier.wait_for_selector("#tk-notice.tk-shown")
    assert "已领取" in verifier.inner_text("#tk-notice")
    assert "wu" in verifier.inner_text("#vf-holder")
    form = verifier.locator("#vf-result")
    form.locator('select[name="resolution"]').select_option("已解决")
    form.locator('select[name="rating"]').select_option("满意")
    form.locator('textarea[name="comment"]').fill("路灯已经修好了，谢谢")
    save_screenshot(verifier, "verification-task")
    with verifier.expect_navigation():
        form.locator("button[type=submit]").click()
    verifier.wait_for_selector("#tk-notice.tk-shown")
    assert "工单现为「评价」" in verifier.inner_text("#tk-notice")
    assert verifier.inner_text("#vf-state").strip() == "已回访"
    assert "满意" in verifier.inner_text("#vf-answers")
    rated = served.store.get(task.ticket)
    assert rated.status is Status.RATED and not rated.verification_review
    assert served.tasks.get(task.id).assigned_to == "wu"

    # The supervisor sends the disputed ticket back to its department (重办).
    centre = sign_in(browser_page, served, "supervisor", f"/tickets/{served.review}")
    panel = centre.locator("#tk-verification-review")
    assert "非常不满意" in panel.inner_text() and COMPLAINT in panel.inner_text()
    reopen = centre.locator("#tk-form-reopen")
    assert reopen.locator('textarea[name="reason"]').input_value() == COMPLAINT
    assert centre.locator("#tk-form-uphold").count() == 1
    with centre.expect_navigation():
        reopen.locator("button[type=submit]").click()
    centre.wait_for_selector("#tk-notice.tk-shown")
    assert "已完成" in centre.inner_text("#tk-notice")
    assert centre.inner_text("#tk-status").strip() == "办理"
    assert centre.locator("#tk-verification-review").count() == 0
    again = served.store.get(served.review)
    assert again.status is Status.HANDLING and again.redo_count == 1
    assert again.audit[-1].reason == COMPLAINT
