"""web.app: routes, role declarations, health and metrics, without a running node."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from sip_config import Settings
from tests.support.web_roles import FakeAccounts, as_role, principal_for_role
from web.app import create_app
from web.context import WebContext
from web.roles import Role, route_table


def test_every_route_declares_who_may_use_it() -> None:
    table = route_table(create_app(WebContext(Settings())))
    paths = {route.path for route in table}
    assert {"/healthz", "/metrics", "/api/tickets", "/qa"} <= paths  # routers are walked
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in table if r.roles is None]
    assert undeclared == []


def test_health_is_public_and_names_the_parts() -> None:
    client = TestClient(create_app(WebContext(Settings())))
    response = client.get("/healthz")
    assert response.status_code == 503  # no ticket store in this bare app
    assert response.json()["parts"] == {"hub": "up", "tickets": "down"}


def test_metrics_need_a_signed_in_supervisor() -> None:
    client = TestClient(create_app(WebContext(Settings())))
    assert client.get("/metrics", follow_redirects=False).status_code == 401  # a machine's


def test_the_front_page_is_never_not_found() -> None:
    client = TestClient(create_app(WebContext(Settings())))
    front = client.get("/", follow_redirects=False)
    assert front.status_code == 200 and "登录" in front.text and "Not Found" not in front.text


def test_every_state_changing_route_for_signed_in_users_needs_csrf() -> None:
    from tests.support.web_roles import routes_without_csrf

    assert routes_without_csrf(create_app(WebContext(Settings()))) == []


async def test_metrics_name_queues_service_level_asr_and_restarts(tmp_path) -> None:
    import json

    from events import messages as m
    from events.memory import MemoryBus
    from tests.support.clock import FakeClock
    from tests.support.hub_messages import event, worker_status
    from tests.support.seating import MONDAY_10, hub_with, queued_call, settings
    from tests.support.web_roles import as_role, fake_accounts
    from web.roles import Role

    config = settings().model_copy(
        update={"node": settings().node.model_copy(update={"data_dir": tmp_path})}
    )
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "node.json").write_text(
        json.dumps({"parts": [{"name": "worker-w1", "restarts": 2}]})
    )
    hub = hub_with(MemoryBus(), FakeClock(), config, [MONDAY_10])
    topic, status = worker_status("w1")
    status.data["asr_frames_dropped"] = 7
    await hub.on_message(topic, status)
    await queued_call(hub, "c1")
    await hub.on_message(*event("c1", m.ASR_FINAL, leg="caller", text="喂", latency_s=0.4))
    from ivr.hub.console import Console

    app = create_app(WebContext(config, console=Console(hub)))
    with fake_accounts(app):
        text = TestClient(app).get("/metrics", headers=as_role(Role.SUPERVISOR)).text
    assert 'hotline_calls_waiting{group="综合"} 1.0' in text
    assert 'hotline_asr_frames_dropped{worker="w1"} 7.0' in text
    assert 'hotline_asr_final_latency_seconds{quantile="0.5"} 0.4' in text
    assert 'hotline_part_restarts{part="worker-w1"} 2.0' in text
    with fake_accounts(app):
        refused = TestClient(app).get("/metrics", headers=as_role(Role.AGENT))
    assert refused.status_code == 403


# -- the header: every console the role may use ---------------------------------------------

CONSOLES = {
    "/desk": "话务员工作台",
    "/wallboard": "值班长看板",
    "/qa": "质检",
    "/tickets": "工单管理",
    "/verification": "回访工作台",
    "/analytics": "数据分析",
    "/department": "承办单位工作台",
}
MAY_USE = {
    Role.AGENT: ["/desk", "/qa", "/tickets"],
    Role.SUPERVISOR: ["/wallboard", "/qa", "/tickets", "/verification", "/analytics"],
    Role.QA: ["/qa", "/tickets"],
    # the desk needs an agent's own seat
    Role.ADMIN: ["/wallboard", "/qa", "/tickets", "/verification", "/analytics"],
    Role.DEPARTMENT_HANDLER: ["/department"],
    Role.DEPARTMENT_REVIEWER: ["/department"],
    Role.VERIFIER: ["/verification"],
}


def header_links(html: str) -> list[tuple[str, str, str]]:
    """The header's console links: (href, label, aria-current or "")."""
    nav = html.split('<nav class="nav" aria-label="主导航">')[1].split("</nav>")[0]
    found = []
    for link in re.findall(r"<a ([^>]*)>([^<]*)</a>", nav):
        attributes, label = link
        href = re.search(r'href="([^"]*)"', attributes)
        current = re.search(r'aria-current="([^"]*)"', attributes)
        found.append((href.group(1) if href else "", label, current.group(1) if current else ""))
    return found


@pytest.mark.parametrize("role", list(Role))
def test_the_header_links_every_console_the_role_may_use(role: Role) -> None:
    app = create_app(WebContext(Settings(), accounts=FakeAccounts()))
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/account/password", headers=as_role(role))
    assert page.status_code == 200
    assert header_links(page.text) == [(href, CONSOLES[href], "") for href in MAY_USE[role]]
    assert '<a class="brand" href="/">12345 热线</a>' in page.text
    for href in CONSOLES:  # a link never leads to a refusal, and no console is left out
        answer = client.get(href, headers=as_role(role), follow_redirects=False)
        assert (answer.status_code != 403) == (href in MAY_USE[role]), (href, answer.status_code)


@pytest.mark.parametrize(("role", "home"), [(Role.AGENT, "/desk"), (Role.ADMIN, "/wallboard")])
def test_the_header_marks_the_console_shown(role: Role, home: str) -> None:
    client = TestClient(create_app(WebContext(Settings(), accounts=FakeAccounts())))
    links = header_links(client.get(home, headers=as_role(role)).text)
    assert [current for href, _, current in links if href == home] == ["page"]
    assert [current for href, _, current in links if href != home] == [""] * (len(links) - 1)


def test_nobody_signed_in_sees_no_console_links() -> None:
    client = TestClient(create_app(WebContext(Settings(), accounts=FakeAccounts())))
    assert header_links(client.get("/").text) == []
    assert header_links(client.get("/login").text) == []


def test_a_page_of_a_console_marks_that_console() -> None:
    from web.navigation import CONSOLE_PAGES, Navigation

    app = create_app(WebContext(Settings()))
    navigation = Navigation(route_table(app), CONSOLE_PAGES)
    qa = principal_for_role(Role.QA)
    assert [(link.href, link.current) for link in navigation.links(qa, "/qa/calls/c-1")] == [
        ("/qa", True),
        ("/tickets", False),
    ]
    assert [link.current for link in navigation.links(qa, "/qaz")] == [False, False]
    held = replace(principal_for_role(Role.ADMIN), via="session", must_change_password=True)
    assert navigation.links(held, "/account/password") == []  # nowhere else to go yet
    assert navigation.links(None, "/") == []
