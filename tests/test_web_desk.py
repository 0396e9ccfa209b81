"""web.routers.desk: the agent desk against a real hub on the in-memory bus with a
fake clock, through FastAPI's TestClient (HTTP and WebSocket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from call_routing.understanding import Understanding
from events import messages as m
from events.memory import MemoryBus
from events.messages import Message
from ivr.hub.call_tickets import CallTickets
from ivr.hub.console import Console
from ivr.hub.flow import FlowOptions, Step
from ivr.hub.hub import Hub
from ivr.hub.seat_plan import build_seating
from sip_config import Settings
from tests.support.understanding import scripted
from tests.test_hub import FakeClock, event
from tests.test_seating import MONDAY_10, NODE, dials, settings
from tests.web_roles import FakeAccounts, as_role, assert_role_matrix, principal_for_role
from tickets.store import TicketStore
from web.app import create_app
from web.context import WebContext
from web.fanout import Fanout, Update
from web.roles import Principal, Role

CSRF = "csrf-of-the-session"
SESSION = {"Cookie": "hotline_session=agent-1002", "X-CSRF-Token": CSRF}


class FanoutBus(MemoryBus):
    """The in-memory bus, with what the hub publishes also handed to the consoles'
    fanout (as the broker echoes it back to the hub in a node)."""

    def __init__(self, fanout: Fanout) -> None:
        super().__init__()
        self.fanout = fanout

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        await super().publish(topic, message, retain=retain)
        self.fanout.publish(Update(topic, message.type, message.data, message.ts))


class SessionAccounts(FakeAccounts):
    """Bearer ``role:…`` as in :class:`FakeAccounts`; the session cookie is agent
    1002 signed in with a browser (CSRF token needed)."""

    async def principal_for(self, request: Any) -> Principal | None:
        if request.cookies.get("hotline_session") == "agent-1002":
            request.state.csrf_token = CSRF
            return Principal(11, "lihua", Role.AGENT, "1002", "session")
        return await super().principal_for(request)


def understand(text: str) -> Understanding:
    return scripted(
        request_type="投诉",
        domain="城乡建设",
        category={"code": "CX05", "name": "路灯照明"},
        seat_group="综合",
        departments=["城市管理和综合执法局"],
        emergency=None,
        low_confidence=False,
        summary="投诉：小区门口路灯坏了",
        slots={"addresses": [{"address": "天河区幸福小区", "text": "幸福小区"}]},
    )


class Desk:
    """A hub with agents and a ticket store, its web app, and a client on its loop."""

    def __init__(self, tmp_path: Path, config: Settings | None = None) -> None:
        self.clock = FakeClock()
        self.fanout = Fanout()
        self.bus = FanoutBus(self.fanout)
        self.store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
        config = config or settings()
        self.hub = Hub(
            self.bus,
            NODE,
            clock=self.clock,
            options=FlowOptions(seats=True, barge_in=False),
            understand=understand,
            tickets=CallTickets(self.store),
            seating=lambda flows: build_seating(config, flows, wall_clock=lambda: MONDAY_10),
            render=lambda text: f"dynamic/{len(text)}",
        )
        self.hub.watchers.append(
            lambda topic, message: self.fanout.publish(
                Update(topic, message.type, message.data, message.ts)
            )
        )
        self.accounts = SessionAccounts(
            {Role.AGENT: principal_for_role(Role.AGENT, agent_id="1002")}
        )
        self.context = WebContext(
            config,
            hub=self.hub,
            console=Console(self.hub),
            tickets=self.store,
            accounts=self.accounts,
            fanout=self.fanout,
        )
        self.client = TestClient(create_app(self.context))

    def run(self, function: Any, *args: Any) -> Any:
        """Run a coroutine function on the app's event loop (where the hub lives)."""
        assert self.client.portal is not None
        return self.client.portal.call(function, *args)

    def feed(self, *items: tuple[str, Message]) -> None:
        async def go() -> None:
            for topic, message in items:
                await self.hub.on_message(topic, message)

        self.run(go)

    def spoken_call(self, call_id: str = "c1", caller: str = "13800138000") -> None:
        """A caller who says what the problem is and is queued for 综合."""
        self.feed(
            event(call_id, m.CALL_OFFERED, caller=caller, called="12345"),
            event(call_id, m.CALL_ANSWERED),
            event(call_id, m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
            event(
                call_id,
                m.ASR_FINAL,
                leg="caller",
                turn=1,
                text="喂，我们小区门口的路灯坏了。",
                content="我们小区门口的路灯坏了",
                substantive=True,
            ),
        )
        assert self.hub.flows[call_id].step is Step.QUEUED

    def answer(self, call_id: str, agent_id: str = "1002") -> None:
        dial = [d for d in dials(self.bus) if d["call_id"] == call_id][-1]
        assert dial["agent_id"] == agent_id
        self.feed(event(call_id, m.AGENT_ANSWERED, agent_id=agent_id, dial_id=dial["dial_id"]))

    def post(self, url: str, body: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(url, json=body, headers=kwargs.pop("headers", SESSION), **kwargs)

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(url, headers=SESSION if headers is None else headers)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path)
    with made.client:
        yield made
    made.store.close()


def receive_until(ws: Any, kind: str, limit: int = 30) -> dict[str, Any]:
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} in {limit} messages")


