"""A node's web app served on a loopback port, without telephony: a hub with agents
on the in-memory bus, the ticket store, the call catalog with one recorded call,
accounts with an admin (``root`` / ``admin-pass-1``) and an agent, and an API token
for each (the OpenAPI test and the wallboard's browser test)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from argon2 import PasswordHasher

from events.memory import MemoryBus
from ivr.hub.call_tickets import CallTickets
from ivr.hub.console import Console
from ivr.hub.flow import FlowOptions
from ivr.hub.hub import Hub
from ivr.hub.seat_plan import build_seating
from recordings.catalog import CallCatalog
from sip_config import Settings
from tests.support.calls import T0, make_call
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore
from web.accounts import Accounts
from web.app import create_app
from web.context import WebContext
from web.roles import Role

ADMIN = ("root", "admin-pass-1")

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class ServedNode:
    base_url: str
    admin_token: str
    agent_token: str
    ticket: str
    call_id: str


def _config(data_dir: Path) -> Settings:
    return Settings(
        node={"data_dir": data_dir},
        recordings={"dir": data_dir / "recordings"},
        agents=[
            {"id": "1001", "name": "张敏", "password": "pw1", "seat_groups": ["综合", "城建"]},
            {"id": "1002", "name": "李华", "password": "pw2", "seat_groups": ["综合"]},
        ],
        seat_groups={"综合": {"backup_groups": ["城建"], "backup_after_s": 120}, "城建": {}},
        sip={"port": 5070},
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_node(data_dir: Path) -> Iterator[ServedNode]:
    """The app of a node (hub with agents, stores, accounts) served on 127.0.0.1."""
    config = _config(data_dir)
    url = config.tickets_database_url
    store = TicketStore(url)
    catalog = CallCatalog(url)
    accounts = Accounts(url, config.web, hasher=FAST)
    ticket = store.create(
        TicketDraft(
            caller_number="13800138000",
            request_type=RequestType.COMPLAINT,
            domain="城市管理",
            content="楼下路灯坏了一个星期",
            call_id="c1",
        ),
        T0,
    )
    catalog.add_from_directory(
        make_call(config.recordings_dir, "c1", agent="1001", ticket=ticket.number),
        config.recordings_dir,
    )
    accounts.add_user(ADMIN[0], Role.ADMIN, ADMIN[1])
    accounts.add_user("zhang", Role.AGENT, "agent-pass-1", agent_id="1001")
    _, admin_token = accounts.create_token("root", "schemathesis")
    _, agent_token = accounts.create_token("zhang", "schemathesis")
    hub = Hub(
        MemoryBus(),
        "node1",
        options=FlowOptions(seats=True),
        tickets=CallTickets(store),
        seating=lambda flows: build_seating(config, flows),
        render=lambda text: f"dynamic/{len(text)}",
    )
    context = WebContext(
        config, console=Console(hub), tickets=store, catalog=catalog, accounts=accounts
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context), host="127.0.0.1", port=port, log_level="error", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield ServedNode(f"http://127.0.0.1:{port}", admin_token, agent_token, ticket.number, "c1")
    finally:
        server.should_exit = True
        thread.join(10)
        accounts.close()
        catalog.close()
        store.close()
