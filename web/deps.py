"""The routers' dependencies, as FastAPI ``Annotated`` aliases: the app's context,
the console view (503 on a node without agents), and the signed-in principal of
the desk's and the wallboard's roles.  The lookups behind them are plain
functions too, for helpers that hold a request or a context rather than a
parameter (``ticket_store``, ``call_catalog``: 503 without one).

A role alias is one :class:`~web.roles.RolesDependency` instance, so a route
that also lists it in ``dependencies=`` (with the CSRF check) runs it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, status
from starlette.requests import HTTPConnection

from web.console_view import ConsoleView
from web.context import WebContext
from web.roles import Principal, Role, require_roles

if TYPE_CHECKING:
    from recordings.catalog import CallCatalog
    from tickets.departments import Directory
    from tickets.store import TicketStore


def get_context(connection: HTTPConnection) -> WebContext:
    """The app's :class:`WebContext` (``web.app.create_app`` keeps it on the app)."""
    return connection.app.state.context


ContextDep = Annotated[WebContext, Depends(get_context)]


def agents_console(context: WebContext) -> ConsoleView:
    """The console view of a node with agents; 503 without."""
    console = context.console
    if console is None or not console.has_agents():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "本节点未配置坐席 (no agents)")
    return console


def get_console(context: ContextDep) -> ConsoleView:
    return agents_console(context)


ConsoleDep = Annotated[ConsoleView, Depends(get_console)]


def ticket_store(context: WebContext) -> TicketStore:
    """The node's ticket store; 503 without one."""
    if context.tickets is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "工单库不可用 (no ticket store on this node)"
        )
    return context.tickets


def call_catalog(context: WebContext) -> CallCatalog:
    """The hub's call catalog (``WebContext.catalog``); 503 without one."""
    if context.catalog is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "通话目录未启用 (no call catalog)")
    return context.catalog


def department_directory(context: WebContext) -> Directory:
    """The node's department directory (``WebContext.directory``), else the shipped
    example (``tickets/directory/guangzhou.toml``)."""
    if context.directory is not None:
        return context.directory
    from tickets.departments import default_directory

    return default_directory()


agent_only = require_roles(Role.AGENT)
supervisors = require_roles(Role.SUPERVISOR, Role.ADMIN)
AgentDep = Annotated[Principal, Depends(agent_only)]  # a signed-in agent
SupervisorDep = Annotated[Principal, Depends(supervisors)]  # a supervisor or an admin
