"""``hotline serve``, ``status``, ``events tail`` and ``config check``: the node itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ivr.cli.common import (
    ConfigOpt,
    DataDirOpt,
    broker,
    catalogue,
    collect_retained,
    console,
    err,
    node_file,
    node_settings,
)

config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
events_app = typer.Typer(help="Watch the node's event bus.", no_args_is_help=True)


def serve(
    config: ConfigOpt = None,
    sip_port: Annotated[int | None, typer.Option(help="SIP port (UDP and TCP).")] = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[int | None, typer.Option(help="Number of media workers.")] = None,
) -> None:
    """Start the node: Kamailio, Mosquitto, media workers and the hub."""
    from ivr.node.logs import configure
    from ivr.node.preflight import PreflightError
    from ivr.node.supervisor import serve as run_serve

    settings = node_settings(
        config, **{"sip.port": sip_port, "node.data_dir": data_dir, "workers.count": workers}
    )
    configure("supervisor", settings.node.log_level)
    try:
        code = asyncio.run(run_serve(settings))
    except PreflightError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def status(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the node's parts, their health and the calls in progress."""
    settings = node_settings(config, **{"node.data_dir": data_dir})
    node = node_file(settings)
    retained = asyncio.run(collect_retained(settings, node, seconds=0.7))
    workers = {d["worker"]: d for t, d in retained.items() if "/workers/" in t}
    hub = next((d for t, d in retained.items() if t.endswith("/hub/status")), {})
    agents = {d["agent_id"]: d for t, d in retained.items() if t.endswith("/state")}
    if as_json:
        print(
            json.dumps(
                {"node": node, "workers": workers, "hub": hub, "agents": agents},
                ensure_ascii=False,
            )
        )
        return
    console.print(
        f"node [bold]{node['node']}[/bold]: {node['state']}, SIP {node['sip']}, "
        f"numbers {', '.join(node['numbers'])}, broker {node['broker']}"
    )
    print_admission(node.get("admission"))
    table = Table("part", "state", "pid", "restarts", "up", "calls")
    now = time.time()
    for part in node["parts"]:
        calls = ""
        if part["name"].startswith("worker-"):
            info = workers.get(part["name"].removeprefix("worker-"), {})
            calls = f"{len(info.get('calls', []))}/{info.get('capacity', '?')}"
            if info.get("state") and info.get("state") != "up":
                part["state"] = f"{part['state']} ({info['state']})"
        elif part["name"] == "hub":
            calls = str(hub.get("calls", ""))
        up = f"{now - part['since']:.0f}s" if part["since"] and part["pid"] else "-"
        table.add_row(
            part["name"], part["state"], str(part["pid"] or "-"), str(part["restarts"]), up, calls
        )
    console.print(table)
    if agents:
        counts: dict[str, int] = {}
        for state in agents.values():
            counts[str(state.get("status"))] = counts.get(str(state.get("status")), 0) + 1
        summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
        console.print(f"agents: {summary} (hotline agents list)", highlight=False)
    active = [c for w in workers.values() for c in w.get("calls", [])]
    if active:
        calls_table = Table("call", "worker", "caller", "state", "for")
        for w in workers.values():
            for c in w.get("calls", []):
                calls_table.add_row(
                    c["call_id"],
                    w["worker"],
                    c.get("caller", ""),
                    c.get("state", ""),
                    f"{now - c.get('since', now):.0f}s",
                )
        console.print(calls_table)
    else:
        console.print("no calls in progress")


def print_admission(admission: object) -> None:
    """The SIP front's admission: every new call let in, or shedding (系统繁忙)."""
    if not isinstance(admission, dict):
        return
    refused = admission.get("refused") or {}
    counts = (
        f"refused since start: {admission.get('refused_total', 0)} "
        f"(setup rate {refused.get('rate', 0)}, saturated {refused.get('load', 0)}, "
        f"hub too slow {refused.get('hub_slow', 0)}, no worker free {refused.get('full', 0)})"
    )
    if admission.get("state") == "shedding":
        console.print(
            f"[bold red]shedding (系统繁忙)[/bold red]: admitting {admission.get('admit_pct')}% "
            f"of new calls: {admission.get('reason', '')}; {counts}",
            highlight=False,
        )
    else:
        console.print(f"admitting every new call; {counts}", highlight=False)


@events_app.command("tail")
def events_tail(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    count: Annotated[int, typer.Option(help="Stop after this many messages (0: never).")] = 0,
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: never).")] = 0,
) -> None:
    """Print every command, event and status on the bus, one JSON line each."""
    from events.messages import decode
    from events.topics import ALL

    settings = node_settings(config, **{"node.data_dir": data_dir})
    host, port = broker(settings, node_file(settings))

    async def tail() -> None:
        import aiomqtt

        seen = 0
        async with aiomqtt.Client(host, port, identifier=f"tail-{time.time_ns()}") as client:
            await client.subscribe(ALL, qos=1)
            async for message in client.messages:
                try:
                    decoded = decode(bytes(message.payload))  # type: ignore[arg-type]
                except ValueError as exc:
                    print(json.dumps({"topic": message.topic.value, "error": str(exc)}))
                    continue
                print(
                    json.dumps(
                        {
                            "topic": message.topic.value,
                            "type": decoded.type,
                            "ts": decoded.ts,
                            "id": decoded.id,
                            "data": decoded.data,
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
                seen += 1
                if count and seen >= count:
                    return

    with contextlib.suppress(KeyboardInterrupt, TimeoutError):
        asyncio.run(asyncio.wait_for(tail(), seconds) if seconds else tail())


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="TOML settings file.")]) -> None:
    """Validate a settings file; every error names the key, the value and what is allowed."""
    settings = node_settings(file)
    prompts = len(catalogue(settings))
    console.print(
        f"{file}: OK (node {settings.node.name}, SIP {settings.sip.listen}:"
        f"{settings.sip.port}, {settings.workers.count} workers, {prompts} prompts)",
        highlight=False,
    )
