"""``hotline asr``: the ASR service, one-off transcription and the accuracy evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ivr.cli.common import (
    ConfigOpt,
    console,
    err,
    node_settings,
)

asr_app = typer.Typer(help="Offline speech recognition tools.", no_args_is_help=True)


def _recognizer():  # noqa: ANN202 (engine types import heavy libraries)
    from asr.engines import open_recognizer
    from asr.models import ModelError
    from asr.recognizer import RecognizerError

    try:
        return open_recognizer(node_settings(None).asr)  # asr.engine from HOTLINE_ASR__*
    except (ModelError, RecognizerError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


@asr_app.command("serve")
def asr_serve(
    config: ConfigOpt = None,
    port: Annotated[int | None, typer.Option(help="WebSocket port.")] = None,
) -> None:
    """Run the ASR service on its own (``hotline serve`` starts it for a node)."""
    from ivr.node.asr_service import serve_until_signalled

    serve_until_signalled(node_settings(config, **{"asr.port": port}))


@asr_app.command("transcribe")
def asr_transcribe(
    files: Annotated[list[Path], typer.Argument(help="16-bit PCM WAV files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Print each file's transcript with segment times."""
    from asr.audio import read_wav

    recognizer = _recognizer()
    failed = False
    for path in files:
        try:
            samples, rate = read_wav(path)
            if rate not in (8000, 16000):
                raise ValueError(f"{path}: {rate} Hz; 8000 or 16000 Hz is needed")
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            failed = True
            continue
        transcript = recognizer.transcribe(samples, rate)
        if as_json:
            print(
                json.dumps(
                    {
                        "path": str(path),
                        "text": transcript.text,
                        "rtf": round(transcript.rtf, 3),
                        "withheld": transcript.withheld,
                        "segments": [
                            {
                                "start_s": s.start_s,
                                "end_s": s.end_s,
                                "text": s.text,
                                "confidence": s.confidence,
                            }
                            for s in transcript.segments
                        ],
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
            continue
        console.print(
            f"[bold]{path}[/bold]  ({transcript.audio_s:.1f} s, RTF {transcript.rtf:.2f})"
            + (f"  no words: {transcript.withheld}" if transcript.withheld else ""),
            highlight=False,
        )
        for segment in transcript.segments:
            console.print(
                f"  [{segment.start_s:6.2f} – {segment.end_s:6.2f}] {segment.text}", highlight=False
            )
    if failed:
        raise typer.Exit(1)


@asr_app.command("eval")
def asr_eval(
    manifest: Annotated[Path, typer.Argument(help="TSV with columns path, transcript.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Character error rate, real-time factor and latency on a manifest of recordings."""
    from rich.progress import Progress

    from asr.evaluation import evaluate, read_manifest

    try:
        rows = read_manifest(manifest)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    recognizer = _recognizer()
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("transcribing", total=len(rows))
        try:
            result = evaluate(recognizer, rows, progress=lambda _: bar.advance(task))
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return
    table = Table("file", "CER", "RTF", "hypothesis", "reference")
    for f in result.files:
        table.add_row(
            f.path, f"{f.cer:.3f}", f"{f.decode_s / f.audio_s:.2f}", f.hypothesis, f.reference
        )
    console.print(table)
    console.print(
        f"total: CER {result.cer:.3f}, RTF {result.rtf:.3f}, end of speech → final "
        f"p95 {result.latency_p95_s:.2f} s ({len(result.files)} files)",
        highlight=False,
    )