def test_an_agent_logs_in_goes_ready_and_sees_the_offered_call_before_pickup(desk: Desk) -> None:
    assert desk.post("/api/desk/state", {"action": "login"}).json()["status"] == "available"
    view = desk.post("/api/desk/state", {"action": "not_ready", "reason": "小休"}).json()
    assert (view["status"], view["reason"]) == ("not_ready", "小休")
    assert desk.post("/api/desk/state", {"action": "ready"}).json()["status"] == "available"
    desk.spoken_call("c1")
    view = desk.get("/api/desk").json()
    assert view["status"] == "offered"
    call = view["call"]
    assert call["caller"] == "13800138000" and call["priority_label"] == "普通"
    assert call["understanding"]["request_type"] == "投诉"
    assert [line["text"] for line in call["transcript"]] == ["喂，我们小区门口的路灯坏了。"]
    assert call["ticket"], "the draft ticket is there before the agent picks up"
    ticket = desk.get("/api/desk/ticket").json()
    assert ticket["number"] == call["ticket"] and ticket["status"] == "draft"
    assert ticket["caller_number"] == "13800138000"  # the agent's own call: in full
    assert ticket["address"] == "天河区幸福小区" and ticket["lead_department"]
    actions = [(e.action, e.target) for e in desk.accounts.audit.recorded]
    assert actions[:3] == [("desk.state", "1002")] * 3


def test_state_actions_refused_with_the_reason(desk: Desk) -> None:
    refused = desk.post("/api/desk/state", {"action": "ready"})
    assert refused.status_code == 409 and "logged_out" in refused.json()["detail"]
    assert desk.post("/api/desk/state", {"action": "dance"}).status_code == 422
    desk.post("/api/desk/state", {"action": "login"})
    no_reason = desk.post("/api/desk/state", {"action": "not_ready"})
    assert no_reason.status_code == 409 and "原因" in no_reason.json()["detail"]
    wrap = desk.post("/api/desk/state", {"action": "wrap_up_done"})
    assert wrap.status_code == 409
    assert [e.action for e in desk.accounts.audit.recorded] == ["desk.state"]  # only the login


def test_csrf_is_needed_for_a_session_and_roles_are_checked(desk: Desk) -> None:
    no_token = desk.post(
        "/api/desk/state", {"action": "login"}, headers={"Cookie": SESSION["Cookie"]}
    )
    assert no_token.status_code == 403
    assert desk.get("/api/desk", headers={}).status_code == 401
    assert desk.get("/api/desk", headers=as_role(Role.SUPERVISOR)).status_code == 403
    page = desk.get("/desk")
    assert page.status_code == 200 and "话务员工作台" in page.text
    assert f'content="{CSRF}"' in page.text and "/static/desk.js" in page.text
    assert desk.client.get("/static/desk.js").status_code == 200


def test_the_websocket_brings_the_offer_and_the_live_transcript(desk: Desk) -> None:
    desk.post("/api/desk/state", {"action": "login"})
    with desk.client.websocket_connect("/ws/desk", headers=SESSION) as ws:
        first = ws.receive_json()
        assert first["type"] == "desk.view" and first["data"]["status"] == "available"
        desk.spoken_call("c1")
        offer = receive_until(ws, m.AGENT_OFFER)
        assert offer["data"]["caller"] == "13800138000"
        assert offer["data"]["transcript"][0]["text"] == "喂，我们小区门口的路灯坏了。"
        assert offer["data"]["understanding"]["domain"] == "城乡建设"
        desk.answer("c1")
        assert receive_until(ws, m.CALL_CONNECTED)["data"]["call_id"] == "c1"
        desk.feed(
            event("c1", m.ASR_PARTIAL, leg="agent", turn=1, text="您好"),
            event("c1", m.ASR_FINAL, leg="agent", turn=1, text="您好，请讲具体位置。"),
            event("c1", m.ASR_FINAL, leg="caller", turn=2, text="幸福小区东门。"),
        )
        partial = receive_until(ws, m.ASR_PARTIAL)
        assert (partial["data"]["leg"], partial["data"]["text"]) == ("agent", "您好")
        finals = [receive_until(ws, m.ASR_FINAL)["data"] for _ in range(2)]
        assert [(f["leg"], f["text"]) for f in finals] == [
            ("agent", "您好，请讲具体位置。"),
            ("caller", "幸福小区东门。"),
        ]
    view = desk.get("/api/desk").json()
    assert [line["leg"] for line in view["call"]["transcript"]] == ["caller", "agent", "caller"]


