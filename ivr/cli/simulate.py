"""``hotline simulate``: a day of calls through the ACD with virtual time."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

if TYPE_CHECKING:
    from call_routing.simulator import Scenario

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never cut (logs, grep)


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
    groups: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=12,
            help="Seat groups: 1 flat group, or 综合 plus specialist groups"
            " (default 1; 4 with --compare).",
        ),
    ] = None,
    policy: Annotated[
        str,
        typer.Option(help="Overflow policy: none, widen, backup, callback or all."),
    ] = "none",
    compare: Annotated[
        bool,
        typer.Option("--compare", help="Run every overflow policy on the same callers."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (a list of them with --compare).")
    ] = False,
) -> None:
    """Service level, ASA, abandonment and occupancy of a simulated day."""
    from dataclasses import replace

    from call_routing.simulator import POLICIES, Scenario, simulate

    try:
        shape = tuple(float(x) for x in profile.split(",") if x.strip())
    except ValueError:
        err.print("[red]error:[/red] --profile takes numbers: 0.6,1.5,1.3")
        raise typer.Exit(2) from None
    if patience is not None and patience <= 0:
        err.print("[red]error:[/red] --patience must be more than 0 seconds")
        raise typer.Exit(2)
    if policy not in POLICIES:
        err.print(f"[red]error:[/red] --policy takes one of {', '.join(POLICIES)}, not {policy!r}")
        raise typer.Exit(2)
    layout = groups if groups is not None else (4 if compare else 1)
    try:
        scenario = Scenario(
            agents,
            calls_per_hour,
            aht,
            hours,
            seed,
            patience,
            answer_within,
            wrap_up,
            shape,
            layout,
            POLICIES[policy],
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc} (--groups, --agents)")
        raise typer.Exit(2) from None
    if compare:
        _compare(scenario, [replace(scenario, overflow=p) for p in POLICIES.values()], as_json)
        return
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
    if scenario.overflow.name != "none" or layout > 1:
        table.add_row("answered through overflow", str(figures["overflowed"]))
        table.add_row("callbacks (done / gave up)", _callbacks(figures))
        table.add_row("diverted before queueing", str(figures["diverted"]))
    console.print(table)


def _callbacks(figures: dict) -> str:
    return (
        f"{figures['callbacks_requested']}"
        f" ({figures['callbacks_completed']} / {figures['callbacks_gave_up']})"
    )


def _compare(base: Scenario, scenarios: list[Scenario], as_json: bool) -> None:
    """Every policy on the same callers, side by side."""
    from call_routing.simulator import simulate

    if as_json:
        rows = [{"policy": s.overflow.name} | simulate(s).as_dict() for s in scenarios]
        print(json.dumps(rows, ensure_ascii=False))
        return
    results = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("simulating the day", total=float(len(scenarios)))
        for index, scenario in enumerate(scenarios):
            results.append(
                simulate(scenario, lambda done, i=index: bar.update(task, completed=i + done))
            )
    table = Table(
        title=f"{results[0].calls} calls ({base.calls_per_hour:g}/h, AHT {base.aht_s:g} s) to"
        f" {base.agents} agents in {base.groups} groups, seed {base.seed}",
        caption=f"SL: answered within {base.answer_within_s:g} s; aband.: abandoned;"
        " occ.: occupancy; callbacks: done/asked",
        box=box.SIMPLE,
        pad_edge=False,
    )
    for column in ("policy", "SL", "ASA", "aband.", "occ.", "overflow", "callbacks"):
        table.add_column(column, justify="left" if column == "policy" else "right", no_wrap=True)
    table.add_column("diverted", justify="right", no_wrap=True)
    for scenario, result in zip(scenarios, results, strict=True):
        f = result.as_dict()
        table.add_row(
            scenario.overflow.name,
            f"{f['service_level']:.1%}",
            f"{f['asa_s']:.1f} s",
            f"{f['abandon_rate']:.1%}",
            f"{f['occupancy']:.1%}",
            str(f["overflowed"]),
            f"{f['callbacks_completed']}/{f['callbacks_requested']}",
            str(f["diverted"]),
        )
    console.print(table)
