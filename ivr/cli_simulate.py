"""``hotline simulate``: a day of calls through the ACD with virtual time."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

console = Console()


def simulate_command(
    agents: Annotated[int, typer.Option(min=1, help="Agents logged in all day.")] = 14,
    calls_per_hour: Annotated[
        float, typer.Option(min=0, help="Mean offered calls per hour.")
    ] = 200,
    aht: Annotated[float, typer.Option(min=1, help="Average handling time, seconds.")] = 180,
    hours: Annotated[float, typer.Option(min=0.1, max=24 * 7, help="Length of the day.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed, the same day).")] = 1,
    patience: Annotated[
        float | None, typer.Option(help="Mean caller patience, seconds (default: endless).")
    ] = None,
    answer_within: Annotated[float, typer.Option(help="Service-level time, seconds.")] = 15,
    wrap_up: Annotated[float, typer.Option(min=0, help="Wrap-up after each call, seconds.")] = 0,
    profile: Annotated[
        str,
        typer.Option(help="Hourly load multipliers, e.g. 0.6,1.5,1.3,1.0 (a morning peak)."),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Service level, ASA, abandonment and occupancy of a simulated day."""
    from call_routing.simulator import Scenario, simulate

    try:
        shape = tuple(float(x) for x in profile.split(",") if x.strip())
    except ValueError:
        Console(stderr=True).print("[red]error:[/red] --profile takes numbers: 0.6,1.5,1.3")
        raise typer.Exit(2) from None
    if patience is not None and patience <= 0:
        Console(stderr=True).print("[red]error:[/red] --patience must be more than 0 seconds")
        raise typer.Exit(2)
    scenario = Scenario(
        agents, calls_per_hour, aht, hours, seed, patience, answer_within, wrap_up, shape
    )
    if as_json:
        print(json.dumps(simulate(scenario).as_dict(), ensure_ascii=False))
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("simulating the day", total=1.0)
        result = simulate(scenario, lambda done: bar.update(task, completed=done))
    figures = result.as_dict()
    table = Table(
        show_header=False, title=f"{agents} agents, {calls_per_hour:g} calls/h, AHT {aht:g} s"
    )
    table.add_row("calls", str(figures["calls"]))
    table.add_row(f"answered within {answer_within:g} s", f"{figures['service_level']:.1%}")
    table.add_row("average speed of answer", f"{figures['asa_s']:.1f} s")
    table.add_row("abandoned", f"{figures['abandon_rate']:.1%}")
    table.add_row("occupancy", f"{figures['occupancy']:.1%}")
    table.add_row("longest wait", f"{figures['longest_wait_s']:.0f} s")
    console.print(table)
