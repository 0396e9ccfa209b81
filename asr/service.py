"""The ASR service: loads the engine once, serves one WebSocket stream per call leg.

The vosk-server model: media workers stream 20 ms PCM frames in, results come
back on the same connection and are also published on the bus as
``asr.partial`` / ``asr.final`` events of the call.  Past ``max_streams`` the
service answers ``busy`` at once (protocol in ``protocol.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from asr.protocol import StreamRequest, control, encode_event, parse_request
from asr.stream import Final, Partial, StreamAdapter, StreamEnded, StreamEvent, StreamFailed
from asr.vad import EndpointConfig

log = logging.getLogger("asr")

Publisher = Callable[[StreamRequest, StreamEvent], Awaitable[None]]


@dataclass(frozen=True)
class ServiceLimits:
    max_streams: int = 8
    first_message_timeout_s: float = 5.0
    min_speech_ms: int = 200
    end_silence_ms: int = 800
    max_utterance_s: float = 30.0


class AsrService:
    def __init__(
        self, adapter: StreamAdapter, limits: ServiceLimits, publish: Publisher | None = None
    ) -> None:
        self.adapter = adapter
        self.limits = limits
        self._publish = publish
        self.active: dict[int, StreamRequest] = {}
        self.served = 0
        self.refused = 0

    @property
    def load(self) -> dict[str, int]:
        return {
            "streams": len(self.active),
            "capacity": self.limits.max_streams,
            "served": self.served,
            "refused": self.refused,
        }

    async def handle(self, connection: ServerConnection) -> None:
        if len(self.active) >= self.limits.max_streams:
            self.refused += 1
            await connection.send(control("busy", capacity=self.limits.max_streams))
            await connection.close(1013, "busy")
            return
        try:
            first = await asyncio.wait_for(connection.recv(), self.limits.first_message_timeout_s)
            if not isinstance(first, str):
                raise ValueError("the first message must be a JSON text frame")
            request = parse_request(first)
        except (ValueError, TimeoutError) as exc:
            message = str(exc) or "no opening message in time"
            await connection.send(control("error", message=message, retryable=False))
            await connection.close(1008, "bad request")
            return
        except ConnectionClosed:
            return
        key = id(connection)
        self.active[key] = request
        self.served += 1
        try:
            await self._stream(connection, request)
        finally:
            self.active.pop(key, None)

    async def _stream(self, connection: ServerConnection, request: StreamRequest) -> None:
        limits = self.limits
        stream = self.adapter.open_stream(
            EndpointConfig(
                sample_rate=request.sample_rate,
                min_speech_ms=limits.min_speech_ms,
                end_silence_ms=limits.end_silence_ms,
                max_utterance_s=limits.max_utterance_s,
            )
        )
        await connection.send(control("ready"))

        finals = 0

        async def forward() -> None:
            nonlocal finals
            async for event in stream:
                finals += isinstance(event, Final)
                with contextlib.suppress(ConnectionClosed):
                    await connection.send(encode_event(event))
                if self._publish is not None and isinstance(event, (Partial, Final, StreamFailed)):
                    try:
                        await self._publish(request, event)
                    except Exception:  # the bus must never stop transcription
                        log.exception("publishing an ASR result failed")

        forwarder = asyncio.create_task(forward())
        try:
            async for message in connection:
                if isinstance(message, bytes):
                    try:
                        stream.feed(message)
                    except ValueError as exc:
                        await connection.send(control("error", message=str(exc), retryable=False))
                        break
                elif '"eof"' in message:
                    break
        except ConnectionClosed:
            pass  # the worker went away: finish what was said so far
        finally:
            await stream.close()
            await forwarder
            if self._publish is not None:
                try:
                    await self._publish(request, StreamEnded(finals))
                except Exception:
                    log.exception("publishing the end of an ASR stream failed")
        with contextlib.suppress(ConnectionClosed):
            await connection.send(control("closed"))
            await connection.close()


async def start_service(service: AsrService, host: str, port: int) -> Server:
    """Listen; ``port`` 0 picks a free one (``server.sockets[0].getsockname()``)."""
    return await serve(service.handle, host, port, max_size=1 << 20, ping_interval=20)
