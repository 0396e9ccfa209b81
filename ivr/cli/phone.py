"""``hotline phone``: a pjsua2 phone that calls the node (a test peer and a trial tool)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ivr.cli.common import (
    err,
)


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
    busy: Annotated[
        bool, typer.Option(help="With --auto-answer: refuse each call with 486 Busy Here.")
    ] = False,
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
        busy=busy,
    )
    if password and not register:
        err.print("error: --password is for --register HOST:PORT")
        raise typer.Exit(2)
    result = asyncio.run(run_phone(options))
    print(summary_json(result), flush=True)
    if result.ok:
        raise typer.Exit(0)
    raise typer.Exit(3 if result.error else 1)
