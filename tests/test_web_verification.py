"""The 回访工作台 and the 回访 API (web.routers.verification, verification_pages) on a
real ticket store (SQLite) and the shipped department directory: who may use them,
the tabs and filters with masked numbers, taking a task, a verifier's answers
reaching the ticket (a 差评 leaves it awaiting 回访复核; a ticket reopened
meanwhile is a 409 and the task keeps the answers), a 现场核查 with its notes and
photos, the call through a fake console, a recording served from the recordings
directory only, the figures, and the centre's 回访复核 on the ticket page."""

from __future__ import annotations

import dataclasses
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from recordings import manifest as manifests
from sip_config import Settings
from tests.support.web_roles import assert_role_matrix, route_roles
from tickets.lifecycle import Action
from tickets.model import RequestType, Status, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import (
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from web.app import create_app
from web.audit import MemoryAuditLog
from web.context import WebContext
from web.roles import Principal, Role

TIANHE = "district.tianhe"
USERS = {
    "wu": Principal(1, "wu", Role.VERIFIER, agent_id="1003", via="token"),
    "zhou": Principal(2, "zhou", Role.VERIFIER, via="token"),
    "sup": Principal(3, "sup", Role.SUPERVISOR, via="token"),
    "qa": Principal(4, "qa", Role.QA, via="token"),
    "li": Principal(5, "li", Role.AGENT, agent_id="1001", via="token"),
}
CITIZEN, MASKED = "13800138000", "138****8000"
NEIGHBOUR = "13900139000"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
VERIFIERS = {Role.VERIFIER, Role.SUPERVISOR, Role.ADMIN}


class FakeAccounts:
    """Signs in the user named by ``X-Test-User``."""

    def __init__(self) -> None:
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Request) -> Principal | None:
        return USERS.get(request.headers.get("X-Test-User", ""))


class FakeConsole:
    """The hub's 回访 side as the web sees it: a survey status and verifiers' calls."""

    def __init__(self) -> None:
        self.status: dict[str, Any] | None = {"paused": False, "calls": 2, "max_calls": 4}
        self.refusal = ""
        self.calls: list[tuple[int, str]] = []

    def has_agents(self) -> bool:
        return True

    def agent_view(self, agent_id: str) -> dict[str, Any]:
        raise LookupError(agent_id)

    def verification_status(self) -> dict[str, Any] | None:
        return self.status

    async def call_for_verification(self, task_id: int, agent_id: str) -> str:
        self.calls.append((task_id, agent_id))
        return self.refusal


@dataclasses.dataclass
class Node:
    client: TestClient
    store: TicketStore
    tasks: VerificationStore
    console: FakeConsole
    context: WebContext
    recordings: Path

    def get(self, user: str, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params, headers={"X-Test-User": user})

    def post(self, user: str, url: str, body: Any = None) -> Any:
        return self.client.post(url, json=body or {}, headers={"X-Test-User": user})

    def closed(self, caller: str = CITIZEN, content: str = "天河路100号路灯坏了") -> str:
        """A complaint the district answered and the centre closed an hour ago."""
        now = datetime.now(UTC)
        draft = TicketDraft(
            caller_number=caller,
            request_type=RequestType.COMPLAINT,
            content=f"{content}，我的电话{caller}",
            address="天河区天河路100号",
        )
        number = self.store.create(draft, now - timedelta(days=3)).number
        for action, options in [
            (Action.ACCEPT, {}),
            (Action.DISPATCH, {"department": TIANHE}),
            (Action.SIGN, {}),
            (Action.START, {}),
            (Action.REPLY, {"note": "已更换灯具，路灯恢复照明"}),
            (Action.APPROVE_REPLY, {}),
            (Action.CLOSE, {}),
        ]:
            self.store.transition(number, action, "someone", now - timedelta(hours=1), **options)
        return number

    def task(
        self,
        ticket: str,
        number: str = CITIZEN,
        kind: TaskKind = TaskKind.CALL,
        state: TaskState = TaskState.NEEDS_PERSON,
        **fields: Any,
    ) -> VerificationTask:
        now = datetime.now(UTC)
        task = VerificationTask(
            ticket=ticket,
            number=number,
            kind=kind,
            state=state,
            created_at=now - timedelta(minutes=30),
            due_by=now + timedelta(days=2, hours=3),
            department=TIANHE,
            seat_group="综合",
            **fields,
        )
        (added,) = self.tasks.add([task])
        return added

    def result(self, user: str, task: VerificationTask, **body: Any) -> Any:
        return self.post(user, f"/api/verification/tasks/{task.id}/result", body)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    recordings = tmp_path / "recordings"
    settings = Settings(
        node={"data_dir": tmp_path},
        recordings={"dir": recordings},
        tickets={"attachment_max_mb": 0.01},
    )
    console = FakeConsole()
    with TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}") as store:
        context = WebContext(settings, console=console, tickets=store, accounts=FakeAccounts())
        with TestClient(create_app(context)) as client:
            yield Node(client, store, VerificationStore(store), console, context, recordings)


