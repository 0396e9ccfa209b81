"""``hotline staffing``: seats needed for a service target (Erlang C, or A with patience);
``hotline capacity``: workers, ASR streams and hosts for a peak hour (Erlang B)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _fail(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def staffing_command(
    calls_per_hour: Annotated[
        float | None, typer.Option(help="Offered calls per hour (one interval).")
    ] = None,
    aht: Annotated[float, typer.Option(help="Average handling time, seconds.")] = 180.0,
    answer_within: Annotated[
        float, typer.Option(help="Target answer time, seconds (GB/T 33358: 15).")
    ] = 15.0,
    service_level: Annotated[
        float, typer.Option(help="Share answered within that time (GB/T 33358: 0.95).")
    ] = 0.95,
    patience: Annotated[
        float | None, typer.Option(help="Mean caller patience, seconds: Erlang A.")
    ] = None,
    forecast: Annotated[
        Path | None,
        typer.Option(help="CSV with columns interval,calls (calls in each interval)."),
    ] = None,
    interval_minutes: Annotated[int, typer.Option(help="Length of a forecast interval.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Seats needed per interval for a service target, from a forecast or one load."""
    from call_routing.staffing import agents_needed

    if (calls_per_hour is None) == (forecast is None):
        _fail("give --calls-per-hour for one interval, or --forecast FILE.csv")
    intervals: list[tuple[str, float]] = []
    if forecast is not None:
        if not forecast.exists():
            _fail(f"no such file: {forecast}")
        with forecast.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"interval", "calls"} <= set(reader.fieldnames or ()):
                _fail(f"{forecast}: needs the columns interval,calls")
            for number, row in enumerate(reader, 2):
                try:
                    calls = float(row["calls"])
                except ValueError:
                    _fail(f"{forecast}:{number}: calls must be a number, not {row['calls']!r}")
                intervals.append((row["interval"], calls * 60 / interval_minutes))
    else:
        intervals.append(("", float(calls_per_hour or 0)))
    results = []
    for label, per_hour in intervals:
        try:
            result = agents_needed(per_hour, aht, answer_within, service_level, patience)
        except ValueError as exc:
            _fail(str(exc))
        results.append((label, per_hour, result))
    if as_json:
        if forecast is None:
            print(json.dumps(results[0][2].as_dict()))
        else:
            rows = [
                {"interval": label, "calls_per_hour": per_hour, **result.as_dict()}
                for label, per_hour, result in results
            ]
            print(json.dumps(rows, ensure_ascii=False))
        return
    model = "Erlang C" if patience is None else f"Erlang A (patience {patience:g} s)"
    table = Table(
        "interval",
        "calls/h",
        "seats",
        f"answered ≤ {answer_within:g} s",
        "ASA s",
        "P(wait)",
        "abandon",
        "occupancy",
        title=f"{model}, AHT {aht:g} s, target {service_level:.0%} within {answer_within:g} s",
    )
    for label, per_hour, r in results:
        table.add_row(
            label or "-",
            f"{per_hour:g}",
            str(r.agents),
            f"{r.service_level:.1%}",
            f"{r.asa_s:.1f}",
            f"{r.p_wait:.3f}",
            f"{r.p_abandon:.3f}",
            f"{r.occupancy:.0%}",
        )
    console.print(table)


def capacity_command(
    calls_per_hour: Annotated[float, typer.Option(help="Offered calls in the peak hour.")],
    call_s: Annotated[
        float,
        typer.Option(help="Mean seconds a call spends on the node: IVR, queue and talk."),
    ] = 240.0,
    blocking: Annotated[
        float, typer.Option(help="Share of calls the node may refuse with 503 (Erlang B).")
    ] = 0.01,
    agents: Annotated[
        bool,
        typer.Option(
            "--agents/--no-agents", help="Calls are bridged to agents (a worker carries 2)."
        ),
    ] = True,
    listening_share: Annotated[
        float, typer.Option(help="Part of a call's time its audio streams to the ASR service.")
    ] = 0.25,
    calls_per_host: Annotated[
        int, typer.Option(help="Concurrent recorded calls one host carries (bench/ramp.py).")
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Workers, ASR streams and hosts for a peak hour (Erlang B: beyond it, 503)."""
    from call_routing.capacity import node_size

    try:
        size = node_size(calls_per_hour, call_s, blocking, agents, listening_share, calls_per_host)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(size.as_dict()))
        return
    table = Table(
        "load (Erlang)",
        "concurrent calls",
        "refused",
        "workers.count",
        "ASR streams",
        "hosts",
        title=(
            f"{calls_per_hour:g} calls/h × {call_s:g} s, at most {blocking:.1%} refused, "
            f"{calls_per_host} calls per host"
        ),
    )
    table.add_row(
        f"{size.load_erlang:.1f}",
        str(size.calls),
        f"{size.blocking:.2%}",
        str(size.workers),
        str(size.asr_streams),
        str(size.hosts),
    )
    console.print(table)
