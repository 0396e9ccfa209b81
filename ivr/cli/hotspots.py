"""``hotline hotspots``: 热点问题 — the problems many citizens raise about one
place, from a message-board export or from the node's own tickets."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ivr.cli.common import ConfigOpt, DataDirOpt, console, err, node_settings
from ivr.cli.ticket_work import fail, parse_now, ticket_store

hotspots_app = typer.Typer(
    help="热点问题: problems many citizens raise about one place.", no_args_is_help=True
)

TopOpt = Annotated[int, typer.Option("--top", min=1, help="How many hotspots to show.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object.")]
MinOpt = Annotated[
    int, typer.Option("--min-requests", min=2, help="Requests a hotspot has at least.")
]


@hotspots_app.command("detect")
def detect(
    file: Annotated[Path, typer.Argument(help="CSV: id,time,title,text[,likes,dislikes,user].")],
    top: TopOpt = 10,
    as_json: JsonOpt = False,
    min_requests: MinOpt = 2,
    config: ConfigOpt = None,
) -> None:
    """The hottest hotspots among the messages of FILE."""
    from analytics.message_rows import MessageFileError, requests_from_rows

    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            requests = requests_from_rows(reader.fieldnames or [], reader)
    except OSError as exc:
        raise fail(f"{file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise fail(f"{file}: not UTF-8 text; save the export as CSV UTF-8") from None
    except csv.Error as exc:
        raise fail(f"{file}: not a CSV file ({exc})") from None
    except MessageFileError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {file}: {problem}", highlight=False, markup=True)
        raise typer.Exit(2) from None
    heading = f"{file.name}: {len(requests)} 条留言"
    _show(requests, None, top, as_json, min_requests, heading, _classifier(config))


@hotspots_app.command("list")
def list_hotspots(
    days: Annotated[
        int, typer.Option("--days", min=1, max=366, help="Tickets of the last N days.")
    ] = 30,
    top: TopOpt = 10,
    as_json: JsonOpt = False,
    min_requests: MinOpt = 2,
    now: Annotated[str | None, typer.Option("--now", help="As of this ISO time.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The hottest hotspots among the node's tickets of the last DAYS days."""
    from web.hotspot_sources import ticket_requests

    moment = parse_now(now)
    with ticket_store(config, data_dir) as store:
        requests = ticket_requests(store, moment, days)
    heading = f"近 {days} 天工单: {len(requests)} 件"
    _show(requests, moment, top, as_json, min_requests, heading, _classifier(config))


def _classifier(config: Path | None) -> Any:
    """The kind of problem of requests without a category: the domain model the
    hub uses (``routing.model``, else the shipped one)."""
    from call_routing.nlu_model import ModelError, load

    try:
        model = load(node_settings(config).routing.model).domain
    except ModelError as exc:
        raise fail(str(exc)) from None
    return lambda titles: [p.scores for p in model.predict_all(titles)]


def _show(
    requests: list[Any],
    now: Any,
    top: int,
    as_json: bool,
    min_requests: int,
    heading: str,
    classify: Any,
) -> None:
    from analytics.hotspots import HotspotOptions, find_hotspots

    started = time.monotonic()
    if len(requests) > 2000 and sys.stderr.isatty():
        err.print(f"grouping {len(requests)} requests…")
    options = HotspotOptions(min_requests=min_requests)
    hotspots = find_hotspots(requests, now, options, classify)[:top]
    if as_json:
        print(json.dumps({"hotspots": [h.as_json() for h in hotspots]}, ensure_ascii=False))
        return
    table = Table(title=f"热点问题 — {heading}", title_justify="left")
    table.add_column("排名", justify="right")
    table.add_column("热点问题", ratio=3, overflow="fold")
    table.add_column("地点", ratio=1, overflow="fold")
    table.add_column("时间范围", no_wrap=True)
    for name in ("热度", "诉求", "人数"):
        table.add_column(name, justify="right", no_wrap=True)
    for h in hotspots:
        span = (
            f"{h.start:%Y-%m-%d}~{h.end:%m-%d}"
            if h.start.year == h.end.year
            else (f"{h.start:%Y-%m-%d}~{h.end:%Y-%m-%d}")
        )
        figures = (f"{h.heat:.1f}", str(h.requests), str(h.people))
        table.add_row(str(h.rank), h.title, h.place or "—", span, *figures)
    console.print(table)
    if not hotspots:
        console.print("没有发现热点问题（至少两件诉求说同一地点的同一问题）。")
    err.print(
        f"{len(requests)} requests grouped in {time.monotonic() - started:.1f} s", highlight=False
    )