def unreached(ticket: str, node: Node, number: str = CITIZEN) -> VerificationTask:
    """A call task the node gave up on after three tries (多次未接通)."""
    at = datetime.now(UTC) - timedelta(hours=5)
    tries = tuple(
        Attempt(at + timedelta(hours=n), AttemptOutcome.NO_ANSWER, f"c-{n}", detail="480")
        for n in range(3)
    )
    return node.task(ticket, number, reason=TaskReason.UNREACHED, attempts=tries)


# -- who may use it -----------------------------------------------------------------------

NO_TASK = 987654


def test_verifiers_supervisors_and_admins_use_the_console_and_its_api(node: Node) -> None:
    api = f"/api/verification/tasks/{NO_TASK}"
    matrix = {
        ("GET", "/verification"): VERIFIERS,
        ("GET", f"/verification/tasks/{NO_TASK}"): VERIFIERS,
        ("GET", "/api/verification/tasks"): VERIFIERS,
        ("GET", api): VERIFIERS,
        ("POST", f"{api}/take"): VERIFIERS,
        ("POST", f"{api}/call"): VERIFIERS,
        ("POST", f"{api}/result"): VERIFIERS,
        ("POST", f"{api}/on_site"): VERIFIERS,
        ("GET", f"{api}/recording/qa"): VERIFIERS,
        ("GET", "/api/report/verification"): {Role.SUPERVISOR, Role.ADMIN},
    }
    assert_role_matrix(
        node.client.app,  # type: ignore[arg-type]
        matrix,
        bodies={
            ("POST", f"{api}/result"): {"reached": True, "rating": "满意"},
            ("POST", f"{api}/on_site"): {"resolution": "已解决", "notes": "已修复"},
        },
    )
    declared = route_roles(node.client.app, prefix="/api/verification")  # type: ignore[arg-type]
    one = "/api/verification/tasks/{task_id}"
    assert declared == {  # every route of the router is in the matrix
        ("GET", "/api/verification/tasks"): VERIFIERS,
        ("GET", one): VERIFIERS,
        ("POST", f"{one}/take"): VERIFIERS,
        ("POST", f"{one}/call"): VERIFIERS,
        ("POST", f"{one}/result"): VERIFIERS,
        ("POST", f"{one}/on_site"): VERIFIERS,
        ("GET", f"{one}/recording/{{leg}}"): VERIFIERS,
    }
    anonymous = node.client.get("/api/verification/tasks")
    assert anonymous.status_code == 401
    refused = node.get("li", "/api/verification/tasks")
    assert refused.status_code == 403 and "verifier" in refused.json()["detail"]


# -- the console's tabs and the API's filters ---------------------------------------------------


