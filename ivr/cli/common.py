"""What every ``hotline`` command shares: the settings, the consoles, the running
node's file and broker, the prompt catalogue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sip_config import ConfigError, Settings, load_settings

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never cut (logs, grep)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def node_settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, {k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(2) from None


def catalogue(settings: Settings) -> Any:
    """The node's prompt catalogue, or exit 2 with every problem on stderr."""
    from tts.catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(settings.prompts)
    except CatalogueError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(2) from None


def node_file(settings: Settings) -> dict[str, Any]:
    path = settings.run_dir / "node.json"
    try:
        node = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        err.print(
            f"no node has run with data directory {settings.node.data_dir} "
            f"({path} not found); start one with `hotline serve`"
        )
        raise typer.Exit(1) from None
    if node.get("state") == "stopped":
        err.print(f"node {node.get('node')} is stopped")
        raise typer.Exit(1)
    return node


def broker(settings: Settings, node: dict[str, Any]) -> tuple[str, int]:
    host, _, port = str(node.get("broker", "127.0.0.1:1883")).rpartition(":")
    return host, int(port)


async def collect_retained(
    settings: Settings, node: dict[str, Any], seconds: float
) -> dict[str, dict[str, Any]]:
    import aiomqtt

    from events.messages import decode
    from events.topics import ALL_AGENT_STATES, ALL_NODE_WIDE_STATUS, ALL_PART_STATUS

    host, port = broker(settings, node)
    found: dict[str, dict[str, Any]] = {}
    try:
        async with aiomqtt.Client(host, port, identifier=f"status-{time.time_ns()}") as client:
            await client.subscribe(ALL_PART_STATUS, qos=1)
            await client.subscribe(ALL_NODE_WIDE_STATUS, qos=1)
            await client.subscribe(ALL_AGENT_STATES, qos=1)

            async def read() -> None:
                async for message in client.messages:
                    with contextlib.suppress(ValueError, TypeError):
                        found[message.topic.value] = decode(bytes(message.payload)).data  # type: ignore[arg-type]

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(read(), seconds)
    except aiomqtt.MqttError as exc:
        err.print(f"cannot reach the node's broker at {host}:{port}: {exc}")
        raise typer.Exit(1) from None
    return found