def test_an_agent_never_sees_another_agents_call(desk: Desk) -> None:
    other = Principal(12, "zhangmin", Role.AGENT, "1001", "token")
    desk.accounts.principals[Role.AGENT] = other  # Bearer role:agent is now agent 1001
    as_other = as_role(Role.AGENT)
    desk.post("/api/desk/state", {"action": "login"})  # 1002, by session
    with desk.client.websocket_connect("/ws/desk", headers=as_other) as ws:
        assert ws.receive_json()["data"]["agent_id"] == "1001"
        desk.spoken_call("c1")  # 1001 is logged out: 1002 is offered it
        assert desk.get("/api/desk").json()["call"]["call_id"] == "c1"
        assert desk.get("/api/desk", headers=as_other).json()["call"] is None
        number = desk.get("/api/desk/ticket").json()["number"]
        assert desk.get("/api/desk/ticket", headers=as_other).status_code == 404
        foreign = desk.client.get(f"/api/desk/ticket?number={number}", headers=as_other)
        assert foreign.status_code == 404
        taken = desk.post(
            "/api/desk/ticket", {"number": number, "action": "受理"}, headers=as_other
        )
        assert taken.status_code == 404
        # 1001 logs in: the only thing on 1001's socket is 1001's own state.
        desk.post("/api/desk/state", {"action": "login"}, headers=as_other)
        state = ws.receive_json()
        assert state["type"] == m.AGENT_STATE and state["data"]["agent_id"] == "1001"
        desk.feed(event("c1", m.ASR_FINAL, leg="caller", turn=2, text="还有一件事。"))
        desk.post("/api/desk/state", {"action": "logout"}, headers=as_other)
        after = ws.receive_json()
        assert after["type"] == m.AGENT_STATE and after["data"]["status"] == "logged_out"


def test_the_websocket_refuses_without_a_session_or_for_other_roles(desk: Desk) -> None:
    for headers, code in ((None, 4401), (as_role(Role.SUPERVISOR), 4403), (as_role(Role.QA), 4403)):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            desk.client.websocket_connect("/ws/desk", headers=headers or {}) as ws,
        ):
            ws.receive_json()
        assert closed.value.code == code
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        desk.client.websocket_connect(
            "/ws/desk", headers={**SESSION, "Origin": "http://evil.example"}
        ) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403