def test_the_console_shows_each_tab_with_masked_numbers_and_countdowns(node: Node) -> None:
    first, second = node.closed(), node.closed(NEIGHBOUR, "石牌街垃圾站很臭")
    person = unreached(first, node)
    on_site = node.task(first, kind=TaskKind.ON_SITE, reason=TaskReason.DISPUTED)
    node.task(second, NEIGHBOUR, state=TaskState.SCHEDULED, next_at=datetime.now(UTC))
    node.task(second, "", state=TaskState.SKIPPED, reason=TaskReason.ANONYMOUS, round=2)

    page = node.get("wu", "/verification")
    assert page.status_code == 200
    html = page.text
    assert "回访工作台" in html and "自动回访进行中，通话中 2/4 路" in html
    assert 'id="tab-person" aria-current="page">待人工回访<span class="tk-count">1<' in html
    assert '现场核查<span class="tk-count">1<' in html and '不回访<span class="tk-count">1<' in html
    assert f'href="/verification/tasks/{person.id}">{first}</a>' in html
    assert MASKED in html and CITIZEN not in html  # a verifier calls through the node
    assert "多次未接通" in html and "天河区人民政府" in html and "剩余2天" in html
    assert "天河路100号路灯坏了，我的电话138****8000" in html  # the summary, masked too
    assert f'/verification/tasks/{on_site.id}"' not in html  # in its own tab
    on_site_tab = node.get("wu", "/verification", tab="on_site").text
    assert f'/verification/tasks/{on_site.id}"' in on_site_tab and "结果有争议" in on_site_tab
    skipped = node.get("wu", "/verification", tab="skipped").text
    assert "匿名来电" in skipped and "（匿名）" in skipped and "第2轮" in skipped
    assert CITIZEN in node.get("sup", "/verification").text  # supervisors see numbers in full

    node.console.status = {"paused": True, "calls": 0, "max_calls": 4}
    assert "自动回访已暂停" in node.get("wu", "/verification").text
    node.console.status = None
    assert "自动回访未开启" in node.get("wu", "/verification").text

    listed = node.get("wu", "/api/verification/tasks", state="needs_person").json()["items"]
    assert {t["id"] for t in listed} == {person.id, on_site.id}
    assert listed[0]["phone_number"] == MASKED and listed[0]["tries"] == 3
    assert listed[0]["department_name"] == "天河区人民政府"
    only_site = node.get("wu", "/api/verification/tasks", kind="on_site").json()["items"]
    assert [t["id"] for t in only_site] == [on_site.id]
    of_second = node.get("wu", "/api/verification/tasks", ticket=second).json()["items"]
    assert {t["state"] for t in of_second} == {"scheduled", "skipped"}
    assert node.get("wu", "/api/verification/tasks", mine=True).json()["items"] == []
    assert node.get("wu", "/api/verification/tasks", state="nonsense").status_code == 422


def test_taking_a_task_makes_it_the_verifiers_and_others_are_refused(node: Node) -> None:
    task = unreached(node.closed(), node)
    taken = node.post("wu", f"/api/verification/tasks/{task.id}/take")
    assert taken.status_code == 200 and taken.json()["assigned_to"] == "wu"
    assert taken.json()["may_take"] is False
    mine = node.get("wu", "/api/verification/tasks", mine=True).json()["items"]
    assert [t["id"] for t in mine] == [task.id]
    refused = node.post("zhou", f"/api/verification/tasks/{task.id}/take")
    assert refused.status_code == 409 and "已由 wu 领取" in refused.json()["detail"]
    answered = node.result("zhou", task, resolution="已解决", rating="满意")
    assert answered.status_code == 409 and "wu" in answered.json()["detail"]
    over = node.post("sup", f"/api/verification/tasks/{task.id}/take")  # a supervisor reassigns
    assert over.status_code == 200 and node.tasks.get(task.id).assigned_to == "sup"
    assert node.post("wu", f"/api/verification/tasks/{NO_TASK}/take").status_code == 404
    audited = [e.action for e in node.context.accounts.audit.recorded]
    assert audited.count("verification.take") == 2


