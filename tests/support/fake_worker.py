"""A fake media worker for the hub: it answers the hub's commands over the bus with
the events a real worker would send, and :func:`running` wires hub and workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from events import messages as m
from events import topics
from events.memory import MemoryBus
from events.messages import Message
from ivr.hub.hub import Hub
from tests.support.hub_messages import NODE


class FakeWorker:
    """Answers the hub's commands with the events a real media worker would send.

    Prompts play in no time; ``caller`` scripts what the person on the line does:
    ``"speaks"``, ``"silent"``, ``"presses_0_in_greeting"`` or
    ``"presses_0_while_listening"``.  A ``stuck`` worker acknowledges every
    command but carries out only hang-ups (its media thread is wedged).
    """

    def __init__(
        self, bus: MemoryBus, worker_id: str, caller: str = "speaks", stuck: bool = False
    ) -> None:
        self.bus = bus
        self.worker_id = worker_id
        self.caller = caller
        self.stuck = stuck
        self.calls: dict[str, str] = {}  # call id -> state
        self.playing: dict[str, str] = {}  # call id -> prompt still playing
        self.received: list[Message] = []
        self.ended: dict[str, str] = {}  # call id -> end reason

    async def offer(self, call_id: str) -> None:
        self.calls[call_id] = "offered"
        await self.emit(
            call_id,
            m.CALL_OFFERED,
            sip_call_id=f"{call_id}@sbc",
            caller="13800138000",
            called="12345",
            remote_uri="sip:13800138000@sbc",
        )

    async def emit(self, call_id: str, kind: str, **data: Any) -> None:
        await self.bus.publish(
            topics.call_event(call_id, kind),
            Message(kind, {"call_id": call_id, "worker": self.worker_id, **data}, node=NODE),
        )

    async def on_command(self, topic: str, message: Message) -> None:
        self.received.append(message)
        call_id = message.call_id
        ok = call_id in self.calls
        if ok and (message.type == m.HANGUP or not self.stuck):
            await self._carry_out(call_id, message)
        await self.bus.publish(
            topics.worker_replies(self.worker_id),
            Message(
                m.COMMAND_REPLY,
                {
                    "command_id": message.id,
                    "command": message.type,
                    "call_id": call_id,
                    "ok": ok,
                    "error": "" if ok else "no such call",
                },
                node=NODE,
            ),
        )

    async def _carry_out(self, call_id: str, message: Message) -> None:
        match message.type:
            case m.ANSWER:
                self.calls[call_id] = "answered"
                await self.emit(call_id, m.CALL_MEDIA, codec="PCMA", codec_rate=8000, hold=False)
                await self.emit(call_id, m.CALL_ANSWERED)
            case m.PLAY:
                prompt = message.data["prompt"]
                if call_id in self.playing:  # a new prompt replaces the one playing
                    old = self.playing.pop(call_id)
                    await self.emit(
                        call_id, m.PROMPT_FINISHED, play_id="old", prompt=old, interrupted=True
                    )
                await self.emit(call_id, m.PROMPT_STARTED, play_id=message.id, prompt=prompt)
                if prompt == "greeting" and self.caller == "presses_0_in_greeting":
                    self.playing[call_id] = prompt
                    await self.emit(call_id, m.DTMF, digit="0", method="rfc2833")
                else:
                    await self.emit(
                        call_id,
                        m.PROMPT_FINISHED,
                        play_id=message.id,
                        prompt=prompt,
                        interrupted=False,
                    )
            case m.LISTEN:
                if self.caller == "speaks":
                    await self.emit(call_id, m.SPEECH_STARTED, listen_id=message.id)
                    await self.emit(
                        call_id,
                        m.SPEECH_ENDED,
                        listen_id=message.id,
                        speech_ms=3200,
                        reason="silence",
                    )
                elif self.caller == "silent":
                    await self.emit(call_id, m.LISTEN_TIMEOUT, listen_id=message.id)
                elif self.caller == "presses_0_while_listening":
                    await self.emit(call_id, m.DTMF, digit="0", method="rfc2833")
            case m.STOP_LISTENING | m.STOP_PLAYBACK:
                pass
            case m.HANGUP:
                reason = message.data.get("reason", "local_hangup")
                del self.calls[call_id]
                self.playing.pop(call_id, None)
                self.ended[call_id] = reason
                await self.emit(
                    call_id,
                    m.CALL_ENDED,
                    reason=reason,
                    status_code=200,
                    answered=True,
                    duration_s=1.0,
                    media={},
                )
            case _:
                raise AssertionError(f"the hub sent an unknown command {message.type!r}")

    def commands(self) -> list[str]:
        return [
            f"{c.type}:{c.data['prompt']}" if c.type == m.PLAY else c.type for c in self.received
        ]


@contextlib.asynccontextmanager
async def running(bus: MemoryBus, hub: Hub, *workers: FakeWorker) -> AsyncIterator[None]:
    # Workers subscribe first, as on a live node: a retained status may make the
    # hub send commands at once, and nobody keeps commands for late subscribers.
    tasks = [
        asyncio.create_task(bus.run([topics.worker_commands(worker.worker_id)], worker.on_command))
        for worker in workers
    ]
    await asyncio.sleep(0)
    tasks.append(
        asyncio.create_task(
            bus.run(
                [topics.ALL_CALL_EVENTS, topics.ALL_WORKER_STATUS, topics.ALL_WORKER_REPLIES],
                hub.on_message,
            )
        )
    )
    await asyncio.sleep(0)  # let every subscriber subscribe
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
