"""``hotline tts say`` and ``hotline prompts``: the prompt catalogue and its rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ivr.cli.common import (
    ConfigOpt,
    DataDirOpt,
    catalogue,
    console,
    err,
    node_settings,
)

tts_app = typer.Typer(help="Speech synthesis for prompts.", no_args_is_help=True)
prompts_app = typer.Typer(help="The node's prompt catalogue.", no_args_is_help=True)


@tts_app.command("say")
def tts_say(
    text: Annotated[str, typer.Argument(help="Simplified Chinese text to speak.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="WAV file to write.")],
    rate: Annotated[int, typer.Option(help="Sample rate: 8000 or 16000.")] = 8000,
    voice: Annotated[str | None, typer.Option(help="Voice (default prompts.voice).")] = None,
    wpm: Annotated[
        int | None, typer.Option(min=80, max=400, help="Words per minute (default from settings).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Synthesize TEXT as prompts are made (pyttsx3 on espeak-ng) into a WAV file."""
    from tts.espeak import check_voice
    from tts.prompts import default_synthesizer
    from tts.synth import SynthesisError, Utterance
    from tts.wav import write_wav

    if rate not in (8000, 16000):
        err.print("[red]error:[/red] --rate must be 8000 or 16000 (the call sample rates)")
        raise typer.Exit(2)
    settings = node_settings(config)
    voice = voice or settings.prompts.voice
    utterance = Utterance(text, voice, wpm or settings.prompts.words_per_minute)
    try:
        check_voice(voice)
        (speech,) = default_synthesizer().synthesize([utterance])
        write_wav(output, speech.wav_bytes(rate))
    except SynthesisError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    print(f"{output}: written ({speech.seconds:.1f} s at {rate} Hz, by {speech.backend})")


@prompts_app.command("render")
def prompts_render(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    rates: Annotated[list[int] | None, typer.Option("--rate", help="Sample rates.")] = None,
) -> None:
    """Render every catalogue prompt (or convert its recording) into the prompt cache."""
    from rich.progress import Progress

    from tts.prompts import render_catalogue
    from tts.synth import SynthesisError

    settings = node_settings(config, **{"node.data_dir": data_dir})
    prompts = catalogue(settings)
    wanted = rates or [settings.workers.clock_rate]
    with Progress(console=err) as bar:
        task = bar.add_task("prompts", total=len(prompts) * len(wanted))
        try:
            rendered = render_catalogue(
                prompts, settings.prompts_dir, wanted, progress=lambda _: bar.advance(task)
            )
        except SynthesisError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    for item in rendered:
        made = f"rendered by {item.backend}" if item.fresh else "up to date"
        print(f"{item.path}\t{item.source}\t{made}")


@prompts_app.command("list")
def prompts_list(config: ConfigOpt = None) -> None:
    """Every prompt of the catalogue: id, source (synth or recorded) and text."""
    settings = node_settings(config)
    table = Table("id", "source", "text")
    for prompt in catalogue(settings):
        if prompt.recording is not None:
            source = f"recorded ({prompt.recording})"
        else:
            source = f"synth ({prompt.voice}, {prompt.words_per_minute} wpm)"
        table.add_row(prompt.id, source, prompt.text)
    console.print(table)