# -- a verifier's answers -------------------------------------------------------------------


def test_answers_rate_the_ticket_and_a_bad_rating_leaves_it_under_review(node: Node) -> None:
    good, bad = node.closed(), node.closed(NEIGHBOUR, "石牌街垃圾站很臭")
    solved = node.result("wu", unreached(good, node), resolution="已解决", rating="满意")
    assert solved.status_code == 200, solved.text
    body = solved.json()
    assert body["ticket_status"] == "rated" and body["verification_review"] is False
    assert body["task"]["state"] == "done" and body["task"]["answered_by"] == "人工录入"
    assert [a["by"] for a in body["task"]["attempts"]][-1] == "wu"
    rated = node.store.get(good)
    assert rated.status is Status.RATED and rated.rating is not None
    assert [e.action for e in rated.audit][-2:] == ["callback", "rate"]
    assert rated.audit[-1].actor == "wu"

    task = unreached(bad, node, NEIGHBOUR)
    disputed = node.result("wu", task, resolution="未解决", rating="不满意", comment="灯还是不亮")
    assert disputed.status_code == 200 and disputed.json()["verification_review"] is True
    assert node.store.get(bad).verification_review
    assert node.tasks.get(task.id).comment == "灯还是不亮"
    review = node.get("sup", "/api/tickets", verification_review=True).json()["items"]
    assert [t["number"] for t in review] == [bad] and review[0]["verification_review"]
    listed = node.get("sup", "/tickets", verification_review=1).text
    assert bad in listed and good not in listed and "待回访复核" in listed
    assert node.store.get(good).verification_review is False


def test_a_comment_that_disputes_the_result_sends_the_ticket_to_review(node: Node) -> None:
    number = node.closed()
    answered = node.result(
        "wu", unreached(number, node), resolution="已解决", rating="满意", comment="就是走形式"
    )
    assert answered.status_code == 200 and answered.json()["verification_review"] is True
    assert node.store.get(number).audit[-1].action == "flag_review"


def test_answers_for_a_ticket_reopened_meanwhile_stay_on_the_task(node: Node) -> None:
    number = node.closed()
    first = unreached(number, node)
    assert node.result("wu", first, resolution="未解决", rating="非常不满意").status_code == 200
    reopened = node.post(
        "sup", f"/api/tickets/{number}/transitions", {"action": "reopen", "reason": "市民称未修好"}
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "handling"
    merged = unreached(number, node, NEIGHBOUR)  # a caller merged into the ticket
    late = node.result("wu", merged, resolution="已解决", rating="满意", comment="修好了")
    assert late.status_code == 409
    assert "办理" in late.json()["detail"] and "stay on the 回访 task" in late.json()["detail"]
    kept = node.tasks.get(merged.id)
    assert kept.state is TaskState.DONE and kept.rating is not None and kept.comment == "修好了"
    assert node.store.get(number).status is Status.HANDLING  # the ticket is left alone


def test_a_citizen_not_reached_is_a_try_and_bad_input_names_the_field(node: Node) -> None:
    number = node.closed()
    task = node.task(number, state=TaskState.SCHEDULED, next_at=datetime.now(UTC))
    tried = node.result("wu", task, reached=False)
    assert tried.status_code == 200 and tried.json()["ticket_status"] == "closed"
    after = node.tasks.get(task.id)
    assert after.state is TaskState.NEEDS_PERSON and after.assigned_to == "wu"
    assert after.attempts[-1].outcome is AttemptOutcome.NO_ANSWER and after.attempts[-1].by == "wu"
    nothing = node.result("wu", task, reached=True)
    assert nothing.status_code == 422 and "resolution" in nothing.text
    contradictory = node.result("wu", task, reached=False, rating="满意")
    assert contradictory.status_code == 422 and "rating" in contradictory.text
    wrong = node.result("wu", task, rating="还行")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "rating"]
    site = node.task(number, kind=TaskKind.ON_SITE)
    refused = node.result("wu", site, resolution="已解决")
    assert refused.status_code == 409 and "现场核查" in refused.json()["detail"]
    assert node.store.get(number).status is Status.CLOSED


