"""web.routers.wallboard: the supervisor wallboard against a real hub on the
in-memory bus with a fake clock, through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from events import messages as m
from sip_config import Settings
from tests.support.desk import Desk
from tests.support.hub_messages import event
from tests.support.seating import dials
from tests.support.web_roles import as_role, assert_role_matrix
from web.roles import Role

SUPERVISOR = as_role(Role.SUPERVISOR)


def config() -> Settings:
    """综合 (agent 1002) overflows to 城建 (agent 1001) after two minutes, or at once
    when the supervisor says so."""
    return Settings(
        agents=[
            {"id": "1001", "name": "张敏", "password": "pw1", "seat_groups": ["城建"]},
            {"id": "1002", "name": "李华", "password": "pw2", "seat_groups": ["综合"]},
        ],
        seat_groups={
            "综合": {
                "ring_timeout_s": 10,
                "wrap_up_s": 5,
                "backup_groups": ["城建"],
                "backup_after_s": 120,
            },
            "城建": {},
        },
        acd={"announce_every_s": 30, "callback_offer_after_s": 45},
        sip={"port": 5070},
    )


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path, config())
    with made.client:
        yield made
    made.store.close()


def groups(board: Desk, headers: dict[str, str] = SUPERVISOR) -> dict[str, dict[str, Any]]:
    response = board.client.get("/api/wallboard", headers=headers)
    assert response.status_code == 200, response.text
    return {g["group"]: g for g in response.json()["groups"]}


def flip(board: Desk, **body: Any) -> Any:
    return board.client.post("/api/wallboard/switches", json=body, headers=SUPERVISOR)


def login(board: Desk, agent_id: str) -> None:
    async def go() -> None:
        assert await board.hub.agent_command(agent_id, m.AGENT_LOGIN, {}) == ""

    board.run(go)


def test_the_numbers_change_when_a_call_waits_and_when_it_is_answered(board: Desk) -> None:
    general = groups(board)["综合"]
    assert (general["waiting"], general["today"]["offered"]) == (0, 0)
    board.spoken_call("c1")
    board.clock.advance(8)
    general = groups(board)["综合"]
    assert (general["waiting"], general["longest_wait_s"]) == (1, 8.0)
    assert {a["agent_id"]: a["status"] for a in general["agents"]} == {"1002": "logged_out"}
    login(board, "1002")
    board.clock.advance(2)
    board.answer("c1")
    general = groups(board)["综合"]
    assert general["waiting"] == 0
    assert (general["today"]["offered"], general["today"]["answered"]) == (1, 1)
    assert general["today"]["service_level"] == 1.0  # answered within 15 s
    assert general["last_30_min"]["abandon_rate"] == 0.0
    (agent,) = general["agents"]
    assert (agent["status"], agent["since_s"]) == ("on_call", 0.0)
    board.clock.advance(30)
    assert groups(board)["综合"]["agents"][0]["since_s"] == 30.0
    assert groups(board)["综合"]["advice"]["calls_per_hour"] == 2


def test_an_abandoned_call_counts_against_the_service_level(board: Desk) -> None:
    board.spoken_call("c1")
    board.clock.advance(20)
    board.feed(event("c1", m.CALL_ENDED, reason="remote_hangup"))
    today = groups(board)["综合"]["today"]
    assert (today["abandoned"], today["abandon_rate"], today["service_level"]) == (1, 1.0, 0.0)


def test_backup_now_overflows_at_once_and_is_audited(board: Desk) -> None:
    login(board, "1001")  # 城建 only: not for 综合's calls before the overflow
    board.spoken_call("c1")
    assert dials(board.bus) == []
    assert groups(board)["综合"]["backup_groups"] == ["城建"]
    flipped = flip(board, switch="backup_now", group="综合", on=True)
    assert flipped.status_code == 200, flipped.text
    assert {g["group"]: g for g in flipped.json()["groups"]}["综合"]["backup_now"] is True
    assert dials(board.bus)[-1]["agent_id"] == "1001"  # at once
    (entry,) = board.accounts.audit.recorded
    assert (entry.action, entry.target, entry.role) == (
        "wallboard.backup_now",
        "综合",
        "supervisor",
    )
    assert entry.detail == {"switch": "backup_now", "on": True, "before": False}
    refused = flip(board, switch="backup_now", group="城建", on=True)
    assert refused.status_code == 409 and "backup" in refused.json()["detail"]
    assert len(board.accounts.audit.recorded) == 1, "a refused switch changes nothing"


def test_callback_offer_and_extra_groups_switch_at_once(board: Desk) -> None:
    assert flip(board, switch="callback_offer", on=False).status_code == 200
    assert board.context.console is not None
    assert board.context.console.wallboard()["callback_offer"] is False
    flipped = flip(board, switch="group", group="城建", on=False).json()
    assert {g["group"]: g["open"] for g in flipped["groups"]}["城建"] is False
    assert groups(board)["城建"]["forced"] is False
    assert flip(board, switch="group", group="城建", on=None).status_code == 200
    assert groups(board)["城建"]["forced"] is None
    actions = [(e.action, e.target, e.detail["on"]) for e in board.accounts.audit.recorded]
    assert actions == [
        ("wallboard.callback_offer", "node", False),
        ("wallboard.group", "城建", False),
        ("wallboard.group", "城建", None),
    ]
    assert flip(board, switch="group", group="无此组", on=True).status_code == 409
    assert flip(board, switch="callback_offer", on=None).status_code == 422
    assert flip(board, switch="backup_now", on=True).status_code == 422
    assert flip(board, switch="lights", on=True).status_code == 422


def test_the_page_and_who_may_see_it(board: Desk) -> None:
    page = board.client.get("/wallboard", headers=SUPERVISOR)
    assert page.status_code == 200 and "值班长看板" in page.text
    assert "/static/wallboard.js" in page.text
    assert board.client.get("/static/wallboard.js").status_code == 200
    assert board.client.get("/api/wallboard").status_code == 401
    assert board.client.get("/api/wallboard", headers=as_role(Role.AGENT)).status_code == 403
    assert groups(board, as_role(Role.ADMIN))["综合"]["waiting"] == 0
    agent_flip = board.client.post(
        "/api/wallboard/switches",
        json={"switch": "callback_offer", "on": False},
        headers=as_role(Role.AGENT),
    )
    assert agent_flip.status_code == 403


def test_a_session_needs_its_csrf_token_to_flip_a_switch(board: Desk) -> None:
    class Supervisors(type(board.accounts)):  # type: ignore[misc]
        async def principal_for(self, request: Any) -> Any:
            from web.roles import Principal

            if request.cookies.get("hotline_session") == "boss":
                request.state.csrf_token = "t0ken"
                return Principal(21, "boss", Role.SUPERVISOR, "", "session")
            return None

    board.context.accounts = Supervisors()
    cookie = {"Cookie": "hotline_session=boss"}
    body = {"switch": "callback_offer", "on": False}
    refused = board.client.post("/api/wallboard/switches", json=body, headers=cookie)
    assert refused.status_code == 403
    assert board.context.console is not None
    assert board.context.console.wallboard()["callback_offer"] is True
    done = board.client.post(
        "/api/wallboard/switches", json=body, headers={**cookie, "X-CSRF-Token": "t0ken"}
    )
    assert done.status_code == 200 and done.json()["callback_offer"] is False


def test_wallboard_routes_roles(board: Desk) -> None:
    assert_role_matrix(
        board.client.app,  # type: ignore[arg-type]
        {
            ("GET", "/wallboard"): {Role.SUPERVISOR, Role.ADMIN},
            ("GET", "/api/wallboard"): {Role.SUPERVISOR, Role.ADMIN},
            ("POST", "/api/wallboard/switches"): {Role.SUPERVISOR, Role.ADMIN},
        },
        bodies={("POST", "/api/wallboard/switches"): {"switch": "callback_offer", "on": True}},
    )
