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


def test_every_state_changing_route_for_signed_in_users_needs_csrf() -> None:
    from tests.web_roles import routes_without_csrf

    assert routes_without_csrf(create_app(WebContext(Settings()))) == []


async def test_metrics_name_queues_service_level_asr_and_restarts(tmp_path) -> None:
    import json

    from events import messages as m
    from events.memory import MemoryBus
    from tests.test_hub import FakeClock, event, worker_status
    from tests.test_seating import MONDAY_10, hub_with, queued_call, settings
    from tests.web_roles import as_role, fake_accounts
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
    app = create_app(WebContext(config, hub=hub))
    with fake_accounts(app):
        text = TestClient(app).get("/metrics", headers=as_role(Role.SUPERVISOR)).text
    assert 'hotline_calls_waiting{group="综合"} 1.0' in text
    assert 'hotline_asr_frames_dropped{worker="w1"} 7.0' in text
    assert 'hotline_asr_final_latency_seconds{quantile="0.5"} 0.4' in text
    assert 'hotline_part_restarts{part="worker-w1"} 2.0' in text
    with fake_accounts(app):
        refused = TestClient(app).get("/metrics", headers=as_role(Role.AGENT))
    assert refused.status_code == 403