# -- 现场核查 -------------------------------------------------------------------------------


def test_an_on_site_check_needs_notes_and_an_unsolved_finding_flags_the_ticket(
    node: Node,
) -> None:
    number = node.closed()
    site = node.task(number, kind=TaskKind.ON_SITE, reason=TaskReason.SAMPLED, sampled=True)
    url = f"/api/verification/tasks/{site.id}/on_site"
    blank = node.post("wu", url, {"resolution": "未解决", "notes": "  \u3000 "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "notes"]
    assert node.post("wu", url, {"notes": "看过了"}).status_code == 422  # resolution required
    photo = node.client.post(
        f"/api/tickets/{number}/attachments",
        files={"file": ("路灯现场.png", PNG)},
        headers={"X-Test-User": "wu"},
    )
    assert photo.status_code == 201, photo.text
    unknown = node.post(
        "wu", url, {"resolution": "未解决", "notes": "路灯仍不亮", "attachments": [999]}
    )
    assert unknown.status_code == 409 and "999" in unknown.json()["detail"]
    found = node.post(
        "wu",
        url,
        {
            "resolution": "未解决",
            "notes": "夜间到现场，路灯仍不亮",
            "attachments": [photo.json()["id"]],
        },
    )
    assert found.status_code == 200, found.text
    assert found.json()["verification_review"] is True and found.json()["task"]["state"] == "done"
    checked = node.tasks.get(site.id)
    assert checked.notes == "夜间到现场，路灯仍不亮\n现场照片：路灯现场.png"
    ticket = node.store.get(number)
    assert ticket.verification_review and ticket.audit[-1].action == "flag_review"
    assert ticket.audit[-1].reason == "现场核查：未解决"
    again = node.post("wu", url, {"resolution": "已解决", "notes": "再看一次"})
    assert again.status_code == 409

    solved_ticket = node.closed(NEIGHBOUR)
    solved = node.task(solved_ticket, NEIGHBOUR, kind=TaskKind.ON_SITE)
    fine = node.post(
        "wu",
        f"/api/verification/tasks/{solved.id}/on_site",
        {"resolution": "已解决", "notes": "好"},
    )
    assert fine.status_code == 200 and fine.json()["verification_review"] is False
    other = node.closed("13700137000")
    refused = node.client.post(
        f"/api/tickets/{other}/attachments",
        files={"file": ("x.png", PNG)},
        headers={"X-Test-User": "wu"},
    )
    assert refused.status_code == 403 and "现场核查" in refused.json()["detail"]


# -- the call through the node ----------------------------------------------------------------


def test_the_call_rings_the_verifiers_softphone_or_says_why_not(node: Node) -> None:
    task = unreached(node.closed(), node)
    url = f"/api/verification/tasks/{task.id}/call"
    placed = node.post("wu", url)
    assert placed.status_code == 200 and placed.json()["placed"] is True
    assert node.console.calls == [(task.id, "1003")]
    node.console.refusal = "no media worker has room for the call now; try again in a moment"
    refused = node.post("wu", url)
    assert refused.status_code == 409 and refused.json()["detail"] == node.console.refusal
    assert node.post("wu", f"/api/verification/tasks/{NO_TASK}/call").status_code == 404
    node.context.console = None
    assert node.post("wu", url).status_code == 503
    assert [e.action for e in node.context.accounts.audit.recorded].count("verification.call") == 1


# -- recordings ---------------------------------------------------------------------------


def _recording(folder: Path, legs: dict[str, str]) -> bytes:
    """A manifest in ``folder`` naming ``legs`` (leg → file); a short WAV as qa.wav."""
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(folder / "qa.wav"), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(3200))
    manifests.write(
        folder,
        manifests.Manifest(
            call_id=folder.name,
            sip_call_id="",
            node="n1",
            worker="w1",
            caller="12345",
            called=CITIZEN,
            started_at="2026-12-07T10:00:00+08:00",
            sample_rate=8000,
            legs=[manifests.LegRecording(leg, name) for leg, name in legs.items()],
        ),
    )
    return (folder / "qa.wav").read_bytes()


