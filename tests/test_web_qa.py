"""web.routers.qa with FastAPI's TestClient: the calls list and its filters, a
call's page, recordings streamed with range requests, refusals (roles, foreign
and crafted ids, traversal), integrity, scores saved and audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from recordings import manifest as mf
from recordings.catalog import CallCatalog
from sip_config import Settings
from tests.support.calls import T0, make_call, wav_bytes
from tickets.lifecycle import Action
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore
from web.app import create_app
from web.audit import MemoryAuditLog
from web.context import WebContext
from web.csrf import require_csrf
from web.roles import Principal, Role, declared_roles
from web.routers import qa

CSRF = "csrf-token-of-this-session"
QA = Principal(1, "qa1", Role.QA)
SUPERVISOR = Principal(2, "boss", Role.SUPERVISOR)
ADMIN = Principal(3, "root", Role.ADMIN)
AGENT_1001 = Principal(4, "zhang", Role.AGENT, agent_id="1001")
AGENT_1002 = Principal(5, "li", Role.AGENT, agent_id="1002")
INTEGRATION = Principal(6, "bi", Role.QA, via="token")


class FakeAccounts:
    """Signs every request in as ``principal`` (None: nobody), with a session CSRF
    token, and keeps the audit log in memory."""

    def __init__(self) -> None:
        self.principal: Principal | None = None
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Any) -> Principal | None:
        if self.principal is not None and self.principal.via == "session":
            request.state.csrf_token = CSRF
        return self.principal


class Node:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "recordings"
        self.settings = Settings(node={"data_dir": tmp_path}, recordings={"dir": self.root})
        self.tickets = TicketStore(self.settings.tickets_database_url)
        self.catalog = CallCatalog(self.settings.tickets_database_url)
        self.accounts = FakeAccounts()
        context = WebContext(
            self.settings, tickets=self.tickets, catalog=self.catalog, accounts=self.accounts
        )
        self.app = create_app(context)
        self.client = TestClient(self.app)

    def add(self, call_id: str, **options: Any) -> Path:
        directory = make_call(self.root, call_id, **options)
        self.catalog.add_from_directory(directory, self.root)
        return directory

    def as_(self, principal: Principal | None) -> TestClient:
        self.accounts.principal = principal
        return self.client

    def close(self) -> None:
        self.client.close()
        self.catalog.close()
        self.tickets.close()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    ticket = made.tickets.create(
        TicketDraft(
            caller_number="13800138000",
            request_type=RequestType.COMPLAINT,
            domain="城市管理",
            content="楼下路灯坏了，身份证440106199001011234",
            call_id="c1",
        ),
        T0,
    )
    made.tickets.transition(ticket.number, Action.ACCEPT, "1001", T0 + timedelta(minutes=1))
    made.add("c1", agent="1001", ticket=ticket.number, seconds=4.0)
    made.add(
        "c2",
        started=T0 + timedelta(hours=1),
        agent="1002",
        seat_group="交通",
        domain="交通运输",
        request_type="咨询",
    )
    made.add("c3", started=T0 + timedelta(hours=2), agent="1001", emergency="119", seconds=2.0)
    made.catalog.set_rating(ticket.number, "满意")
    yield made
    made.close()


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["call_id"] for c in response.json()["calls"]]


# -- the list and its filters ---------------------------------------------------------


def test_api_list_with_filters(node: Node) -> None:
    client = node.as_(QA)
    assert ids(client.get("/api/calls")) == ["c3", "c2", "c1"]
    assert ids(client.get("/api/calls", params={"agent": "1001"})) == ["c3", "c1"]
    assert ids(client.get("/api/calls", params={"seat_group": "交通"})) == ["c2"]
    assert ids(client.get("/api/calls", params={"domain": "城市管理"})) == ["c3", "c1"]
    assert ids(client.get("/api/calls", params={"request_type": "投诉"})) == ["c3", "c1"]
    assert ids(client.get("/api/calls", params={"emergency": "yes"})) == ["c3"]
    assert ids(client.get("/api/calls", params={"emergency": "no"})) == ["c2", "c1"]
    assert ids(client.get("/api/calls", params={"min_duration": "3.5"})) == ["c1"]
    assert ids(client.get("/api/calls", params={"max_duration": "2.5"})) == ["c3"]
    assert ids(client.get("/api/calls", params={"rating": "满意"})) == ["c1"]
    assert ids(client.get("/api/calls", params={"rating": "未评价"})) == ["c3", "c2"]
    # Local days (Asia/Shanghai): T0 is 17:00 there, c3 at 19:00 on the same day.
    assert ids(client.get("/api/calls", params={"start": "2026-11-02", "end": "2026-11-02"})) == [
        "c3",
        "c2",
        "c1",
    ]
    assert ids(client.get("/api/calls", params={"start": "2026-11-03"})) == []
    assert ids(client.get("/api/calls", params={"start": "2026-11-02T18:30"})) == ["c3"]
    # Empty fields, as a form sends them, mean any.
    assert ids(client.get("/api/calls", params={"agent": "", "min_duration": ""})) == [
        "c3",
        "c2",
        "c1",
    ]
    page = client.get("/api/calls", params={"limit": 2, "page": 2}).json()
    assert (page["total"], [c["call_id"] for c in page["calls"]]) == (3, ["c1"])
    assert client.get("/api/calls", params={"min_duration": "long"}).status_code == 422
    assert client.get("/api/calls", params={"start": "yesterday"}).status_code == 422
    assert client.get("/api/calls", params={"emergency": "maybe"}).status_code == 422


def test_numbers_are_masked_for_qa_and_shown_to_supervisors(node: Node) -> None:
    masked = node.as_(QA).get("/api/calls").json()["calls"][0]["caller"]
    assert masked == "138****8000"
    assert node.as_(SUPERVISOR).get("/api/calls").json()["calls"][0]["caller"] == "13800138000"
    details = node.as_(QA).get("/api/calls/c1").json()
    assert details["call"]["caller"] == "138****8000"
    assert details["ticket"]["caller_number"] == "138****8000"
    assert "440106199001011234" not in details["ticket"]["content"]
    assert "13912345678" not in details["transcript"][0]["text"]
    page = node.as_(QA).get("/qa/calls/c1").text
    assert "13800138000" not in page and "13912345678" not in page
    assert "440106199001011234" not in page
    assert "13800138000" not in node.as_(QA).get("/qa").text
    assert "13912345678" in node.as_(ADMIN).get("/api/calls/c1").text


def test_agents_see_only_their_own_calls(node: Node) -> None:
    client = node.as_(AGENT_1001)
    assert ids(client.get("/api/calls")) == ["c3", "c1"]
    assert ids(client.get("/api/calls", params={"agent": "1002"})) == ["c3", "c1"]
    assert client.get("/api/calls/c1").status_code == 200
    for path in (
        "/api/calls/c2",
        "/api/calls/c2/integrity",
        "/api/calls/c2/recordings/qa",
        "/qa/calls/c2",
    ):
        assert client.get(path).status_code == 404, path
    assert ids(node.as_(Principal(9, "new", Role.AGENT)).get("/api/calls")) == []
    page = node.as_(AGENT_1001).get("/qa").text
    assert "c1" in page and "/qa/calls/c2" not in page


# -- a call ----------------------------------------------------------------------------


def test_call_details_transcript_ticket_and_legs(node: Node) -> None:
    details = node.as_(QA).get("/api/calls/c1").json()
    assert details["call"]["call_id"] == "c1" and details["call"]["rating"] == "满意"
    assert [g["leg"] for g in details["legs"]] == ["qa", "caller", "agent", "played"]
    assert details["legs"][2]["offset_s"] == 1.0
    # call_s when the hub gave it, else start_s; in the order said.
    assert [(line["leg"], line["at"]) for line in details["transcript"]] == [
        ("caller", 0.5),
        ("agent", 1.6),
    ]
    ticket = details["ticket"]
    assert ticket["number"] == details["call"]["ticket"]
    assert [e["action"] for e in ticket["history"]] == ["create", "accept"]


def test_call_page(node: Node) -> None:
    page = node.as_(QA).get("/qa/calls/c1")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<audio id="qa-audio"' in html and 'src="/api/calls/c1/recordings/qa"' in html
    for leg in ("qa", "caller", "agent", "played"):
        assert f'value="{leg}" data-url="/api/calls/c1/recordings/{leg}"' in html
    assert 'data-at="0.5"' in html and 'data-at="1.6"' in html
    assert "录音完整" in html and "完整性校验失败" not in html
    assert node.tickets.find()[0].number in html and "工单历史（2）" in html
    for criterion in node.settings.web.qa_criteria:
        assert f'name="score:{criterion}"' in html
    assert f'name="csrf_token" value="{CSRF}"' in html
    assert 'src="/static/qa.js"' in html
    assert node.as_(QA).get("/static/qa.js").status_code == 200
    agent_page = node.as_(AGENT_1001).get("/qa/calls/c1").text
    assert "保存评分" not in agent_page  # agents do not score


def test_list_page(node: Node) -> None:
    html = node.as_(QA).get("/qa", params={"emergency": "yes"}).text
    assert "共 1 通" in html and 'href="/qa/calls/c3"' in html and "/qa/calls/c1" not in html
    assert '<option value="yes" selected>是</option>' in html


# -- recordings -------------------------------------------------------------------------


def test_recordings_stream_with_range_requests(node: Node) -> None:
    client = node.as_(QA)
    data = (node.root / "2026/11/02/c1/qa.wav").read_bytes()
    size = len(data)
    whole = client.get("/api/calls/c1/recordings/qa")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    for header, start, end in (
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=100-", 100, size - 1),
        (f"bytes=-{50}", size - 50, size - 1),
    ):
        part = client.get("/api/calls/c1/recordings/qa", headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == data[start : end + 1]
        assert part.headers["content-type"] == "audio/wav"
    refused = client.get("/api/calls/c1/recordings/qa", headers={"Range": f"bytes={size}-"})
    assert refused.status_code == 416
    assert refused.headers["content-range"] == f"bytes */{size}"
    caller = client.get("/api/calls/c1/recordings/caller")
    assert caller.content == (node.root / "2026/11/02/c1/caller.wav").read_bytes()
    assert client.head("/api/calls/c1/recordings/qa").headers["content-length"] == str(size)


def test_traversal_and_foreign_ids_are_refused(node: Node, tmp_path: Path) -> None:
    client = node.as_(QA)
    for path in (
        "/api/calls/c1/recordings/manifest",
        "/api/calls/c1/recordings/manifest.json",
        "/api/calls/c1/recordings/..%2Fmanifest.json",
        "/api/calls/c1/recordings/%2E%2E%2F%2E%2E%2Fc2%2Fqa",
        "/api/calls/c1/recordings/%2Fetc%2Fpasswd",
        "/api/calls/c1/recordings/qa.wav",
        "/api/calls/..%2Fc1/recordings/qa",
        "/api/calls/%2E%2E/recordings/qa",
        "/api/calls/nope/recordings/qa",
        "/api/calls/nope",
        "/api/calls/nope/integrity",
        "/qa/calls/nope",
    ):
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert b"RIFF" not in response.content, path
    # A manifest edited to name files outside the call (relative, absolute, symlink).
    secret = tmp_path / "secret.wav"
    secret.write_bytes(wav_bytes(0.2))
    directory = node.root / "2026/11/02/c2"
    (directory / "agent.wav").unlink()
    (directory / "agent.wav").symlink_to(secret)
    manifest = mf.read(directory)
    manifest.legs[0].file = "../../../../../secret.wav"
    manifest.legs[1].file = str(secret)
    mf.write(directory, manifest)
    for leg in ("caller", "played", "agent"):
        assert client.get(f"/api/calls/c2/recordings/{leg}").status_code == 404, leg
    # A call directory that is a symlink out of the recordings root.
    outside = make_call(tmp_path / "elsewhere", "c9")
    linked = node.root / "2026/11/02/c9"
    linked.symlink_to(outside, target_is_directory=True)
    node.catalog.add_from_directory(outside, tmp_path / "elsewhere")  # catalogued elsewhere
    assert client.get("/api/calls/c9/recordings/qa").status_code in (403, 404)
    assert client.get("/api/calls/c9").status_code in (403, 404)


# -- integrity ----------------------------------------------------------------------------


def test_a_tampered_recording_shows_as_failed(node: Node) -> None:
    client = node.as_(QA)
    assert client.get("/api/calls/c2/integrity").json()["ok"] is True
    wav = node.root / "2026/11/02/c2/caller.wav"
    data = bytearray(wav.read_bytes())
    data[100] ^= 0x55
    wav.write_bytes(bytes(data))
    report = client.get("/api/calls/c2/integrity").json()
    assert report["ok"] is False
    assert report["problems"] == ["caller.wav: SHA-256 does not match the manifest"]
    assert [g["ok"] for g in report["legs"]] == [False, True, True, True]
    html = client.get("/qa/calls/c2").text
    assert "完整性校验失败" in html and "caller.wav: SHA-256 does not match the manifest" in html


# -- scores ---------------------------------------------------------------------------------


def full_score(node: Node, value: float = 8) -> dict[str, float]:
    return {criterion: value for criterion in node.settings.web.qa_criteria}


def test_a_score_is_saved_and_audited(node: Node) -> None:
    client = node.as_(QA)
    response = client.post(
        "/api/calls/c1/score",
        json={"scores": full_score(node), "comment": "开场规范，答复准确"},
        headers={"X-CSRF-Token": CSRF},
    )
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["total"] == 8 * len(node.settings.web.qa_criteria)
    assert saved["scored_by"] == "qa1"
    assert [s.id for s in node.catalog.scores("c1")] == [saved["id"]]
    entries = node.accounts.audit.entries(action="qa.score")
    assert len(entries) == 1
    assert (entries[0].username, entries[0].role, entries[0].target) == ("qa1", "qa", "c1")
    assert entries[0].detail["total"] == saved["total"]
    assert client.get("/api/calls/c1").json()["scores"][0]["id"] == saved["id"]
    assert ids(client.get("/api/calls", params={"agent": "1001"})) == ["c3", "c1"]
    assert client.get("/api/calls").json()["calls"][2]["qa_total"] == saved["total"]


def test_the_score_form_posts_and_redirects(node: Node) -> None:
    client = node.as_(SUPERVISOR)
    form = {f"score:{c}": "9.5" for c in node.settings.web.qa_criteria}
    response = client.post(
        "/qa/calls/c2/score",
        data={**form, "comment": "很好", "csrf_token": CSRF},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/qa/calls/c2?saved=1#score"
    [score] = node.catalog.scores("c2")
    assert score.comment == "很好" and score.scored_by == "boss"
    assert node.accounts.audit.entries(action="qa.score")[0].target == "c2"
    page = client.get("/qa/calls/c2?saved=1").text
    assert "评分已保存" in page and 'value="9.5"' in page


def test_scores_need_csrf_the_criteria_and_a_reviewer(node: Node) -> None:
    client = node.as_(QA)
    body = {"scores": full_score(node)}
    assert client.post("/api/calls/c1/score", json=body).status_code == 403
    bad_token = client.post("/api/calls/c1/score", json=body, headers={"X-CSRF-Token": "x"})
    assert bad_token.status_code == 403
    form = {f"score:{c}": "5" for c in node.settings.web.qa_criteria}
    assert client.post("/qa/calls/c1/score", data=form).status_code == 403
    headers = {"X-CSRF-Token": CSRF}
    partial = {"scores": {"开场规范": 5}}
    assert client.post("/api/calls/c1/score", json=partial, headers=headers).status_code == 422
    extra = {"scores": {**full_score(node), "态度": 5}}
    assert client.post("/api/calls/c1/score", json=extra, headers=headers).status_code == 422
    too_high = {"scores": full_score(node, 11)}
    assert client.post("/api/calls/c1/score", json=too_high, headers=headers).status_code == 422
    assert client.post("/api/calls/nope/score", json=body, headers=headers).status_code == 404
    agent = node.as_(AGENT_1001).post("/api/calls/c1/score", json=body, headers=headers)
    assert agent.status_code == 403
    assert node.catalog.scores("c1") == [] and node.accounts.audit.entries() == []
    # An integration with an API token sends no CSRF token.
    token = node.as_(INTEGRATION).post("/api/calls/c1/score", json=body)
    assert token.status_code == 201


# -- roles ------------------------------------------------------------------------------------

READS = (
    "/qa",
    "/qa/calls/c1",
    "/api/calls",
    "/api/calls/c1",
    "/api/calls/c1/integrity",
    "/api/calls/c1/recordings/qa",
)


def test_nobody_signed_in_gets_401_or_the_sign_in_page(node: Node) -> None:
    client = node.as_(None)
    for path in READS:
        answer = client.get(path, follow_redirects=False)
        if path.startswith("/api/"):
            assert answer.status_code == 401, path
        else:  # a page: sign in first, then back here
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/login?next=" + quote(path, safe=""), path
    assert client.post("/api/calls/c1/score", json={"scores": {}}).status_code == 401
    assert client.post("/qa/calls/c1/score", data={}).status_code == 401


@pytest.mark.parametrize("principal", [QA, SUPERVISOR, ADMIN, AGENT_1001])
def test_every_role_may_read_its_calls(node: Node, principal: Principal) -> None:
    client = node.as_(principal)
    for path in READS:
        assert client.get(path).status_code == 200, path


def test_role_matrix(node: Node) -> None:
    # after web.app: web.audit imports cyclically
    from tests.support.web_roles import assert_role_matrix

    readers = {Role.AGENT, Role.QA, Role.SUPERVISOR, Role.ADMIN}
    reviewers = {Role.QA, Role.SUPERVISOR, Role.ADMIN}
    body = {"scores": full_score(node)}
    assert_role_matrix(
        node.app,
        {
            **{("GET", path): readers for path in READS},
            ("POST", "/api/calls/c1/score"): reviewers,
            ("POST", "/qa/calls/c1/score"): reviewers,
        },
        bodies={("POST", "/api/calls/c1/score"): body},
    )


def test_routes_declare_their_roles() -> None:
    # The router's own routes: FastAPI 0.163 keeps included routers unflattened
    # in app.routes, so a walk of app.routes finds no APIRoute at all.
    routes = [
        (route.path, method, route)
        for route in qa.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    ]
    assert len(routes) == 9

    def roles(route: APIRoute) -> frozenset[Role] | None:
        found, stack = [], [route.dependant]
        while stack:
            dependant = stack.pop()
            if dependant.call is not None:
                found.append(dependant.call)
            stack.extend(dependant.dependencies)
        return declared_roles(found)

    for path, method, route in routes:
        declared = roles(route)
        assert declared, (path, method)
        if method == "POST":
            assert Role.AGENT not in declared, path
            assert require_csrf in [d.call for d in route.dependant.dependencies], path


def test_no_catalog_answers_503(tmp_path: Path) -> None:
    accounts = FakeAccounts()
    accounts.principal = QA
    app = create_app(WebContext(Settings(node={"data_dir": tmp_path}), accounts=accounts))
    with TestClient(app) as client:
        assert client.get("/api/calls").status_code == 503


def test_times_on_pages_are_local(node: Node) -> None:
    html = node.as_(QA).get("/qa").text
    local = (T0 + timedelta(hours=8)).replace(tzinfo=None)
    assert local.strftime("%Y-%m-%d %H:%M:%S") in html
    assert datetime(2026, 11, 2, 9, 0, tzinfo=UTC) == T0
