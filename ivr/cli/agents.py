"""``hotline agents``: see agents' states and change them from a terminal.

The same commands the web desk sends (log in, ready, not ready with a reason,
wrap-up done, log out) go over the node's bus to the hub, which answers each
one; a refused change (e.g. ready while logged out) exits 1 with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from events import messages as m
from events import topics

agents_app = typer.Typer(help="Agents' states: list them, log in, ready, not ready, log out.")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never cut (logs, grep)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]
AgentArg = Annotated[str, typer.Argument(help="The agent's id, e.g. 1001.")]

_STATUS_ZH = {
    "logged_out": "未登录",
    "available": "就绪",
    "offered": "振铃",
    "on_call": "通话",
    "wrap_up": "话后处理",
    "not_ready": "小休",
}


def _broker(config: Path | None, data_dir: Path | None) -> tuple[str, int]:
    from ivr.cli import common  # the node's settings, loaded the way every command does

    settings = common.node_settings(config, **{"node.data_dir": data_dir})
    return common.broker(settings, common.node_file(settings))


async def _send(host: str, port: int, agent_id: str, command: str, data: dict) -> dict[str, Any]:
    import aiomqtt

    message = m.Message(command, data)
    replies = topics.agent_command_replies(agent_id)
    async with aiomqtt.Client(host, port, identifier=f"agents-{time.time_ns()}") as client:
        await client.subscribe(replies, qos=1)
        await client.publish(topics.agent_commands(agent_id), m.encode(message), qos=1)
        async for incoming in client.messages:
            reply = m.decode(bytes(incoming.payload))  # type: ignore[arg-type]
            if reply.data.get("command_id") == message.id:
                return reply.data
    return {"ok": False, "error": "no reply"}


def _command(
    config: Path | None, data_dir: Path | None, agent_id: str, command: str, **data: Any
) -> None:
    import aiomqtt

    host, port = _broker(config, data_dir)
    try:
        reply = asyncio.run(asyncio.wait_for(_send(host, port, agent_id, command, data), 10))
    except TimeoutError:
        err.print("error: the hub did not answer in 10 s; is the node running with agents?")
        raise typer.Exit(1) from None
    except aiomqtt.MqttError as exc:
        err.print(f"error: cannot reach the node's broker at {host}:{port}: {exc}")
        raise typer.Exit(1) from None
    if not reply.get("ok"):
        err.print(f"error: {reply.get('error')}", highlight=False)
        raise typer.Exit(1)
    console.print(f"{agent_id}: {command.removeprefix('agent.')} done", highlight=False)


@agents_app.command("login")
def login(agent_id: AgentArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Log in: the agent is ready for calls (就绪)."""
    _command(config, data_dir, agent_id, m.AGENT_LOGIN)


@agents_app.command("ready")
def ready(agent_id: AgentArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Ready again after a break (就绪)."""
    _command(config, data_dir, agent_id, m.AGENT_READY)


@agents_app.command("not-ready")
def not_ready(
    agent_id: AgentArg,
    reason: Annotated[str, typer.Option(help="Reason code, e.g. 小休, 培训, 会议.")] = "小休",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Not ready, with a reason (小休): no calls are offered."""
    _command(config, data_dir, agent_id, m.AGENT_NOT_READY, reason=reason)


@agents_app.command("done")
def done(agent_id: AgentArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Wrap-up done (话后处理完成) before its time is up."""
    _command(config, data_dir, agent_id, m.AGENT_WRAP_UP_DONE)


@agents_app.command("logout")
def logout(agent_id: AgentArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Log out."""
    _command(config, data_dir, agent_id, m.AGENT_LOGOUT)


@agents_app.command("list")
def list_agents(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Every agent's state as the hub last published it."""
    import aiomqtt

    host, port = _broker(config, data_dir)

    async def collect() -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        async with aiomqtt.Client(host, port, identifier=f"agents-{time.time_ns()}") as client:
            await client.subscribe(topics.ALL_AGENT_STATES, qos=1)

            async def read() -> None:
                async for message in client.messages:
                    state = m.decode(bytes(message.payload)).data  # type: ignore[arg-type]
                    found[str(state.get("agent_id"))] = state

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(read(), 1.0)
        return found

    try:
        states = asyncio.run(collect())
    except aiomqtt.MqttError as exc:
        err.print(f"error: cannot reach the node's broker at {host}:{port}: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(states, ensure_ascii=False))
        return
    if not states:
        console.print("no agents (none configured, or the hub is not running)")
        return
    table = Table("agent", "name", "state", "reason", "call", "answered", "missed in a row")
    for agent_id, state in sorted(states.items()):
        status = str(state.get("status", ""))
        table.add_row(
            agent_id,
            str(state.get("name", "")),
            f"{_STATUS_ZH.get(status, status)} ({status})",
            str(state.get("reason") or ""),
            str(state.get("call_id") or ""),
            str(state.get("calls_answered", 0)),
            str(state.get("missed_in_a_row", 0)),
        )
    console.print(table)