def test_a_tasks_recording_plays_from_the_recordings_directory_only(
    node: Node, tmp_path: Path
) -> None:
    number = node.closed()
    inside = node.recordings / "2026" / "12" / "07" / "hp-1"
    wav = _recording(inside, {"qa": "qa.wav", "escape": "../../../../outside/secret.wav"})
    task = node.task(number, state=TaskState.DONE, recording_dir="2026/12/07/hp-1")
    base = f"/api/verification/tasks/{task.id}/recording"
    played = node.get("wu", f"{base}/qa")
    assert played.status_code == 200 and played.content == wav
    assert played.headers["content-type"] == "audio/wav"
    assert node.get("wu", f"{base}/caller").status_code == 404  # not in the manifest
    assert node.get("wu", f"{base}/escape").status_code == 403  # names a file outside
    shown = node.get("wu", f"/api/verification/tasks/{task.id}").json()
    assert shown["recordings"] == [
        {"leg": "qa", "name": "双声道录音", "url": f"{base}/qa"},
        {"leg": "escape", "name": "escape", "url": f"{base}/escape"},
    ]
    assert "双声道录音" in node.get("wu", f"/verification/tasks/{task.id}").text

    outside = tmp_path / "elsewhere" / "hp-2"
    _recording(outside, {"qa": "qa.wav"})
    for n, directory in enumerate((str(outside), "../elsewhere/hp-2")):
        away = node.task(number, f"1390013900{n}", recording_dir=directory)
        refused = node.get("wu", f"/api/verification/tasks/{away.id}/recording/qa")
        assert refused.status_code == 403, directory
        assert node.get("wu", f"/api/verification/tasks/{away.id}").json()["recordings"] == []
    none = unreached(number, node, "13700137000")
    assert node.get("wu", f"/api/verification/tasks/{none.id}/recording/qa").status_code == 404


# -- the task page ------------------------------------------------------------------------------


def test_the_task_page_shows_the_ticket_the_attempts_and_the_steps(node: Node) -> None:
    number = node.closed()
    task = unreached(number, node)
    html = node.get("wu", f"/verification/tasks/{task.id}").text
    assert "天河路100号路灯坏了" in html and "已更换灯具，路灯恢复照明" in html
    assert MASKED in html and CITIZEN not in html  # the content's number masked too
    assert html.count("无人接听") == 3 and "自动回访" in html
    assert 'id="vf-take"' in html and 'id="vf-call"' in html and 'id="vf-result"' in html
    assert 'id="vf-on-site"' not in html and "在工单管理中查看" not in html
    assert "在工单管理中查看" in node.get("sup", f"/verification/tasks/{task.id}").text
    node.result("wu", task, resolution="已解决", rating="满意", comment="谢谢")
    done = node.get("wu", f"/verification/tasks/{task.id}").text
    assert "谢谢" in done and "人工录入" in done and 'id="vf-result"' not in done
    assert node.get("wu", f"/verification/tasks/{NO_TASK}").status_code == 404


# -- the figures ---------------------------------------------------------------------------------


