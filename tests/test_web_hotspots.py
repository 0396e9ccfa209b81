"""热点问题 in the web app (web.routers.hotspots) on a real ticket store (SQLite):
supervisors and admins only, the same hotspots as ``hotline hotspots list``
for the same tickets, a burst shown as 新出现的热点, bad queries refused with a
reason, and the 数据分析 page with the numbers of the JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from sip_config import Settings
from tests.support.cli import hotline_in_process
from tests.support.web_roles import assert_role_matrix
from tickets.model import TicketDraft
from tickets.store import TicketStore
from web.app import create_app
from web.audit import MemoryAuditLog
from web.context import WebContext
from web.roles import Principal, Role

USERS = {
    "sup": Principal(1, "sup", Role.SUPERVISOR, via="token"),
    "li": Principal(2, "li", Role.AGENT, agent_id="1001", via="token"),
}
# An estate's water, six callers in the last day and a half: a burst.  A school gate's
# traffic, three callers over two weeks: a hotspot, not a burst.  One lone request.
TICKETS = [
    *[
        (f"锦绣花园小区停水{k}", "小区停水了，什么时候来水？", f"1390000000{k}", 3 + 6 * k)
        for k in range(6)
    ],
    ("星河实验小学门口上学时段交通拥堵", "早上堵得水泄不通", "13700000001", 24 * 3),
    ("星河实验小学放学时家长车辆乱停", "车停满了整条路", "13700000002", 24 * 8),
    ("星河实验小学门口接送车辆拥堵", "接送孩子的车太多", "13700000003", 24 * 14),
    ("青山路路灯不亮", "路灯坏了一个月", "13600000000", 30),
]


class FakeAccounts:
    def __init__(self) -> None:
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Request) -> Principal | None:
        return USERS.get(request.headers.get("X-Test-User", ""))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    data = tmp_path_factory.mktemp("hotspots")
    now = datetime.now(UTC)
    with TicketStore(f"sqlite:///{data / 'tickets.db'}") as store:
        for summary, content, caller, hours_ago in TICKETS:
            draft = TicketDraft(caller_number=caller, summary=summary, content=content)
            store.create(draft, now - timedelta(hours=hours_ago))
        context = WebContext(
            Settings(node={"data_dir": data}), tickets=store, accounts=FakeAccounts()
        )
        with TestClient(create_app(context)) as client:
            yield client, data


def get(client: TestClient, url: str, user: str = "sup", **params: object):  # noqa: ANN201
    return client.get(url, params=params, headers={"X-Test-User": user})


def test_only_supervisors_and_admins_see_the_hotspots(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    allowed = {Role.SUPERVISOR, Role.ADMIN}
    assert_role_matrix(
        client.app,
        {("GET", "/api/analytics/hotspots"): allowed, ("GET", "/analytics"): allowed},
    )
    assert get(client, "/api/analytics/hotspots", user="li").status_code == 403


def test_the_json_is_what_the_cli_prints_for_the_same_tickets(
    served: tuple[TestClient, Path],
) -> None:
    client, data = served
    answer = get(client, "/api/analytics/hotspots", days=30)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["tickets"] == len(TICKETS) and found["days"] == 30
    by_place = {h["place"]: h for h in found["hotspots"]}
    assert by_place["锦绣花园"]["requests"] == 6 and by_place["锦绣花园"]["people"] == 6
    assert by_place["星河实验小学"]["requests"] == 3
    cli = hotline_in_process("hotspots", "list", "--data-dir", str(data), "--json", "--top", "20")
    assert cli.returncode == 0, cli.stderr
    listed = json.loads(cli.stdout)["hotspots"]
    keep = ("rank", "title", "place", "requests", "people", "ids")
    assert [{k: h[k] for k in keep} for h in listed] == [
        {k: h[k] for k in keep} for h in found["hotspots"]
    ]


def test_the_estates_burst_is_emerging_and_the_school_is_not(
    served: tuple[TestClient, Path],
) -> None:
    client, _ = served
    [burst] = get(client, "/api/analytics/hotspots").json()["emerging"]
    assert burst["place"] == "锦绣花园" and burst["recent"] == 6
    assert burst["surprise"] < 0.001


def test_bad_queries_are_refused_with_a_reason(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    for params in ({"days": 0}, {"days": 400}, {"days": "a"}, {"top": 0}):
        answer = get(client, "/api/analytics/hotspots", **params)
        assert answer.status_code == 422, params
        assert answer.json()["detail"], params


def test_the_page_shows_the_numbers_of_the_json(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    page = get(client, "/analytics")
    assert page.status_code == 200
    html = page.text
    found = get(client, "/api/analytics/hotspots").json()
    embedded = json.loads(
        re.search(r'<script type="application/json" id="an-data">(.*?)</script>', html, re.S).group(
            1
        )
    )
    assert [h["ids"] for h in embedded["hotspots"]] == [h["ids"] for h in found["hotspots"]]
    assert "新出现的热点" in html and "锦绣花园" in html
    assert "/static/vendor/echarts.min.js" in html
