"""The ASR service as a node part (``hotline asr serve``, started by ``hotline serve``).

The process lowers its own scheduling priority to ``asr.nice`` first, every thread
it already has included, so the decoding threads made later inherit it: under a
peak the media workers and the hub get the CPU and transcripts wait (and, past
``asr.max_final_delay_s``, are shed).  Streams, decoders and threads per decode
left at 0 are sized to the cores the process may use (``asr.service.size_service``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
from pathlib import Path

from asr.engines import choose_engine, open_engine
from asr.normalize import filler_spans, says_something, without_fillers
from asr.protocol import StreamRequest
from asr.service import (
    AsrService,
    ServiceLimits,
    Sizing,
    meter,
    size_service,
    start_service,
    usable_cores,
)
from asr.stream import Final, Partial, StreamEnded, StreamEvent, StreamFailed
from events import messages as m
from events import topics
from events.broker_address import broker_address
from events.messages import Message
from events.mqtt import MqttBus
from ivr.node.asr_vocabulary import node_vocabulary
from ivr.node.logs import configure, fields
from sip_config import Settings
from sip_config.settings import AsrSection

log = logging.getLogger("asr")


def asr_status_topic(name: str) -> str:
    return topics.asr_status(name)


def lower_priority(nice: int) -> int:
    """Run this process, and every thread it has, at niceness ``nice`` (threads made
    later inherit it from the thread that makes them); the niceness now in effect.
    Linux keeps a niceness per thread, so each thread of ``/proc/self/task`` is set;
    a process already nicer than ``nice`` stays as it is (raising priority needs
    privileges the node does not ask for)."""
    tasks = Path("/proc/self/task")
    threads = [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]
    for tid in threads:
        with contextlib.suppress(OSError):  # a thread that has just ended
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
    return os.getpriority(os.PRIO_PROCESS, 0)


def sizing_for(config: AsrSection, cores: int | None = None) -> Sizing:
    """``asr.max_streams`` / ``decoders`` / ``cpu_threads`` for the engine chosen; 0 is
    sized to ``cores`` (the CPUs this process may use)."""
    engine = choose_engine(config).kind
    return size_service(
        usable_cores() if cores is None else cores,
        engine,
        max_streams=config.max_streams,
        decoders=config.decoders,
        cpu_threads=config.cpu_threads,
    )


async def run_service(settings: Settings, stop: asyncio.Event) -> None:
    config = settings.asr
    name = f"{settings.node.name}-asr"
    sizing = sizing_for(config)
    sized = config.model_copy(
        update={
            "max_streams": sizing.max_streams,
            "decoders": sizing.decoders,
            "cpu_threads": sizing.cpu_threads,
        }
    )
    # asr.engine: Vosk or Whisper, the model loaded once; Whisper biased to the vocabulary
    adapter = open_engine(sized, vocabulary=node_vocabulary(settings))
    recognizer = adapter.recognizer
    service: AsrService | None = None
    nice = os.getpriority(os.PRIO_PROCESS, 0)

    def status(state: str) -> Message:
        load = service.load if service else {}
        return Message(
            m.ASR_STATUS,
            {
                "state": state,
                "pid": os.getpid(),
                "engine": recognizer.name,
                "url": f"ws://{config.host}:{config.port}",
                **sizing.as_status(),
                "nice": nice,
                **load,
            },
            node=settings.node.name,
        )

    async def announce() -> None:
        await bus.publish(asr_status_topic(name), status("up"), retain=True)

    bus = MqttBus(
        broker_address(settings),
        client_id=f"{name}-{os.getpid()}",
        will=(
            asr_status_topic(name),
            Message(m.ASR_STATUS, {"state": "down"}, node=settings.node.name),
        ),
        on_connect=announce,
    )

    async def publish(request: StreamRequest, event: StreamEvent) -> None:
        kind = {
            Partial: m.ASR_PARTIAL,
            Final: m.ASR_FINAL,
            StreamFailed: m.ASR_FAILED,
            StreamEnded: m.ASR_DONE,
        }[type(event)]
        data = {
            "call_id": request.call_id,
            "leg": request.leg,
            "turn": request.turn,
            "engine": recognizer.name,
        }
        match event:
            case Partial(text=text):
                data |= {"text": text, **_content(text)}
            case Final():
                data |= {
                    "text": event.text,
                    **_content(event.text),
                    "start_s": event.start_s,
                    "end_s": event.end_s,
                    "confidence": event.confidence,
                    "latency_s": event.latency_s,
                    "segments": [s.__dict__ for s in event.segments],
                }
            case StreamFailed(message=message, retryable=retryable):
                data |= {"message": message, "retryable": retryable}
            case StreamEnded(finals=finals):
                data["finals"] = finals
        await bus.publish(
            topics.call_event(request.call_id, kind), Message(kind, data, node=settings.node.name)
        )

    service = AsrService(
        adapter,
        ServiceLimits(
            max_streams=sizing.max_streams,
            min_speech_ms=settings.listen.min_speech_ms,
            end_silence_ms=settings.listen.end_silence_ms,
            max_utterance_s=settings.listen.max_speech_s,
            decoders=sizing.decoders,
            rtf=sizing.rtf,
            max_final_delay_s=config.max_final_delay_s,
        ),
        publish,
    )
    meter(adapter, service.backlog)  # Whisper's decodes measure the decoding speed
    server = await start_service(service, config.host, config.port)
    bus_task = asyncio.create_task(bus.run([], _ignore))
    log.info(
        "asr service up",
        extra={
            "fields": {
                "url": f"ws://{config.host}:{config.port}",
                "engine": recognizer.name,
                "max_streams": sizing.max_streams,
                "decoders": sizing.decoders,
                "cpu_threads": sizing.cpu_threads,
                "sized": ",".join(sizing.auto) or "settings",
                "sizing": sizing.how if sizing.auto else "as set in [asr]",
                "nice": nice,
                "max_final_delay_s": config.max_final_delay_s,
            }
        },
    )
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)
        await announce()
    server.close()
    await server.wait_closed()
    adapter.close()
    await bus.publish(asr_status_topic(name), status("down"), retain=True)
    await asyncio.sleep(0.2)
    bus_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await bus_task


def _content(text: str) -> dict:
    """Fillers kept in ``text`` but marked; what the caller said without them."""
    return {
        "fillers": filler_spans(text),
        "content": without_fillers(text),
        "substantive": says_something(text),
    }


async def _ignore(topic: str, message: Message) -> None:
    return None


def serve_until_signalled(settings: Settings) -> None:
    """Run the service until SIGTERM or SIGINT (the part's process, or ``hotline asr serve``)."""
    nice = lower_priority(settings.asr.nice)  # before the engine makes its threads
    configure("asr", settings.node.log_level)
    if nice < settings.asr.nice:
        log.warning("asr service could not lower its priority", extra=fields(nice=nice))

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_service(settings, stop)

    asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description="hotline ASR service (started by hotline serve)")
    parser.add_argument("--settings", type=Path, required=True)
    args = parser.parse_args()
    faulthandler.enable()
    serve_until_signalled(Settings.model_validate_json(args.settings.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