def test_the_ticket_is_corrected_and_accepted(desk: Desk) -> None:
    desk.post("/api/desk/state", {"action": "login"})
    desk.spoken_call("c1")
    desk.answer("c1")
    number = desk.get("/api/desk/ticket").json()["number"]
    submitted = desk.post(
        "/api/desk/ticket",
        {
            "request_type": "求助",
            "address": "天河区幸福小区东门",
            "summary": "求助：小区东门路灯坏了",
            "action": "受理",
        },
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "accepted"
    stored = desk.store.get(number)
    assert (stored.status.value, stored.owner, stored.request_type.value) == (
        "accepted",
        "1002",
        "求助",
    )
    assert stored.address == "天河区幸福小区东门" and stored.audit[-1].actor == "1002"
    (entry,) = [e for e in desk.accounts.audit.recorded if e.action == "desk.ticket"]
    assert entry.target == number and entry.detail["action"] == "accept"
    assert entry.detail["changes"]["request_type"] == "求助"
    again = desk.post("/api/desk/ticket", {"action": "accept"})
    assert again.status_code == 409 and "allowed now" in again.json()["detail"]


def test_after_the_call_the_ticket_is_dispatched_in_wrap_up_and_shows_in_history(
    desk: Desk,
) -> None:
    desk.post("/api/desk/state", {"action": "login"})
    desk.spoken_call("c1")
    desk.answer("c1")
    dial = dials(desk.bus)[-1]
    desk.feed(event("c1", m.AGENT_HUNGUP, agent_id="1002", dial_id=dial["dial_id"]))
    assert desk.get("/api/desk").json()["status"] == "wrap_up"
    no_department = desk.post("/api/desk/ticket", {"lead_department": "", "action": "派单"})
    assert no_department.status_code == 409 and "department" in no_department.json()["detail"]
    number = desk.get("/api/desk/ticket").json()["number"]
    assert desk.store.get(number).status.value == "draft", "a refused submit changes nothing"
    dispatched = desk.post(
        "/api/desk/ticket",
        {"lead_department": "天河区城管局", "co_departments": ["供电局"], "action": "dispatch"},
    )
    assert dispatched.status_code == 200, dispatched.text
    stored = desk.store.get(number)
    assert stored.status.value == "dispatched" and stored.lead_department == "天河区城管局"
    assert stored.co_departments == ("供电局",)
    assert [e.action for e in stored.audit][-2:] == ["accept", "dispatch"]
    closed = desk.post("/api/desk/ticket", {"content": "改一下"})
    assert closed.status_code == 409  # dispatched: no more corrections here
    assert desk.post("/api/desk/state", {"action": "wrap_up_done"}).json()["status"] == "available"
    desk.feed(event("c1", m.CALL_ENDED, reason="local_hangup"))
    history = desk.get("/api/desk/history").json()
    assert [c["call_id"] for c in history["calls"]] == ["c1"]
    assert [t["number"] for t in history["tickets"]] == [number]
    assert history["calls"][0]["caller"] == "138****8000"  # history is masked
    assert desk.get("/api/desk/history", headers=as_role(Role.QA)).status_code == 403


def test_a_consultation_is_closed_at_once_with_the_answer(desk: Desk) -> None:
    desk.post("/api/desk/state", {"action": "login"})
    desk.spoken_call("c1")
    desk.answer("c1")
    without = desk.post("/api/desk/ticket", {"request_type": "咨询", "action": "即时办结"})
    assert without.status_code == 409 and "note" in without.json()["detail"]
    done = desk.post(
        "/api/desk/ticket",
        {"request_type": "咨询", "action": "即时办结", "note": "已告知报修电话"},
    )
    assert done.status_code == 200, done.text
    number = done.json()["number"]
    stored = desk.store.get(number)
    assert stored.status.value == "closed" and stored.reply == "已告知报修电话"


def test_the_agent_transfers_the_caller_to_another_group(desk: Desk) -> None:
    desk.post("/api/desk/state", {"action": "login"})
    refused = desk.post("/api/desk/transfer", {"group": "城建"})
    assert refused.status_code == 409 and "no caller" in refused.json()["detail"]
    desk.spoken_call("c1")
    desk.answer("c1")
    moved = desk.post("/api/desk/transfer", {"group": "城建"})
    assert moved.status_code == 200 and moved.json()["status"] == "wrap_up"
    assert desk.hub.flows["c1"].seat_group == "城建"
    (entry,) = [e for e in desk.accounts.audit.recorded if e.action == "desk.transfer"]
    assert (entry.target, entry.detail) == ("c1", {"group": "城建"})


def test_desk_routes_roles(desk: Desk) -> None:
    app = desk.client.app
    matrix = {
        ("GET", "/desk"): {Role.AGENT},
        ("GET", "/api/desk"): {Role.AGENT},
        ("POST", "/api/desk/state"): {Role.AGENT},
        ("POST", "/api/desk/transfer"): {Role.AGENT},
        ("GET", "/api/desk/ticket"): {Role.AGENT},
        ("POST", "/api/desk/ticket"): {Role.AGENT},
        ("GET", "/api/desk/history"): {Role.AGENT},
    }
    assert_role_matrix(
        app,  # type: ignore[arg-type]
        matrix,
        bodies={
            ("POST", "/api/desk/state"): {"action": "login"},
            ("POST", "/api/desk/transfer"): {"group": "城建"},
            ("POST", "/api/desk/ticket"): {},
        },
    )


def test_a_user_who_answers_no_calls_has_no_desk(desk: Desk) -> None:
    desk.accounts.principals[Role.AGENT] = Principal(13, "trainee", Role.AGENT, "", "token")
    assert desk.get("/api/desk", headers=as_role(Role.AGENT)).status_code == 403
    desk.accounts.principals[Role.AGENT] = Principal(14, "ghost", Role.AGENT, "7777", "token")
    unknown = desk.get("/api/desk", headers=as_role(Role.AGENT))
    assert unknown.status_code == 404 and "7777" in unknown.json()["detail"]
    login = desk.post("/api/desk/state", {"action": "login"}, headers=as_role(Role.AGENT))
    assert login.status_code == 404
