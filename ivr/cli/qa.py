"""``hotline qa``: the call catalog QA review reads (reindex after recordings were
made while the hub was down, or copied in from another node)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

qa_app = typer.Typer(help="QA review: the catalog of recorded calls.")
console = Console()
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


@qa_app.command("reindex")
def reindex(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Re-read calls already in the catalog too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Index every finished call under the recordings folder, with a progress bar."""
    from ivr.cli import common
    from recordings.catalog import CallCatalog

    settings = common.node_settings(config, **{"node.data_dir": data_dir})
    root = settings.recordings_dir
    try:
        catalog = CallCatalog(settings.tickets_database_url)
    except Exception as exc:
        err.print(f"[red]error:[/red] cannot open the call catalog: {exc}", highlight=False)
        raise typer.Exit(2) from None
    with catalog, Progress(console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("indexing calls", total=None)

        def moved(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = catalog.reindex(root, skip_known=not everything, progress=moved)
    summary = {"added": result.added, "skipped": result.skipped, "failed": result.failed}
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        console.print(
            f"{root}: {result.added} calls indexed, {result.skipped} already there or "
            f"still recording, {len(result.failed)} unreadable",
            highlight=False,
        )
        for problem in result.failed:
            err.print(f"  {problem}", highlight=False)
    if result.failed:
        raise typer.Exit(1)
