"""web.routers.tickets: the ticket API against a real store (SQLite; one run on
PostgreSQL), with fake accounts that sign in whoever the test names and a fake
understanding callable in ``WebContext.extras["understand"]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from sip_config import Settings
from tickets.model import Channel, RequestType, Status, TicketDraft
from tickets.store import TicketStore
from web.app import create_app
from web.audit import MemoryAuditLog
from web.context import WebContext
from web.roles import Principal, Role

USERS = {  # signed in with API tokens, but for the browser
    "sup": Principal(1, "sup", Role.SUPERVISOR, via="token"),
    "admin": Principal(2, "admin", Role.ADMIN, via="token"),
    "qa": Principal(3, "qa", Role.QA, via="token"),
    "li": Principal(4, "li", Role.AGENT, agent_id="1001", via="token"),
    "wang": Principal(5, "wang", Role.AGENT, agent_id="1002", via="token"),
    "portal": Principal(6, "portal", Role.SUPERVISOR, via="token"),
    "browser": Principal(7, "browser", Role.SUPERVISOR, via="session"),
    "tianhe": Principal(
        8, "tianhe", Role.DEPARTMENT_HANDLER, via="token", department="district.tianhe"
    ),
}
CSRF = "csrf-secret"
STREETLIGHT = "天河区天河路100号小区门口的路灯坏了一个星期，晚上很黑，电话13800138000"
STREETLIGHT_AGAIN = "天河路100号小区门口路灯坏了一星期了，晚上太黑了"


class FakeAccounts:
    """Signs in the user named by the ``X-Test-User`` header (API token by default;
    ``browser`` as a session, with its CSRF token)."""

    def __init__(self) -> None:
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Request) -> Principal | None:
        principal = USERS.get(request.headers.get("X-Test-User", ""))
        if principal is not None and principal.via == "session":
            request.state.csrf_token = CSRF
        return principal


class FakeConsole:
    """The console's view of agents: which ticket each agent's call has."""

    def __init__(self) -> None:
        self.calls: dict[str, str] = {}  # agent id → ticket number

    def agent_view(self, agent_id: str) -> dict[str, Any]:
        if agent_id not in self.calls:
            raise LookupError(agent_id)
        return {"agent_id": agent_id, "call": {"call_id": "c-1", "ticket": self.calls[agent_id]}}


def understand(text: str) -> dict[str, Any]:
    """A few words of the real model's vocabulary, in its output's shape."""
    if "路灯" in text:
        address = "天河区天河路100号" if "天河路100号" in text else ""
        return {
            "request_type": "投诉",
            "domain": "城市管理",
            "category": {"code": "0301", "name": "路灯"},
            "seat_group": "city",
            "departments": ["市城市管理和综合执法局", "天河区人民政府"],
            "emergency": None,
            "slots": {"addresses": [{"address": address, "text": address}] if address else []},
            "summary": "路灯损坏",
            "low_confidence": False,
        }
    if "着火" in text:
        return {
            "request_type": "求助",
            "domain": "应急管理",
            "category": {"code": "0901", "name": "火灾"},
            "departments": ["市应急管理局"],
            "emergency": "119",
            "slots": {},
            "summary": "着火",
            "low_confidence": False,
        }
    return {"request_type": "咨询", "domain": "", "slots": {}, "low_confidence": True}


@dataclasses.dataclass
class Api:
    client: TestClient
    store: TicketStore
    context: WebContext

    def as_(self, user: str) -> dict[str, str]:
        return {"X-Test-User": user}

    def create(self, user: str = "portal", **body: Any) -> Any:
        body = {"channel": "web", "caller_number": "13800138000", "content": STREETLIGHT} | body
        return self.client.post("/api/tickets", json=body, headers=self.as_(user))

    def get(self, user: str, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params, headers=self.as_(user))

    def act(self, user: str, number: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/tickets/{number}/transitions", json=body, headers=self.as_(user)
        )

    @property
    def recorded(self) -> list[Any]:
        return self.context.accounts.audit.recorded


def _api(url: str) -> Iterator[Api]:
    with TicketStore(url) as store:
        context = WebContext(
            Settings(),
            tickets=store,
            accounts=FakeAccounts(),
            console=FakeConsole(),  # type: ignore[arg-type]  # the part of Console routers use
            extras={"understand": understand},
        )
        with TestClient(create_app(context)) as client:
            yield Api(client, store, context)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _api(f"sqlite:///{tmp_path / 'tickets.db'}")


def _draft(**values: Any) -> TicketDraft:
    base = {
        "channel": Channel.PHONE,
        "caller_number": "13900139000",
        "request_type": RequestType.HELP,
        "domain": "交通运输",
        "content": "公交车不按站停靠",
    }
    return TicketDraft(**(base | values))


# -- the API's description -----------------------------------------------------------


def test_openapi_documents_the_ticket_api(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/tickets"]) == {"get", "post"}
    assert "get" in paths["/api/tickets/{number}"]
    assert "post" in paths["/api/tickets/{number}/transitions"]
    for path, method in [
        ("/api/tickets", "post"),
        ("/api/tickets", "get"),
        ("/api/tickets/{number}", "get"),
        ("/api/tickets/{number}/transitions", "post"),
    ]:
        operation = paths[path][method]
        assert operation["summary"] and operation["description"]
    schemas = spec["components"]["schemas"]
    for name in ["TicketCreate", "TicketIntake", "TicketDetail", "TicketPage", "TransitionRefused"]:
        assert name in schemas
    created = paths["/api/tickets"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/TicketIntake")
    refused = paths["/api/tickets/{number}/transitions"]["post"]["responses"]["409"]
    assert refused["content"]["application/json"]["schema"]["$ref"].endswith("/TransitionRefused")
    assert "duplicate_of" in schemas["TicketIntake"]["properties"]
    assert set(schemas["TicketCreate"]["properties"]["channel"]["$ref"].split("/")[-1:]) == {
        "IntakeChannel"
    }
    assert api.client.get("/docs").status_code == 200


# -- create --------------------------------------------------------------------------


def test_a_web_form_goes_through_understanding_and_intake(api: Api) -> None:
    before = datetime.now(UTC)
    response = api.create(caller_name="王女士")
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["number"].startswith("GD12345-")
    assert ticket["channel"] == "web"
    assert ticket["status"] == "draft"
    assert ticket["request_type"] == "投诉"
    assert ticket["domain"] == "城市管理"
    assert ticket["category_code"] == "0301"
    assert ticket["lead_department"] == "市城市管理和综合执法局"
    assert ticket["co_departments"] == ["天河区人民政府"]
    assert ticket["address"] == "天河区天河路100号"  # from the understanding's slots
    assert ticket["summary"] == "路灯损坏"
    assert ticket["caller_name"] == "王女士"
    assert ticket["needs_agent_review"] is False
    assert ticket["duplicate_of"] is None
    expected_due = api.store.policy.deadlines.due_date(RequestType.COMPLAINT, before)
    assert ticket["due_date"] == expected_due.isoformat()
    assert [e["action"] for e in ticket["history"]] == ["create"]
    stored = api.store.get(ticket["number"])
    assert stored.content == STREETLIGHT
    assert stored.caller_number == "13800138000"
    [entry] = api.recorded
    assert (entry.username, entry.action, entry.target) == (
        "portal",
        "ticket.create",
        stored.number,
    )


def test_an_emergency_report_carries_the_emergency_number(api: Api) -> None:
    response = api.create(channel="qr", content="楼下仓库着火了，烟很大", address="越秀区中山路8号")
    assert response.status_code == 201
    assert response.json()["emergency_number"] == "119"
    assert response.json()["request_type"] == "求助"
    assert response.json()["address"] == "越秀区中山路8号"  # the report's own address wins


def test_a_citizen_who_wants_no_callback_is_not_surveyed(api: Api) -> None:
    from verification.schedule import VerificationPolicy, plan_round

    response = api.create(declined_callback=True)
    assert response.status_code == 201 and response.json()["declined_callback"] is True
    ticket = api.store.get(response.json()["number"])
    assert ticket.declined_callback
    [task] = plan_round(ticket, VerificationPolicy(), datetime.now(UTC), 0.5)
    assert task.reason is not None and task.reason.value == "declined_callbacks"
    assert api.create(declined_callback="yes").status_code == 422  # a flag, not words


def test_a_similar_qr_report_from_the_same_address_is_linked_as_a_duplicate(api: Api) -> None:
    first = api.create().json()
    again = api.create(channel="qr", caller_number="", content=STREETLIGHT_AGAIN)
    assert again.status_code == 201
    body = again.json()
    assert body["channel"] == "qr"
    assert body["duplicate_of"] == first["number"]
    assert body["linked_to"] == first["number"]
    assert body["status"] == "linked"
    assert body["duplicate_reason"] == "same address and similar content"
    assert body["similarity"] > 0.4
    assert [e["action"] for e in body["history"]] == ["create", "link"]
    other = api.create(caller_number="13500135000", content="想问一下社保卡怎么补办")
    assert other.json()["duplicate_of"] is None


def test_without_an_understanding_the_report_awaits_an_agent(api: Api) -> None:
    api.context.extras.pop("understand")
    body = api.create().json()
    assert body["needs_agent_review"] is True
    assert body["request_type"] == "咨询"
    assert body["domain"] == ""

    def broken(text: str) -> dict:
        raise RuntimeError("model gone")

    api.context.extras["understand"] = broken
    response = api.create(caller_number="13700137000", content="别的事情")
    assert response.status_code == 201
    assert response.json()["needs_agent_review"] is True


def _field(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


def test_invalid_reports_are_refused_naming_the_field(api: Api) -> None:
    assert _field(api.create(content="   ")) == ["content"]
    assert "empty" in api.create(content="").json()["detail"][0]["msg"]
    assert _field(api.create(caller_number="abc")) == ["caller_number"]
    assert _field(api.create(channel="phone")) == ["channel"]
    assert _field(api.create(content="x" * 4001)) == ["content"]
    assert _field(api.create(colour="red")) == ["colour"]
    response = api.client.post("/api/tickets", json={"channel": "web"}, headers=api.as_("portal"))
    assert _field(response) == ["content"]
    assert api.store.find() == []
    ok = api.create(caller_number="138 0013-8000")
    assert ok.status_code == 201 and ok.json()["caller_number"] == "13800138000"


# -- list and show -------------------------------------------------------------------


def test_list_filters_newest_first(api: Api) -> None:
    now = datetime.now(UTC)
    store = api.store
    old = store.intake(_draft(caller_number="13300133000"), now - timedelta(days=40)).ticket
    store.transition(old.number, "accept", "1001", now - timedelta(days=40))
    help_ = store.intake(_draft(), now - timedelta(days=2)).ticket
    store.request_callback(help_.number, "13900139000", "voicemail", now - timedelta(days=2))
    complaint = api.create().json()
    numbers = [t["number"] for t in api.get("sup", "/api/tickets").json()["items"]]
    assert numbers == [complaint["number"], help_.number, old.number]

    def found(**params: Any) -> list[str]:
        response = api.get("sup", "/api/tickets", **params)
        assert response.status_code == 200, response.text
        return [t["number"] for t in response.json()["items"]]

    assert found(status="accepted") == [old.number]
    assert found(request_type="投诉") == [complaint["number"]]
    assert found(domain="交通运输") == [help_.number, old.number]
    assert found(caller_number="13300133000") == [old.number]
    assert found(created_from=(now - timedelta(days=3)).isoformat()) == [
        complaint["number"],
        help_.number,
    ]
    assert found(created_before=(now - timedelta(days=1)).isoformat()) == [
        help_.number,
        old.number,
    ]
    assert found(overdue="true") == [old.number]
    assert found(callback_due="true") == [help_.number]
    page = api.get("sup", "/api/tickets", limit=2).json()
    assert [t["number"] for t in page["items"]] == [complaint["number"], help_.number]
    assert page["next_offset"] == 2
    last = api.get("sup", "/api/tickets", limit=2, offset=2).json()
    assert [t["number"] for t in last["items"]] == [old.number]
    assert last["next_offset"] is None
    listed = api.get("sup", "/api/tickets", status="accepted").json()["items"][0]
    assert listed["overdue"] is True and listed["owner"] == "1001"
    assert "history" not in listed
    assert _field(api.get("sup", "/api/tickets", status="nonsense")) == ["status"]
    assert _field(api.get("sup", "/api/tickets", limit=0)) == ["limit"]


def test_show_gives_the_history_and_404_for_unknown_numbers(api: Api) -> None:
    number = api.create().json()["number"]
    api.act("sup", number, action="accept")
    api.act("sup", number, action="派单", department="广州市城市管理和综合执法局")
    shown = api.get("sup", f"/api/tickets/{number}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "dispatched" and body["status_label"] == "派单"
    history = body["history"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("create", None, "draft"),
        ("accept", "draft", "accepted"),
        ("dispatch", "accepted", "dispatched"),
    ]
    assert history[2]["actor"] == "sup"
    assert history[2]["details"]["department"] == "city.urban_management"  # the directory's id
    assert set(body["allowed_actions"]) == {"sign", "request_return", "supervise", "urge"}
    missing = api.get("sup", "/api/tickets/GD12345-20260101-999999")
    assert missing.status_code == 404
    assert "GD12345-20260101-999999" in missing.json()["detail"]
    assert api.act("sup", "GD12345-20260101-999999", action="accept").status_code == 404


# -- transitions ---------------------------------------------------------------------


def test_transitions_allowed_and_refused(api: Api) -> None:
    number = api.create().json()["number"]
    accepted = api.act("li", number, action="accept")
    assert accepted.status_code == 404  # not li's ticket, nor the ticket of li's call
    api.context.console.calls["1001"] = number  # li is on the call of this ticket
    accepted = api.act("li", number, action="受理")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["owner"] == "1001"  # li's agent id: li owns it now
    assert accepted.json()["status"] == "accepted"
    api.context.console.calls.clear()

    refused = api.act("li", number, action="sign")
    assert refused.status_code == 409
    body = refused.json()
    assert body["status"] == "accepted"
    assert set(body["allowed_actions"]) == {"link", "dispatch"}  # a complaint: no close_at_once
    assert "sign" in body["detail"] and "dispatch" in body["detail"]

    lacking = api.act("li", number, action="dispatch")  # no department
    assert lacking.status_code == 409
    assert "department" in lacking.json()["detail"]
    at_once = api.act("li", number, action="close_at_once", reply="已答复")
    assert at_once.status_code == 409  # a complaint cannot be closed during the call

    assert _field(api.act("li", number, action="fly")) == ["action"]
    assert "accept" in api.act("li", number, action="fly").json()["detail"][0]["msg"]
    assert _field(api.act("li", number, action="sign", working_days=0)) == ["working_days"]
    assert "reply" in str(api.act("li", number, action="sign", reply="好").json()["detail"])

    dispatched = api.act(
        "li",
        number,
        action="dispatch",
        department="广州市城市管理和综合执法局",
        co_departments=["天河区人民政府"],
    )
    assert dispatched.status_code == 200
    assert [a["department"] for a in dispatched.json()["assignments"]] == [
        "city.urban_management",  # named by the directory's ids
        "district.tianhe",
    ]
    for user, step in [
        ("portal", {"action": "sign"}),
        ("tianhe", {"action": "sign"}),  # the co-handler's part
        ("tianhe", {"action": "report", "note": "已配合排查线路"}),
        ("portal", {"action": "start"}),
        ("portal", {"action": "reply", "reply": "路灯已于今日修复"}),  # to the reviewer (待审核)
        ("portal", {"action": "approve_reply"}),
        ("portal", {"action": "close"}),
        ("portal", {"action": "callback"}),
    ]:
        response = api.act(user, number, **step)
        assert response.status_code == 200, (step, response.text)
    assert _field(api.act("portal", number, action="rate", rating="还行")) == ["rating"]
    rated = api.act("portal", number, action="rate", rating="不满意").json()
    assert rated["status"] == "rated" and rated["rating"] == "不满意"
    assert rated["reply"] == "路灯已于今日修复"
    transitions = [e for e in api.recorded if e.action == "ticket.transition"]
    assert len(transitions) == 11
    assert transitions[0].detail == {"action": "accept", "from": "draft", "to": "accepted"}
    assert transitions[-1].username == "portal"


# -- roles ---------------------------------------------------------------------------


def test_nobody_signed_in_gets_401(api: Api) -> None:
    number = api.create().json()["number"]
    client = api.client
    assert client.get("/api/tickets").status_code == 401
    assert client.get(f"/api/tickets/{number}").status_code == 401
    assert client.post("/api/tickets", json={"channel": "web", "content": "x"}).status_code == 401
    response = client.post(f"/api/tickets/{number}/transitions", json={"action": "accept"})
    assert response.status_code == 401


def test_qa_reads_but_does_not_write(api: Api) -> None:
    number = api.create().json()["number"]
    assert api.get("qa", "/api/tickets").status_code == 200
    shown = api.get("qa", f"/api/tickets/{number}")
    assert shown.status_code == 200
    assert shown.json()["allowed_actions"] == []
    assert api.create("qa").status_code == 403
    assert api.act("qa", number, action="accept").status_code == 403
    assert api.store.get(number).status is Status.DRAFT


def test_an_agent_sees_only_their_own_tickets(api: Api) -> None:
    now = datetime.now(UTC)
    mine = []
    for minutes in (30, 20, 10):
        ticket = api.store.intake(
            _draft(caller_number=f"1390013{minutes:04d}", content=f"事情{minutes}"),
            now - timedelta(minutes=minutes),
        ).ticket
        api.store.transition(ticket.number, "accept", "1001", now - timedelta(minutes=minutes))
        mine.append(ticket.number)
    by_name = api.store.intake(_draft(caller_number="13600136000", content="公积金"), now).ticket
    api.store.transition(by_name.number, "accept", "li", now)  # a user without an agent id
    theirs = api.store.intake(_draft(caller_number="13700137000", content="噪音"), now).ticket
    api.store.transition(theirs.number, "accept", "1002", now)
    draft = api.create().json()["number"]

    own = [t["number"] for t in api.get("li", "/api/tickets").json()["items"]]
    assert own == [by_name.number, *reversed(mine)]
    page = api.get("li", "/api/tickets", limit=2, offset=1).json()
    assert [t["number"] for t in page["items"]] == [mine[2], mine[1]]
    assert page["next_offset"] == 3
    assert [t["number"] for t in api.get("wang", "/api/tickets").json()["items"]] == [theirs.number]
    assert api.get("li", f"/api/tickets/{mine[0]}").status_code == 200
    assert api.get("li", f"/api/tickets/{theirs.number}").status_code == 404
    assert api.get("li", f"/api/tickets/{draft}").status_code == 404
    assert api.act("li", theirs.number, action="dispatch", department="x").status_code == 404
    everyone = api.get("sup", "/api/tickets").json()["items"]
    assert len(everyone) == 6

    api.store.transition(mine[0], "dispatch", "1001", now, department="市交通运输局")
    api.store.transition(mine[0], "sign", "交通局", now)
    api.store.transition(mine[0], "start", "交通局", now)
    urged = api.act("li", mine[0], action="urge")
    assert urged.status_code == 403  # supervisory
    assert "urge" not in api.get("li", f"/api/tickets/{mine[0]}").json()["allowed_actions"]
    assert api.act("sup", mine[0], action="urge").status_code == 200


def test_numbers_are_masked_for_roles_that_do_not_need_them(api: Api) -> None:
    id_number = "440106199001011234"
    created = api.create(content=f"{STREETLIGHT}，我的身份证号{id_number}")
    number = created.json()["number"]
    assert created.json()["caller_number"] == "13800138000"  # a supervisor's integration

    full = api.get("sup", f"/api/tickets/{number}").json()
    assert full["caller_number"] == "13800138000"
    assert id_number in full["content"] and "13800138000" in full["content"]

    masked = api.get("qa", f"/api/tickets/{number}").json()
    assert masked["caller_number"] == "138****8000"
    assert id_number not in masked["content"] and "440106********1234" in masked["content"]
    assert "13800138000" not in masked["content"]
    assert masked["number"] == number  # ticket numbers are not phone numbers
    listed = api.get("qa", "/api/tickets").json()["items"][0]
    assert listed["caller_number"] == "138****8000"

    api.store.transition(number, "accept", "1001", datetime.now(UTC))
    own = api.get("li", f"/api/tickets/{number}").json()
    assert own["caller_number"] == "138****8000"  # an agent's own ticket, not their call
    api.context.console.calls["1001"] = number
    on_call = api.get("li", f"/api/tickets/{number}").json()
    assert on_call["caller_number"] == "13800138000"  # the call the agent is on


# -- CSRF ----------------------------------------------------------------------------


def test_writes_with_the_session_cookie_need_the_csrf_token(api: Api) -> None:
    body = {"channel": "web", "content": STREETLIGHT}
    refused = api.client.post("/api/tickets", json=body, headers=api.as_("browser"))
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = api.client.post(
        "/api/tickets", json=body, headers=api.as_("browser") | {"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    assert api.store.find() == []
    headers = api.as_("browser") | {"X-CSRF-Token": CSRF}
    created = api.client.post("/api/tickets", json=body, headers=headers)
    assert created.status_code == 201
    number = created.json()["number"]
    url = f"/api/tickets/{number}/transitions"
    no_token = api.client.post(url, json={"action": "accept"}, headers=api.as_("browser"))
    assert no_token.status_code == 403
    assert api.client.post(url, json={"action": "accept"}, headers=headers).status_code == 200
    assert api.get("browser", "/api/tickets").status_code == 200  # reading needs none


def test_a_write_without_an_audit_log_is_refused(api: Api) -> None:
    api.context.accounts.audit = None
    with pytest.raises(RuntimeError, match="audit"):
        api.create()
    assert api.store.find() == []


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    from tests.support.postgres import start_postgres

    try:
        server = start_postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server.new_database()
    server.stop()


def test_the_api_on_postgresql(postgres_url: str) -> None:
    for api in _api(postgres_url):
        first = api.create().json()
        again = api.create(channel="qr", caller_number="", content=STREETLIGHT_AGAIN).json()
        assert again["duplicate_of"] == first["number"]
        accepted = api.act("sup", first["number"], action="accept")
        assert accepted.status_code == 200
        refused = api.act("sup", first["number"], action="accept")
        assert refused.status_code == 409
        assert "dispatch" in refused.json()["allowed_actions"]
        found = api.get("sup", "/api/tickets", status="linked").json()["items"]
        assert [t["number"] for t in found] == [again["number"]]
