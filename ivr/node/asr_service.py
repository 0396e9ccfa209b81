"""The ASR service as a node part (``hotline asr serve``, started by ``hotline serve``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
from pathlib import Path

from asr.engines import open_engine
from asr.normalize import filler_spans, says_something, without_fillers
from asr.protocol import StreamRequest
from asr.service import AsrService, ServiceLimits, start_service
from asr.stream import Final, Partial, StreamEnded, StreamEvent, StreamFailed
from events import messages as m
from events import topics
from events.broker_address import broker_address
from events.messages import Message
from events.mqtt import MqttBus
from ivr.node.logs import configure
from sip_config import Settings

log = logging.getLogger("asr")


def asr_status_topic(name: str) -> str:
    return topics.asr_status(name)


async def run_service(settings: Settings, stop: asyncio.Event) -> None:
    config = settings.asr
    name = f"{settings.node.name}-asr"
    adapter = open_engine(config)  # asr.engine: Vosk or Whisper, the model loaded once
    recognizer = adapter.recognizer
    service: AsrService | None = None

    def status(state: str) -> Message:
        load = service.load if service else {}
        return Message(
            m.ASR_STATUS,
            {
                "state": state,
                "pid": os.getpid(),
                "engine": recognizer.name,
                "url": f"ws://{config.host}:{config.port}",
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
            max_streams=config.max_streams,
            min_speech_ms=settings.listen.min_speech_ms,
            end_silence_ms=settings.listen.end_silence_ms,
            max_utterance_s=settings.listen.max_speech_s,
        ),
        publish,
    )
    server = await start_service(service, config.host, config.port)
    bus_task = asyncio.create_task(bus.run([], _ignore))
    log.info(
        "asr service up",
        extra={
            "fields": {
                "url": f"ws://{config.host}:{config.port}",
                "engine": recognizer.name,
                "max_streams": config.max_streams,
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
    configure("asr", settings.node.log_level)

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
