"""web.routers.desk: the agent desk against a real hub on the in-memory bus with a
fake clock, through FastAPI's TestClient (HTTP and WebSocket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from events import messages as m
from tests.support.desk import CSRF, SESSION, Desk
from tests.support.hub_messages import event
from tests.support.seating import dials
from tests.support.web_roles import as_role, assert_role_matrix
from web.roles import Principal, Role


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
            "declined_callback": True,  # 不需回访
            "action": "受理",
        },
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "accepted"
    assert submitted.json()["declined_callback"] is True
    stored = desk.store.get(number)
    assert stored.declined_callback
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
