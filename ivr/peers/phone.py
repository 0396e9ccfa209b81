"""``hotline phone``: a small pjsua2 softphone for tests, demos and benchmarks.

It places a call (or waits for one with ``--auto-answer``), plays a WAV into
it, records what it hears, sends DTMF digits at given times, and exits 0 when
the call ended normally.  A one-line JSON summary goes to stdout.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.media import engine_events as ev
from ivr.media.engine import EngineConfig, EngineError, SipEngine


@dataclass(frozen=True)
class DtmfAt:
    digit: str
    at_s: float

    @classmethod
    def parse(cls, text: str) -> DtmfAt:
        """``0@3.5`` → digit 0 sent 3.5 s after the call is answered."""
        digit, sep, at = text.partition("@")
        if not sep or len(digit) != 1 or digit not in "0123456789*#ABCD":
            raise ValueError(f"{text!r}: expected DIGIT@SECONDS, e.g. 0@3.5")
        try:
            seconds = float(at)
        except ValueError:
            raise ValueError(f"{text!r}: {at!r} is not a number of seconds") from None
        if seconds < 0:
            raise ValueError(f"{text!r}: seconds must not be negative")
        return cls(digit, seconds)


@dataclass
class PhoneOptions:
    uri: str = ""
    play: Path | None = None
    play_at_s: float = 0.0
    record: Path | None = None
    dtmf: list[DtmfAt] = field(default_factory=list)
    dtmf_method: str = "rfc4733"
    hangup_after_s: float | None = None
    timeout_s: float = 120.0
    auto_answer: bool = False
    calls: int = 1
    bind: str = "127.0.0.1"
    port: int = 0
    caller_id: str = "phone"
    register: str = ""  # host:port of the registrar (the node's Kamailio)
    password: str = ""  # digest password for the registrar (user name: caller_id)
    loop_play: bool = False  # play the WAV round and round (an agent's voice)
    answer: bool = True  # with auto_answer: False lets calls ring unanswered
    answer_after_s: float = 0.0  # with auto_answer: let it ring this long first
    busy: bool = False  # with auto_answer: refuse each call with 486 Busy Here
    codecs: tuple[str, ...] = ("PCMA", "PCMU", "G722")


@dataclass
class PhoneResult:
    status_code: int = 0
    reason: str = ""
    answered: bool = False
    duration_s: float = 0.0
    codec: str = ""
    dtmf_received: list[str] = field(default_factory=list)
    error: str = ""
    offered: int = 0  # calls that rang this phone (auto-answer)
    answered_calls: int = 0
    offered_from: list[str] = field(default_factory=list)  # host:port each INVITE came from

    @property
    def ok(self) -> bool:
        if self.offered and not self.answered_calls:
            return not self.error  # a phone left ringing on purpose (--no-answer)
        return self.answered and self.reason in ("remote_hangup", "local_hangup") and not self.error


async def run_phone(options: PhoneOptions) -> PhoneResult:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[ev.EngineEvent] = asyncio.Queue()
    engine = SipEngine(
        EngineConfig(
            bind=options.bind,
            port=options.port,
            transports=("udp",),
            codecs=options.codecs,
            identity=options.caller_id,
            registrar=options.register,
            password=options.password,
            user_agent="hotline phone",
            max_calls=4,
            rtp_timeout_s=30,
        ),
        on_event=lambda event: loop.call_soon_threadsafe(queue.put_nowait, event),
    )
    await asyncio.to_thread(engine.start)
    result = PhoneResult()
    try:
        if options.register:
            await _wait_registered(engine, timeout=10.0)
        if not options.auto_answer:
            await asyncio.wrap_future(engine.make_call(options.uri))
        remaining = options.calls
        deadline = time.monotonic() + options.timeout_s
        scheduled: list[asyncio.TimerHandle] = []
        while remaining > 0:
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                result.error = f"no normal end of call within {options.timeout_s:.0f}s"
                await asyncio.wrap_future(engine.hangup_all("timeout"))
                await asyncio.sleep(0.5)
                break
            match event:
                case ev.LegOffered(leg=leg, source=source) if options.auto_answer:
                    result.offered += 1
                    result.offered_from.append(source)
                    if options.busy:
                        await asyncio.wrap_future(engine.answer(leg, 486))
                    elif options.answer and options.answer_after_s > 0:
                        scheduled.append(
                            loop.call_later(
                                options.answer_after_s, lambda leg=leg: engine.answer(leg, 200)
                            )
                        )
                    elif options.answer:
                        await asyncio.wrap_future(engine.answer(leg, 200))
                case ev.LegMedia(leg=leg, codec=codec):
                    result.codec = codec
                    if options.record is not None:
                        path = _numbered(options.record, result.offered)
                        await asyncio.wrap_future(engine.record(leg, {"heard": path}))
                case ev.LegAnswered(leg=leg):
                    result.answered_calls += 1
                    if options.calls > 1:
                        print(json.dumps({"answered_call": result.answered_calls}), flush=True)
                    scheduled += _schedule(loop, engine, leg, options)
                case ev.DtmfReceived(digit=digit):
                    result.dtmf_received.append(digit)
                case ev.LegEnded(
                    reason=reason, status_code=code, answered=answered, duration_s=duration
                ):
                    for handle in scheduled:
                        handle.cancel()
                    result.reason, result.status_code = reason, code
                    result.answered, result.duration_s = answered, duration
                    remaining -= 1
                    if options.calls > 1:
                        print(_call_line(event, result), flush=True)
                case _:
                    pass
    except EngineError as exc:
        result.error = str(exc)
    finally:
        await asyncio.to_thread(engine.stop)
    return result


async def _wait_registered(engine: SipEngine, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.wrap_future(engine.registered()):
        if time.monotonic() > deadline:
            raise EngineError(f"not registered with {engine.config.registrar} in {timeout:.0f}s")
        await asyncio.sleep(0.1)
    print(json.dumps({"registered": engine.config.registrar}), flush=True)


def _numbered(path: Path, index: int) -> Path:
    """``agent-{n}.wav`` → ``agent-1.wav``, … for a phone that takes several calls."""
    return Path(str(path).replace("{n}", str(index))) if "{n}" in str(path) else path


def _call_line(event: ev.LegEnded, result: PhoneResult) -> str:
    return json.dumps(
        {
            "call_ended": event.reason,
            "answered": event.answered,
            "status_code": event.status_code,
            "duration_s": event.duration_s,
            "offered": result.offered,
        }
    )


def _schedule(
    loop: asyncio.AbstractEventLoop, engine: SipEngine, leg: str, options: PhoneOptions
) -> list[asyncio.TimerHandle]:
    handles = []
    if options.play is not None:
        path = options.play
        handles.append(
            loop.call_later(
                options.play_at_s, lambda: engine.play(leg, path, "play", options.loop_play)
            )
        )
    for item in options.dtmf:
        handles.append(
            loop.call_later(
                item.at_s, lambda d=item.digit: engine.send_dtmf(leg, d, options.dtmf_method)
            )
        )
    if options.hangup_after_s is not None:
        handles.append(loop.call_later(options.hangup_after_s, lambda: engine.hangup(leg)))
    return handles


def summary_json(result: PhoneResult) -> str:
    return json.dumps(
        {
            "ok": result.ok,
            "status_code": result.status_code,
            "reason": result.reason,
            "answered": result.answered,
            "duration_s": result.duration_s,
            "codec": result.codec,
            "dtmf_received": result.dtmf_received,
            "error": result.error,
            "offered": result.offered,
            "answered_calls": result.answered_calls,
            "offered_from": result.offered_from,
        },
        ensure_ascii=False,
    )
