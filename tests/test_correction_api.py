"""GET /api/supervision/corrections: the agents' corrections per domain the model
gave, for supervisors and admins (web.routers.supervision), through FastAPI's
TestClient on a real ticket store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sip_config import Settings
from tests.support.web_roles import FakeAccounts, as_role, assert_role_matrix, route_roles
from tickets.examples import save_corrected
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore
from web.app import create_app
from web.context import WebContext
from web.roles import Role

URL = "/api/supervision/corrections"
SUPERVISOR = as_role(Role.SUPERVISOR)
CALL = TicketDraft(
    caller_number="13800138000",
    request_type=RequestType.COMPLAINT,
    domain="城乡建设",
    category_code="CX05",
    lead_department="城市管理和综合执法局",
    content="小区门口的路灯坏了",
    call_id="c-1",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}") as opened:
        yield opened


@pytest.fixture
def client(store: TicketStore) -> Iterator[TestClient]:
    context = WebContext(Settings(), tickets=store, accounts=FakeAccounts())
    with TestClient(create_app(context)) as made:
        yield made


def calls(store: TicketStore, domain: str, count: int, at: datetime) -> list[str]:
    return [
        store.create(dataclasses.replace(CALL, domain=domain, call_id=f"{domain}-{n}"), at).number
        for n in range(count)
    ]


def correct(store: TicketStore, number: str, at: datetime, **labels: str) -> None:
    before = store.get(number)
    values = {k: RequestType(v) if k == "request_type" else v for k, v in labels.items()}
    save_corrected(store, before, dataclasses.replace(before, **values), "1002", at)


def test_only_supervisors_and_admins_see_the_corrections(client: TestClient) -> None:
    app = client.app
    assert route_roles(app, prefix="/api/supervision") == {  # type: ignore[arg-type]
        ("GET", URL): frozenset({Role.SUPERVISOR, Role.ADMIN})
    }
    assert_role_matrix(app, {("GET", URL): {Role.SUPERVISOR, Role.ADMIN}})  # type: ignore[arg-type]
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=as_role(Role.AGENT)).status_code == 403
    assert client.get(URL, headers=as_role(Role.QA)).status_code == 403


@pytest.mark.parametrize("days", ["0", "-1", "93", "abc", "7.5", ""])
def test_bad_days_are_refused(client: TestClient, days: str) -> None:
    answer = client.get(URL, params={"days": days}, headers=SUPERVISOR)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "days"]


def test_the_rates_per_domain_and_the_most_frequent_changes(
    client: TestClient, store: TicketStore
) -> None:
    now = datetime.now(UTC)
    building = calls(store, "城乡建设", 5, now - timedelta(days=1))
    for number in building[:3]:
        correct(store, number, now, domain="交通运输")
    correct(store, building[0], now, request_type="求助")  # the same ticket again
    traffic = calls(store, "交通运输", 2, now - timedelta(days=2))
    correct(store, traffic[0], now, lead_department="交通运输局")
    old = calls(store, "环境保护", 3, now - timedelta(days=10))
    correct(store, old[0], now, domain="城乡建设")

    answer = client.get(URL, headers=SUPERVISOR)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["days"] == 7 and (report["understood"], report["corrected"]) == (7, 4)
    by_domain = {d["domain"]: d for d in report["domains"]}
    assert [d["domain"] for d in report["domains"]] == ["城乡建设", "交通运输"]  # most first
    first = by_domain["城乡建设"]
    assert (first["understood"], first["corrected"]) == (5, 3)
    assert first["rate"] == pytest.approx(0.6)
    assert first["changes"][0] == {
        "label": "domain",
        "predicted": "城乡建设",
        "corrected": "交通运输",
        "count": 3,
    }
    assert {"label": "request_type", "predicted": "投诉", "corrected": "求助", "count": 1} in (
        first["changes"]
    )
    assert len(first["changes"]) <= 3
    second = by_domain["交通运输"]
    assert (second["understood"], second["corrected"], second["rate"]) == (2, 1, 0.5)

    month = client.get(URL, params={"days": 30}, headers=SUPERVISOR).json()
    assert {d["domain"] for d in month["domains"]} == {"城乡建设", "交通运输", "环境保护"}
    assert month["understood"] == 10


def test_without_a_ticket_store_the_answer_is_503() -> None:
    context = WebContext(Settings(), accounts=FakeAccounts())
    with TestClient(create_app(context)) as client:
        answer = client.get(URL, headers=SUPERVISOR)
    assert answer.status_code == 503 and "工单库" in answer.json()["detail"]