def test_the_figures_count_answers_per_department_and_seat_group(node: Node) -> None:
    good, bad = node.closed(), node.closed(NEIGHBOUR, "石牌街垃圾站很臭")
    node.result("wu", unreached(good, node), resolution="已解决", rating="满意")
    node.result("wu", unreached(bad, node, NEIGHBOUR), resolution="未解决", rating="不满意")
    node.task(bad, "13700137000", state=TaskState.SCHEDULED)
    node.task(good, "", state=TaskState.SKIPPED, reason=TaskReason.ANONYMOUS)  # not owed a call
    answer = node.get("sup", "/api/report/verification")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    total = report["total"]
    assert (total["due"], total["answered"], total["bad_ratings"]) == (3, 2, 1)
    assert total["verification_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert total["satisfaction_rate"] == 0.5 and total["solved_rate"] == 0.5
    assert total["ratings_by_person"] == 2 and total["ratings_by_key"] == 0
    assert set(report["departments"]) == {"天河区人民政府"} and set(report["seat_groups"]) == {
        "综合"
    }
    assert report["from"] < report["to"]
    empty = node.get(
        "sup", "/api/report/verification", **{"from": "2020-01-01", "to": "2020-01-31"}
    )
    assert empty.json()["total"]["due"] == 0 and empty.json()["departments"] == {}

    page = node.get("sup", "/tickets/figures").text
    assert 'id="vf-figures"' in page and "今日" in page and "本周" in page and "本月" in page
    departments = page.split('id="vf-figures-departments"')[1].split("</table>")[0]
    assert "天河区人民政府" in departments and "66.7%" in departments and "50.0%" in departments
    assert "综合" in page.split('id="vf-figures-seat_groups"')[1].split("</table>")[0]


# -- the centre's 回访复核 on the ticket page -----------------------------------------------------


def _under_review(node: Node, caller: str = CITIZEN) -> str:
    number = node.closed(caller)
    task = unreached(number, node, caller)
    said = node.result("wu", task, resolution="未解决", rating="不满意", comment="路灯晚上还是不亮")
    assert said.json()["verification_review"] is True
    return number


def test_the_ticket_page_reviews_the_answers_with_reopen_and_uphold(node: Node) -> None:
    number = _under_review(node)
    page = node.get("sup", f"/tickets/{number}").text
    panel = page.split('id="tk-verification-review"')[1].split("</section>")[0]
    assert "回访复核" in page and "未解决" in panel and "不满意" in panel
    assert "路灯晚上还是不亮" in panel
    reopen = panel.split('id="tk-form-reopen"')[1].split("</form>")[0]
    assert ">路灯晚上还是不亮</textarea>" in reopen and "required" in reopen
    uphold = panel.split('id="tk-form-uphold"')[1].split("</form>")[0]
    assert '<textarea name="reason" rows="2" required></textarea>' in uphold
    assert "维持办结" in uphold
    listed = page.split('id="tk-verification"')[1].split("</section>")[0]
    assert "电话回访" in listed and "无人接听" in listed and "人工录入" in listed

    qa = node.get("qa", f"/tickets/{number}").text  # reads the answers, decides nothing
    assert 'id="tk-verification-review"' in qa and 'id="tk-form-reopen"' not in qa
    assert "由值班长决定" in qa and "/verification/tasks/" not in qa

    transitions = f"/api/tickets/{number}/transitions"
    bare = node.post("sup", transitions, {"action": "uphold"})
    assert bare.status_code == 409 and "reason" in bare.json()["detail"]
    upheld = node.post(
        "sup", transitions, {"action": "uphold", "reason": "已修复，市民所述为新故障"}
    )
    assert upheld.status_code == 200 and upheld.json()["verification_review"] is False
    assert upheld.json()["status"] == "rated"
    assert 'id="tk-verification-review"' not in node.get("sup", f"/tickets/{number}").text


def test_reopening_from_the_review_starts_the_next_round(node: Node) -> None:
    number = _under_review(node)
    reopened = node.post(
        "sup",
        f"/api/tickets/{number}/transitions",
        {"action": "重办", "reason": "路灯晚上还是不亮"},
    )
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["status"] == "handling" and body["redo_count"] == 1
    assert body["verification_review"] is False and body["resolution"] is None
    agent = node.post(
        "li", f"/api/tickets/{number}/transitions", {"action": "uphold", "reason": "x"}
    )
    assert agent.status_code in (403, 404)
