"""What the web app works with, created once in the hub and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sip_config import Settings
from web.console_view import ConsoleView
from web.fanout import Fanout

if TYPE_CHECKING:
    from recordings.catalog import CallCatalog
    from tickets.store import TicketStore


@dataclass
class WebContext:
    """The hub's live state and stores, as the routers see them.

    ``console`` is the hub as the consoles see it (:class:`~web.console_view.ConsoleView`):
    None when the app runs without calls (API tests, tools); routers that need
    live calls answer 503 then, and those that need agents also when it has none.
    ``accounts`` is ``web.auth``'s store.  ``directory`` is the department directory
    and dispatch catalogue (``tickets.departments.Directory``, set by the hub's
    assembly); None: the shipped example (:func:`web.deps.department_directory`).
    """

    settings: Settings
    console: ConsoleView | None = None  # the node, its agents, queues and switches
    tickets: TicketStore | None = None
    catalog: CallCatalog | None = None  # finished calls, for QA review and history
    accounts: Any = None
    directory: Any = None  # tickets.departments.Directory; None: the shipped example
    fanout: Fanout = field(default_factory=Fanout)
    extras: dict[str, Any] = field(default_factory=dict)
