"""A call leg's audio stream from a media worker to the ASR service (the client side).

Audio arrives from PJSIP's media thread through :meth:`AsrLink.push`, a few 20 ms
frames joined per hand-over (one thread crossing per batch, not per frame), and
waits in a bounded queue of frames (10 s); a full queue drops the oldest frame,
so a slow service never blocks the media thread.  The service is sent one 20 ms
frame per message, as its protocol asks.  The service publishes results on the bus
itself; the link only reports whether streaming started and whether it was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

log = logging.getLogger("worker")

_QUEUE_FRAMES = 500  # 10 s of 20 ms frames


class AsrLink:
    def __init__(
        self,
        url: str,
        call_id: str,
        leg: str,
        sample_rate: int,
        on_lost: Callable[[str], None],
        turn: int = 0,
    ) -> None:
        self.url, self.call_id, self.leg, self.sample_rate = url, call_id, leg, sample_rate
        self.turn = turn
        self._frame_bytes = sample_rate * 2 // 50  # 20 ms of 16-bit mono PCM
        self._on_lost = on_lost
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=_QUEUE_FRAMES)
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task] = []
        self._closing = False
        self.dropped = 0

    async def start(self, timeout_s: float = 3.0) -> str:
        """Connect and open the stream: "" when streaming, else why not."""
        try:
            self._ws = await asyncio.wait_for(connect(self.url, max_size=1 << 20), timeout_s)
            await self._ws.send(
                json.dumps(
                    {
                        "call_id": self.call_id,
                        "leg": self.leg,
                        "sample_rate": self.sample_rate,
                        "turn": self.turn,
                    }
                )
            )
            reply = json.loads(await asyncio.wait_for(self._ws.recv(), timeout_s))
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            await self._drop_connection()
            return f"asr service unreachable: {exc or type(exc).__name__}"
        if reply.get("type") != "ready":
            await self._drop_connection()
            if reply.get("type") == "busy":  # "busy (overloaded)": its backlog, not its streams
                return f"busy ({reply['reason']})" if reply.get("reason") else "busy"
            return str(reply)
        if self._closing:  # closed while connecting: the turn is already over
            await self._drop_connection()
            return "closed before streaming started"
        self._tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._read())]
        return ""

    def push(self, audio: bytes) -> None:
        """On the event loop: queue one or more 20 ms frames, joined (the oldest frame
        is dropped when the queue is full)."""
        if self._closing:
            return
        step = self._frame_bytes
        for start in range(0, len(audio), step):
            if self._queue.full():
                self._queue.get_nowait()
                self.dropped += 1
            self._queue.put_nowait(audio[start : start + step] if len(audio) > step else audio)

    async def close(self) -> None:
        """End of the leg's audio: the service finishes the turn, then the link closes."""
        if self._closing:
            return
        self._closing = True
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 15)
        await self._drop_connection()

    async def _send(self) -> None:
        assert self._ws is not None
        try:
            while (frame := await self._queue.get()) is not None:
                await self._ws.send(frame)
            await self._ws.send(json.dumps({"eof": True}))
        except ConnectionClosed:
            pass

    async def _read(self) -> None:
        assert self._ws is not None
        why = "asr service connection lost"
        try:
            async for message in self._ws:
                said = json.loads(message)
                if said.get("type") == "closed":
                    return
                if said.get("type") == "error" and said.get("reason"):
                    why = f"asr service: {said['reason']}"  # e.g. overloaded: shed the turn
        except ConnectionClosed:
            pass
        if not self._closing:
            self._on_lost(why)

    async def _drop_connection(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None
