"""The JSON API's contract, case by case (tests/test_web_openapi.py fuzzes it):
what /openapi.json documents, one error shape (Problem; FastAPI's list for 422,
hand-made checks included, Chinese messages kept), ``Allow`` on 405, moments and
numbers read strictly, the limits of time held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recordings.catalog import CallCatalog
from sip_config import Settings
from tests.support.calls import make_call
from tests.support.web_roles import FakeAccounts, as_role
from tickets.store import TicketStore
from web.app import create_app
from web.context import WebContext
from web.roles import Role
from web.schemas.openapi import documented

ADMIN = as_role(Role.ADMIN)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(node={"data_dir": tmp_path}, recordings={"dir": tmp_path / "recordings"})
    with (
        TicketStore(settings.tickets_database_url) as store,
        CallCatalog(settings.tickets_database_url) as catalog,
    ):
        catalog.add_from_directory(
            make_call(settings.recordings_dir, "c1"), settings.recordings_dir
        )
        context = WebContext(settings, tickets=store, catalog=catalog, accounts=FakeAccounts())
        with TestClient(create_app(context)) as made:
            yield made


def errors(response: Any) -> list[tuple[list[Any], str]]:
    """A 422's errors as (loc, msg), after checking FastAPI's shape."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(error) for error in detail)
    return [(error["loc"], error["msg"]) for error in detail]


