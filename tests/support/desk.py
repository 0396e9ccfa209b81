"""The agent desk's world for web tests: a real hub with seats and a ticket store on
the in-memory bus with a fake clock, its web app, and a TestClient on the app's loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

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
from tests.support.clock import FakeClock
from tests.support.hub_messages import NODE, event
from tests.support.seating import MONDAY_10, dials, settings
from tests.support.understanding import scripted
from tests.support.web_roles import FakeAccounts, principal_for_role
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
