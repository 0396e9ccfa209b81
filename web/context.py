"""What the web app works with, created once in the hub and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sip_config import Settings
from web.fanout import Fanout

if TYPE_CHECKING:
    from ivr.hub.console import Console
    from ivr.hub.hub import Hub
    from recordings.catalog import CallCatalog
    from tickets.store import TicketStore


@dataclass
class WebContext:
    """The hub's live state and stores, as the routers see them.

    ``hub`` is None when the app runs without calls (API tests, tools); routers
    that need live calls answer 503 then.  ``accounts`` is ``web.auth``'s store.
    """

    settings: Settings
    hub: Hub | None = None
    console: Console | None = None  # agents, queues and switches (None without agents)
    tickets: TicketStore | None = None
    catalog: CallCatalog | None = None  # finished calls, for QA review and history
    accounts: Any = None
    fanout: Fanout = field(default_factory=Fanout)
    extras: dict[str, Any] = field(default_factory=dict)