def problem(response: Any, status: int) -> str:
    """A refusal's ``detail``, after checking it is the Problem shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str)
    return str(body["detail"])


# -- what the document says -----------------------------------------------------------


def test_the_document_is_the_json_api_with_its_refusals(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert all(documented(path) for path in paths)
    assert {"/api/tickets", "/api/calls", "/healthz", "/metrics"} <= set(paths)
    assert not {"/", "/login", "/logout", "/qa", "/desk", "/account/password"} & set(paths)
    schemas = document["components"]["schemas"]
    assert {"Problem", "HTTPValidationError", "ValidationError"} <= set(schemas)
    assert not [name for name in schemas if name.startswith("Body_")], "pages' forms left out"
    assert set(document["components"]["securitySchemes"]) == {"token", "session"}
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path == "/healthz":
                assert "security" not in operation and set(responses) == {"200", "503"}
                continue
            assert operation["security"] == [{"token": []}, {"session": []}]
            assert {"401", "403"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert {"400", "422"} <= set(responses), (method, path)
    metrics = paths["/metrics"]["get"]["responses"]
    assert set(metrics["200"]["content"]) == {"text/plain"}
    assert set(metrics["401"]["content"]) == {"application/json"}
    assert set(paths["/api/tickets/{number}/transitions"]["post"]["responses"]) >= {
        "404",
        "409",
        "503",
    }


def test_the_score_body_names_the_criteria_of_this_node(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    scores = document["components"]["schemas"]["ScoreIn"]["properties"]["scores"]
    criteria = list(Settings().web.qa_criteria)
    assert scores["required"] == criteria and scores["additionalProperties"] is False
    assert scores["properties"][criteria[0]] == {"type": "number", "minimum": 0, "maximum": 10}


def test_filters_are_declared_as_what_they_are(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/calls"]["get"]["parameters"]
    }
    formats = [form.get("format") for form in parameters["start"]["anyOf"]]
    assert formats[:2] == ["date", "date-time"]
    assert parameters["emergency"]["enum"] == ["", "yes", "no"]
    assert {"type": "number", "minimum": 0} in parameters["min_duration"]["anyOf"]
    tickets = {
        p["name"]: p["schema"] for p in document["paths"]["/api/tickets"]["get"]["parameters"]
    }
    assert tickets["offset"]["maximum"] == 1_000_000
    assert "date-time" in [form.get("format") for form in tickets["created_from"]["anyOf"]]


# -- refusals -----------------------------------------------------------------------------


def test_every_refusal_is_a_problem(client: TestClient, tmp_path: Path) -> None:
    assert "登录" in problem(client.get("/api/tickets"), 401)
    assert "may not" in problem(client.get("/metrics", headers=as_role(Role.AGENT)), 403)
    missing = client.get("/api/tickets/GD12345-20260101-999999", headers=ADMIN)
    assert "GD12345-20260101-999999" in problem(missing, 404)
    assert "没有这个通话" in problem(client.get("/api/calls/nope", headers=ADMIN), 404)
    unreadable = client.post(
        "/api/tickets",
        content=b"\xff\xfe{",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert problem(unreadable, 400)
    bare = TestClient(create_app(WebContext(Settings(), accounts=FakeAccounts())))
    assert "ticket store" in problem(bare.get("/api/tickets", headers=ADMIN), 503)
    assert "通话目录" in problem(bare.get("/api/calls", headers=ADMIN), 503)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/tickets", "GET, POST"),
        ("DELETE", "/api/tickets/GD12345-20261128-000123", "GET"),
        ("GET", "/api/tickets/GD12345-20261128-000123/transitions", "POST"),
        ("PUT", "/api/calls/c1/recordings/qa", "GET, HEAD"),  # HEAD declared
        ("POST", "/metrics", "GET"),
    ],
)
def test_405_allows_every_method_of_the_path(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    refused = client.request(method, path, headers=ADMIN)
    problem(refused, 405)
    assert refused.headers["allow"] == allow


# -- 422: FastAPI's shape, the words users read kept -----------------------------------------


def test_a_number_is_not_a_moment(client: TestClient) -> None:
    refused = client.get("/api/tickets", params={"created_from": "0.5"}, headers=ADMIN)
    ((loc, msg),) = errors(refused)
    assert loc == ["query", "created_from"] and "日期时间格式应为" in msg
    for moment in (
        "2026-11-02",
        "2026-11-02T09:30",
        "2026-11-02T09:30:00+08:00",
        "2026-11-02T01:30:00Z",
    ):
        taken = client.get("/api/tickets", params={"created_before": moment}, headers=ADMIN)
        assert taken.status_code == 200, (moment, taken.text)
    for wrong in ("2026-02-30", "2026-11-02T25:00", "2026-11-02T09:30Z", "yesterday"):
        assert errors(client.get("/api/calls", params={"start": wrong}, headers=ADMIN))


def test_moments_at_the_ends_of_time_are_held_there(client: TestClient) -> None:
    for params in (
        {"start": "0001-01-01T00:00:00+23:00"},
        {"start": "0001-01-01T00:00"},
        {"end": "9999-12-31"},
        {"end": "9999-12-31T23:59:59-23:00"},
    ):
        listed = client.get("/api/calls", params=params, headers=ADMIN)
        assert listed.status_code == 200, (params, listed.text)
    early = client.get("/api/calls", params={"end": "0001-01-01"}, headers=ADMIN)
    assert early.json()["calls"] == []
    first = client.get(
        "/api/tickets", params={"created_from": "0001-01-01T00:00:00+01:00"}, headers=ADMIN
    )
    assert first.status_code == 200, first.text


def test_hand_made_checks_answer_in_fastapi_shape_with_their_chinese(client: TestClient) -> None:
    assert errors(client.get("/api/calls", params={"emergency": "maybe"}, headers=ADMIN)) == [
        (["query", "emergency"], "yes, no 或留空")
    ]
    ((loc, msg),) = errors(client.get("/api/calls", params={"min_duration": "abc"}, headers=ADMIN))
    assert loc == ["query", "min_duration"] and "应为数字" in msg
    assert errors(client.get("/api/calls", params={"max_duration": "-1"}, headers=ADMIN))
    assert client.get("/api/calls", params={"min_duration": ""}, headers=ADMIN).status_code == 200
    wrong = client.post("/api/calls/c1/score", json={"scores": {"态度": 8}}, headers=ADMIN)
    ((loc, msg),) = errors(wrong)
    assert loc == ["body", "scores"] and msg.startswith("评分项不符")
    criteria = {name: 8 for name in Settings().web.qa_criteria}
    too_high = client.post(
        "/api/calls/c1/score", json={"scores": {**criteria, "服务态度": 11}}, headers=ADMIN
    )
    assert [msg for _, msg in errors(too_high)] == ["每项 0–10 分"]
    not_a_number = client.post(
        "/api/calls/c1/score", json={"scores": {**criteria, "服务态度": True}}, headers=ADMIN
    )
    assert errors(not_a_number)
    saved = client.post("/api/calls/c1/score", json={"scores": criteria}, headers=ADMIN)
    assert saved.status_code == 201, saved.text


def test_bodies_take_json_types_strictly(client: TestClient) -> None:
    report = {"channel": "web", "content": "路灯坏了"}
    assert errors(client.post("/api/tickets", json={**report, "confidential": 0}, headers=ADMIN))
    blank = client.post("/api/tickets", json={**report, "content": " \u3000\n"}, headers=ADMIN)
    assert [loc for loc, _ in errors(blank)] == [["body", "content"]]
    taken = client.post(
        "/api/tickets", json={**report, "caller_number": " １３８-0013-8000 "}, headers=ADMIN
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["caller_number"] == "13800138000"
    tab = client.post("/api/tickets", json={**report, "caller_number": "138\t0013"}, headers=ADMIN)
    assert "not a phone number" in errors(tab)[0][1]
    number = taken.json()["number"]
    act = f"/api/tickets/{number}/transitions"
    assert errors(client.post(act, json={"action": "ACCEPT"}, headers=ADMIN))
    assert errors(client.post(act, json={"action": "accept", "reply": "好"}, headers=ADMIN))
    accepted = client.post(act, json={"action": "受理", "reply": " "}, headers=ADMIN)
    assert accepted.status_code == 200, accepted.text
    extension = {"action": "request_extension", "reason": "等待配件", "working_days": 3.0}
    # 3.0 is the integer 3: the lifecycle refuses it (not dispatched yet), not the schema
    assert client.post(act, json=extension, headers=ADMIN).status_code == 409
    assert errors(client.post(act, json={**extension, "working_days": "3"}, headers=ADMIN))
