"""web.app: routes, role declarations, health and metrics, without a running node."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sip_config import Settings
from web.app import create_app
from web.context import WebContext
from web.roles import route_table


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
    assert client.get("/metrics").status_code == 401
