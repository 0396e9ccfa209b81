"""A media worker: one pjsua2 process, at most four call legs, no call logic.

It answers, plays, records, listens, detects DTMF and hangs up when the hub
tells it to (commands on ``hotline/v1/workers/{id}/commands``), and reports
every event on ``hotline/v1/calls/{call_id}/{event}``.  Every answered leg is
recorded (``caller.wav``: what the caller sent; ``played.wav``: what the node
played) with a manifest.  On start it repairs what a previous run of the same
worker left unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import os
import secrets
import signal
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events import messages as m
from events import topics
from events.broker_address import broker_address
from events.messages import Message
from events.mqtt import MqttBus
from ivr.media import engine_events as ev
from ivr.media.asr_link import AsrLink
from ivr.media.engine import EngineConfig, EngineError, ListenParams, SipEngine
from ivr.media.worker_calls import OtherLeg, WorkerCall
from ivr.node.logs import configure, fields
from ivr.node.tasks import TaskSet
from recordings import manifest as mf
from recordings.layout import call_dir
from sip_config.kamailio import HUB_BUSY_REASON
from sip_config.sip_uris import front_address, number_uri
from sip_config.worker_settings import WorkerSettings, read_worker_settings  # no pydantic
from tts.layout import prompt_path  # not tts.prompts: a worker needs no synthesizer

log = logging.getLogger("worker")


class MediaWorker:
    def __init__(self, settings: WorkerSettings, worker_id: str) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.loop = asyncio.get_running_loop()
        self.tasks = TaskSet(log, self.loop)  # every task started and not awaited
        self.calls: dict[str, WorkerCall] = {}  # by call id
        self.frames_dropped = 0  # caller/agent audio the ASR service could not take in time
        self.ending: dict[str, WorkerCall] = {}  # ended, still closing the agent's leg
        self.by_leg: dict[str, str] = {}  # leg id -> call id
        self.draining = False
        self.hub_up = True
        self._hub_lost_timer: asyncio.TimerHandle | None = None
        self.started_at = time.time()
        self.engine = SipEngine(
            EngineConfig(
                bind=settings.workers.bind,
                port=0,
                transports=tuple(settings.sip.transports),
                public_address=settings.sip.advertised_address,
                codecs=tuple(settings.sip.codecs),
                clock_rate=settings.workers.clock_rate,
                max_calls=settings.workers.max_calls,
                session_expires_s=settings.sip.session_expires_s,
                rtp_timeout_s=settings.workers.rtp_timeout_s,
                max_call_s=settings.workers.max_call_s,
                user_agent=f"hotline-node worker {worker_id}",
                # The hotline's number: what agents, and citizens called back, see.
                identity=settings.sip.numbers[0],
                # Callbacks, 回访 and agents' fixed phones are dialled through Kamailio.
                outbound_proxy=front_address(
                    settings.sip.listen, settings.sip.port, settings.sip.advertised_address
                ),
                pjsip_log_level=settings.workers.pjsip_log_level,
                idle_poll_ms=settings.workers.idle_poll_ms,
                media_thread=settings.workers.media_thread,
                tap_batch_frames=settings.workers.tap_batch_frames,
            ),
            on_event=lambda event: self.loop.call_soon_threadsafe(self._on_engine_event, event),
        )
        self.bus = MqttBus(
            broker_address(settings),
            client_id=f"{settings.node.name}-worker-{worker_id}-{os.getpid()}",
            will=(topics.worker_status(worker_id), self._status_message("down")),
            on_connect=self.publish_status,
        )

    # ---- status -------------------------------------------------------------------
    @property
    def caller_capacity(self) -> int:
        """Callers admitted at once: with agents, each keeps room for its agent's leg."""
        legs = self.settings.workers.max_calls
        return max(1, legs // 2) if self.settings.agents else legs

    def _status_message(self, state: str) -> Message:
        return Message(
            m.WORKER_STATUS,
            {
                "worker": self.worker_id,
                "state": state,
                "pid": os.getpid(),
                "sip": f"{self.settings.workers.bind}:{self.engine.port}",
                "capacity": self.caller_capacity,  # callers it admits (Kamailio's maxload)
                "legs": self.settings.workers.max_calls,
                "asr_frames_dropped": self.frames_dropped,
                "started_at": self.started_at,
                "calls": [
                    {
                        "call_id": c.call_id,
                        "state": c.state,
                        "caller": c.caller,
                        "since": c.started.timestamp(),
                    }
                    for c in self.calls.values()
                ],
            },
            node=self.settings.node.name,
        )

    async def publish_status(self) -> None:
        state = "draining" if self.draining else "up"
        await self.bus.publish(
            topics.worker_status(self.worker_id), self._status_message(state), retain=True
        )

    def _publish_status_soon(self) -> None:
        self.tasks.spawn(self.publish_status(), name="publish_status")

    async def _emit(self, call: WorkerCall, event: str, **data: Any) -> None:
        payload = {"call_id": call.call_id, "worker": self.worker_id, **data}
        await self.bus.publish(
            topics.call_event(call.call_id, event),
            Message(event, payload, node=self.settings.node.name),
        )

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str, call: WorkerCall) -> None:
        self.tasks.spawn(coro, name=name, call_id=call.call_id)

    def _emit_soon(self, call: WorkerCall, event: str, **data: Any) -> None:
        self._spawn(self._emit(call, event, **data), f"emit {event}", call)

    # ---- engine events (asyncio thread) -------------------------------------------
    def _on_engine_event(self, event: ev.EngineEvent) -> None:
        if isinstance(event, ev.LegOffered):
            self._offered(event)
            return
        call_id = self.by_leg.get(event.leg) or ""
        call = self.calls.get(call_id) or self.ending.get(call_id)
        if call is None:
            return
        if call.agent is not None and event.leg == call.agent.leg:
            self._on_agent_leg_event(call, call.agent, event)
            return
        if event.leg in call.old_agents:
            self._on_agent_leg_event(call, call.old_agents[event.leg], event)
            return
        if call.callback_uri and isinstance(event, ev.LegEnded) and not event.answered:
            self._emit_soon(call, m.CALLBACK_FAILED, code=event.status_code, reason=event.reason)
        match event:
            case ev.LegMedia(codec=codec, codec_rate=rate, hold=hold):
                call.codec, call.codec_rate = codec, rate
                if call.directory is None:
                    self._start_recording(call)
                self._emit_soon(call, m.CALL_MEDIA, codec=codec, codec_rate=rate, hold=hold)
            case ev.LegAnswered():
                call.state = "answered"
                if call.manifest is not None:
                    call.manifest.answered_at = mf.now_iso()
                if call.callback_uri and call.agent is not None:
                    call.state = "bridged"
                    self._bridge(call, call.agent)
                    self._emit_soon(call, m.CALLBACK_ANSWERED, agent_id=call.agent.agent_id)
                self._emit_soon(call, m.CALL_ANSWERED)
                self._publish_status_soon()
            case ev.PlaybackFinished(play_id=play_id, interrupted=interrupted):
                prompt = call.plays.pop(play_id, "")
                self._emit_soon(
                    call, m.PROMPT_FINISHED, play_id=play_id, prompt=prompt, interrupted=interrupted
                )
            case ev.PlaybackFailed(play_id=play_id, error=error):
                prompt = call.plays.pop(play_id, "")
                self._emit_soon(call, m.PROMPT_FAILED, play_id=play_id, prompt=prompt, error=error)
            case ev.DtmfReceived(digit=digit, method=method):
                self._emit_soon(call, m.DTMF, digit=digit, method=method)
            case ev.TransferStatus(code=code, reason=reason, final=final):
                self._emit_soon(call, m.TRANSFER_STATUS, code=code, reason=reason, final=final)
            case ev.SpeechStarted(listen_id=listen_id):
                self._emit_soon(call, m.SPEECH_STARTED, listen_id=listen_id)
            case ev.SpeechEnded(listen_id=listen_id, speech_ms=speech_ms, reason=reason):
                self._emit_soon(
                    call, m.SPEECH_ENDED, listen_id=listen_id, speech_ms=speech_ms, reason=reason
                )
                self._spawn(self._stop_asr(call), "stop_asr", call)  # the service finishes the turn
            case ev.ListenTimedOut(listen_id=listen_id):
                self._emit_soon(call, m.LISTEN_TIMEOUT, listen_id=listen_id)
                self._spawn(self._stop_asr(call), "stop_asr", call)
            case ev.LegEnded():
                self._spawn(self._ended(call, event), "call_ended", call)
            case _:
                pass

    def _on_agent_leg_event(self, call: WorkerCall, agent: OtherLeg, event: ev.EngineEvent) -> None:
        current = call.agent is agent
        match event:
            case ev.LegAnswered() if not current:
                self.engine.hangup(agent.leg, "superseded")  # answered as it was cancelled
            case ev.LegAnswered():
                agent.answered = True
                log.info("agent answered", extra=fields(call_id=call.call_id, agent=agent.agent_id))
                if call.callback_uri:
                    # A callback: the agent is on the line; now the citizen's phone rings.
                    self._spawn(self._dial_citizen(call), "dial_citizen", call)
                else:
                    call.state = "bridged"
                    self._bridge(call, agent)
                self._emit_soon(
                    call, m.AGENT_ANSWERED, agent_id=agent.agent_id, dial_id=agent.dial_id
                )
                self._publish_status_soon()
            case ev.LegEnded(reason=reason, status_code=code, answered=answered):
                agent.ended = True
                self.by_leg.pop(agent.leg, None)
                call.old_agents.pop(agent.leg, None)
                if agent.asr is not None:
                    self._spawn(agent.asr.close(), "close_agent_asr", call)
                    agent.asr = None
                if answered:
                    self._emit_soon(
                        call,
                        m.AGENT_HUNGUP,
                        agent_id=agent.agent_id,
                        dial_id=agent.dial_id,
                        reason=reason,
                    )
                else:
                    self._emit_soon(
                        call,
                        m.AGENT_FAILED,
                        agent_id=agent.agent_id,
                        dial_id=agent.dial_id,
                        code=code,
                        reason=reason,
                    )
                if current and call.state == "bridged":
                    call.state = "answered"
                if current and call.callback_uri and not call.leg:
                    # The reserved agent went away before the citizen was dialled.
                    self._spawn(self._ended(call, event), "call_ended", call)
                agent.done.set()
                self._publish_status_soon()
            case _:
                pass

    def _bridge(self, call: WorkerCall, agent: OtherLeg) -> None:
        """Caller and agent hear each other; the agent's side is recorded and transcribed."""
        self.engine.bridge(call.leg, agent.leg)
        if call.directory is not None:
            agent.offset_s = round(time.monotonic() - call.recording_started, 3)
            self.engine.record(agent.leg, {"heard": call.directory / "agent.wav"})
        if self.settings.asr.enabled:
            self._spawn(self._start_conversation_asr(call, agent), "start_agent_asr", call)

    async def _dial_citizen(self, call: WorkerCall) -> None:
        try:
            leg = await asyncio.wrap_future(self.engine.make_call(call.callback_uri))
        except EngineError as exc:
            log.warning("callback dial failed", extra=fields(call_id=call.call_id, error=str(exc)))
            await self._emit(call, m.CALLBACK_FAILED, code=503, reason="dial_failed")
            if call.agent is not None and not call.agent.ended:
                self.engine.hangup(call.agent.leg, "callback_failed")
            return
        call.leg = leg
        self.by_leg[leg] = call.call_id

    def _offered(self, event: ev.LegOffered) -> None:
        if self.settings.agents and len(self.calls) >= self.caller_capacity:
            # Room for an agent's leg is kept for every caller already here.
            log.info("no room to bridge another caller; refusing", extra=fields(leg=event.leg))
            self.engine.answer(event.leg, 503)
            return
        started = datetime.now(UTC)
        call_id = f"{started:%Y%m%d-%H%M%S}-{self.worker_id}-{secrets.token_hex(3)}"
        call = WorkerCall(
            call_id,
            event.leg,
            event.sip_call_id,
            event.caller,
            event.called,
            started,
            remote_uri=event.remote_uri,
        )
        self.calls[call_id] = call
        self.by_leg[event.leg] = call_id
        call.answer_timer = self.loop.call_later(
            self.settings.workers.hub_answer_timeout_s, self._hub_did_not_answer, call_id
        )
        log.info(
            "call offered",
            extra=fields(
                call_id=call_id,
                caller=event.caller,
                called=event.called,
                sip_call_id=event.sip_call_id,
            ),
        )
        self._emit_soon(
            call,
            m.CALL_OFFERED,
            sip_call_id=event.sip_call_id,
            caller=event.caller,
            called=event.called,
            remote_uri=event.remote_uri,
        )
        self._publish_status_soon()

    def _hub_did_not_answer(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.state == "offered":
            log.warning(
                "hub did not answer the call in time; refusing it", extra=fields(call_id=call_id)
            )
            # Not "try another worker": the hub is the one that is slow, and every
            # failover would hand it one more offer.  Kamailio sheds on this phrase.
            self.engine.answer(call.leg, 503, HUB_BUSY_REASON)

    def _start_recording(self, call: WorkerCall) -> None:
        root = self.settings.recordings_dir
        call.directory = call_dir(root, call.call_id, call.started)
        rate = self.settings.workers.clock_rate
        call.manifest = mf.Manifest(
            call_id=call.call_id,
            sip_call_id=call.sip_call_id,
            node=self.settings.node.name,
            worker=self.worker_id,
            caller=call.caller,
            called=call.called,
            started_at=call.started.isoformat(timespec="milliseconds"),
            sample_rate=rate,
            codec=call.codec,
            codec_rate=call.codec_rate,
            legs=[mf.LegRecording("caller", "caller.wav"), mf.LegRecording("played", "played.wav")],
        )
        call.recording_started = time.monotonic()
        mf.write(call.directory, call.manifest)
        self.engine.record(
            call.leg,
            {"caller": call.directory / "caller.wav", "played": call.directory / "played.wav"},
        )

    async def _ended(self, call: WorkerCall, event: ev.LegEnded) -> None:
        if call.answer_timer is not None:
            call.answer_timer.cancel()
        if self.calls.pop(call.call_id, None) is None:
            return  # already ended (a callback whose agent and citizen both went)
        self.ending[call.call_id] = call  # the agent's leg still reports its end
        self.by_leg.pop(call.leg, None)
        if call.asr is not None:
            self._spawn(self._stop_asr(call), "stop_asr", call)
        agent = call.agent
        if agent is not None and not agent.ended:
            self.engine.hangup(agent.leg, "caller_hung_up")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(agent.done.wait(), 10)
        self.ending.pop(call.call_id, None)
        log.info(
            "call ended",
            extra=fields(call_id=call.call_id, reason=event.reason, duration_s=event.duration_s),
        )
        await self._emit(
            call,
            m.CALL_ENDED,
            reason=event.reason,
            status_code=event.status_code,
            answered=event.answered,
            duration_s=event.duration_s,
            media=event.media,
        )
        await self.publish_status()
        if call.manifest is not None and call.directory is not None:
            call.manifest.end_reason = event.reason
            call.manifest.media = event.media
            call.manifest.ended_at = mf.now_iso()
            call.manifest.ticket = call.ticket
            if agent is not None and agent.answered:
                await self._agent_recordings(call, agent)
            manifest = await asyncio.to_thread(
                mf.finalise,
                call.directory,
                call.manifest,
                mf.COMPLETE,
                self.settings.recordings_dir,
                3.0,  # PJSIP closes recorder files on its bridge thread, a little later
            )
            await self._emit(
                call,
                m.RECORDING_SAVED,
                directory=str(call.directory),
                status=manifest.status,
                legs={
                    leg.leg: {"file": leg.file, "duration_s": leg.duration_s, "sha256": leg.sha256}
                    for leg in manifest.legs
                },
            )

    # ---- commands (from the hub) --------------------------------------------------
    async def on_message(self, topic: str, message: Message) -> None:
        if topic == topics.hub_status():
            self._on_hub_status(message)
            return
        try:
            await self._command(message)
            ok, error = True, ""
        except (EngineError, KeyError, ValueError) as exc:
            ok, error = False, str(exc)
            log.warning(
                "command failed",
                extra=fields(command=message.type, error=error, call_id=message.call_id),
            )
        await self.bus.publish(
            topics.worker_replies(self.worker_id),
            Message(
                m.COMMAND_REPLY,
                {
                    "command_id": message.id,
                    "command": message.type,
                    "call_id": message.call_id,
                    "ok": ok,
                    "error": error,
                },
                node=self.settings.node.name,
            ),
        )

    async def _command(self, message: Message) -> None:
        data = message.data
        if message.type == m.DRAIN:
            self.draining = True
            self.engine.accepting = False
            await self.publish_status()
            return
        if message.type == m.CALLBACK:
            await self._callback(data)
            return
        if message.type == m.SURVEY_DIAL:
            await self._survey_dial(data)
            return
        call = self.calls.get(message.call_id)
        if call is None:
            raise KeyError(f"no call {message.call_id!r} on worker {self.worker_id}")
        match message.type:
            case m.ANSWER:
                if call.answer_timer is not None:
                    call.answer_timer.cancel()
                call.state = "answering"
                await asyncio.wrap_future(self.engine.answer(call.leg, 200))
            case m.REJECT:
                if call.answer_timer is not None:
                    call.answer_timer.cancel()
                await asyncio.wrap_future(self.engine.answer(call.leg, int(data.get("code", 486))))
            case m.PLAY:
                prompt = str(data["prompt"])
                if data.get("file"):  # rendered by the hub (position, wait, ticket number)
                    path = Path(str(data["file"]))
                else:
                    path = prompt_path(
                        self.settings.prompts_dir, self.settings.workers.clock_rate, prompt
                    )
                if not path.exists():
                    raise ValueError(f"no rendered prompt {prompt!r} at {path}")
                call.plays[message.id] = prompt
                loop = bool(data.get("loop", False))
                await asyncio.wrap_future(self.engine.play(call.leg, path, message.id, loop))
                await self._emit(call, m.PROMPT_STARTED, play_id=message.id, prompt=prompt)
            case m.STOP_PLAYBACK:
                await asyncio.wrap_future(self.engine.stop_playback(call.leg))
            case m.LISTEN:
                listen = self.settings.listen
                params = ListenParams(
                    listen_id=message.id,
                    speech_level=int(data.get("speech_level", listen.speech_level)),
                    no_input_s=float(data.get("no_input_s", listen.no_input_s)),
                    end_silence_ms=int(data.get("end_silence_ms", listen.end_silence_ms)),
                    min_speech_ms=int(data.get("min_speech_ms", listen.min_speech_ms)),
                    max_speech_s=float(data.get("max_speech_s", listen.max_speech_s)),
                    barge_in=bool(data.get("barge_in", False)),
                )
                await asyncio.wrap_future(self.engine.listen(call.leg, params))
                if self.settings.asr.enabled:
                    self._spawn(self._stop_asr(call), "stop_asr", call)  # a new turn, a new stream
                    self._spawn(self._start_asr(call, int(data.get("turn", 0))), "start_asr", call)
            case m.STOP_LISTENING:
                await asyncio.wrap_future(self.engine.stop_listening(call.leg))
                await self._stop_asr(call)
            case m.TRANSFER:
                uri = transfer_target(
                    str(data["number"]), self.settings.sip.transfer_uri, call.remote_uri
                )
                log.warning("transferring the call", extra=fields(call_id=call.call_id, target=uri))
                await asyncio.wrap_future(self.engine.transfer(call.leg, uri))
            case m.HANGUP if data.get("leg") == "agent":
                if call.agent is not None and not call.agent.ended:
                    reason = str(data.get("reason", "local_hangup"))
                    await asyncio.wrap_future(self.engine.hangup(call.agent.leg, reason))
            case m.HANGUP:
                await asyncio.wrap_future(
                    self.engine.hangup(call.leg, str(data.get("reason", "local_hangup")))
                )
            case m.DIAL:
                previous = call.agent
                if previous is not None and not previous.ended:
                    if previous.answered:
                        raise ValueError(f"call {call.call_id} is connected to an agent")
                    # The hub moved on (ring timeout): the old leg is being cancelled.
                    call.old_agents[previous.leg] = previous
                    self.engine.hangup(previous.leg, "no_answer")
                call.ticket = str(data.get("ticket", call.ticket))
                await self._dial_agent(call, data)
            case _:
                raise ValueError(f"unknown command {message.type!r}")

    async def _dial_agent(self, call: WorkerCall, data: dict[str, Any]) -> None:
        uri, agent_id, dial_id = str(data["uri"]), str(data["agent_id"]), str(data["dial_id"])
        log.info("dialling agent", extra=fields(call_id=call.call_id, agent=agent_id, uri=uri))
        try:
            leg = await asyncio.wrap_future(self.engine.make_call(uri))
        except EngineError as exc:
            await self._emit(
                call, m.AGENT_FAILED, agent_id=agent_id, dial_id=dial_id, code=503, reason="no_room"
            )
            raise exc
        call.agent = OtherLeg(leg, agent_id, dial_id, started=time.monotonic())
        self.by_leg[leg] = call.call_id

    async def _callback(self, data: dict[str, Any]) -> None:
        """Call a citizen back: the reserved agent first, then the citizen."""
        call_id = str(data["call_id"])
        if call_id in self.calls:
            raise ValueError(f"call {call_id} is already on worker {self.worker_id}")
        number = str(data["number"])
        call = WorkerCall(
            call_id,
            "",
            "",
            caller=number,
            called=number,
            started=datetime.now(UTC),
            state="callback",
            ticket=str(data.get("ticket", "")),
            callback_uri=str(data["citizen_uri"]),
            remote_uri=str(data["citizen_uri"]),
        )
        call.answer_timer = None
        self.calls[call_id] = call
        try:
            await self._dial_agent(call, data)
        except EngineError:
            self.calls.pop(call_id, None)
            raise
        await self.publish_status()

    async def _survey_dial(self, data: dict[str, Any]) -> None:
        """Ring a citizen for a 回访 survey; answered, the hub drives the call like any
        other (recorded).  A dial that cannot start ends at once (call.ended)."""
        call_id, uri, number = str(data["call_id"]), str(data["uri"]), str(data["number"])
        if call_id in self.calls:
            raise ValueError(f"call {call_id} is already on worker {self.worker_id}")
        hotline, started, ticket = self.settings.sip.numbers[0], datetime.now(UTC), data["ticket"]
        call = WorkerCall(call_id, "", "", hotline, number, started, "dialling", ticket=ticket)
        call.remote_uri = uri
        try:
            call.leg = await asyncio.wrap_future(self.engine.make_call(uri))
        except EngineError as exc:
            log.warning("survey dial failed", extra=fields(call_id=call_id, error=str(exc)))
            ended = {"status_code": 503, "answered": False, "duration_s": 0.0, "media": {}}
            await self._emit(call, m.CALL_ENDED, reason="dial_failed", **ended)
            return
        self.calls[call_id], self.by_leg[call.leg] = call, call_id
        await self.publish_status()

    async def _agent_recordings(self, call: WorkerCall, agent: OtherLeg) -> None:
        """List the agent's leg in the manifest and write the stereo file for QA
        (caller left, agent right), once PJSIP has closed the agent's recorder."""
        assert call.manifest is not None and call.directory is not None
        call.manifest.agent = agent.agent_id
        call.manifest.legs.append(mf.LegRecording("agent", "agent.wav", offset_s=agent.offset_s))
        caller, agent_wav = call.directory / "caller.wav", call.directory / "agent.wav"
        deadline = time.monotonic() + 3.0
        while not agent_wav.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the bridge closes recorder files on its own thread
        from recordings.stereo import write_stereo  # numpy: loaded only by workers that bridge

        try:
            await asyncio.to_thread(
                write_stereo, caller, agent_wav, call.directory / "qa.wav", agent.offset_s
            )
        except (OSError, ValueError) as exc:
            call.manifest.notes.append(f"no stereo QA file: {exc}")
            log.warning("stereo QA file failed", extra=fields(call_id=call.call_id, error=str(exc)))
            return
        call.manifest.legs.append(mf.LegRecording("qa", "qa.wav", channels=2))

    async def _start_conversation_asr(self, call: WorkerCall, agent: OtherLeg) -> None:
        """While caller and agent talk, both legs stream to the ASR service (one
        stream each, many utterances); results carry the leg."""
        await self._stop_asr(call)
        await self._start_asr(call, 0)
        asr = self.settings.asr
        link = AsrLink(
            f"ws://{asr.host}:{asr.port}",
            call.call_id,
            "agent",
            self.settings.workers.clock_rate,
            on_lost=lambda why: self._emit_soon(call, m.ASR_UNAVAILABLE, reason=why, leg="agent"),
        )
        if await link.start() or agent.ended:
            await link.close()
            return
        agent.asr = link
        loop = self.loop
        try:
            await asyncio.wrap_future(
                self.engine.tap(
                    agent.leg, lambda frame: loop.call_soon_threadsafe(link.push, frame)
                )
            )
        except EngineError:
            agent.asr = None
            await link.close()
            return
        await self._emit(
            call,
            m.ASR_STREAMING,
            sample_rate=self.settings.workers.clock_rate,
            turn=0,
            leg="agent",
            offset_s=self._offset(call),
        )

    async def _start_asr(self, call: WorkerCall, turn: int) -> None:
        asr = self.settings.asr
        link = AsrLink(
            f"ws://{asr.host}:{asr.port}",
            call.call_id,
            "caller",
            self.settings.workers.clock_rate,
            on_lost=lambda why: self._emit_soon(call, m.ASR_UNAVAILABLE, reason=why, turn=turn),
            turn=turn,
        )
        call.asr = link
        offset_s = self._offset(call)  # frames go to this link from now on
        problem = await link.start()
        if problem and call.asr is link:
            call.asr = None
            await self._emit(call, m.ASR_UNAVAILABLE, reason=problem, turn=turn)
            return
        if problem:
            return  # the turn ended while connecting
        if call.call_id not in self.calls or call.asr is not link:
            await link.close()  # the call or the turn ended while connecting
            return
        loop = self.loop
        try:  # one tap per call, kept across turns; frames go to the current link
            await asyncio.wrap_future(
                self.engine.tap(
                    call.leg, lambda frame: loop.call_soon_threadsafe(self._to_asr, call, frame)
                )
            )
        except EngineError:
            await self._stop_asr(call)
            return
        await self._emit(
            call,
            m.ASR_STREAMING,
            sample_rate=self.settings.workers.clock_rate,
            turn=turn,
            leg="caller",
            offset_s=offset_s,
        )

    @staticmethod
    def _offset(call: WorkerCall) -> float:
        """Seconds since the call's recording started: where a stream's times begin."""
        if not call.recording_started:
            return 0.0
        return round(time.monotonic() - call.recording_started, 3)

    @staticmethod
    def _to_asr(call: WorkerCall, frame: bytes) -> None:
        if call.asr is not None:
            call.asr.push(frame)

    async def _stop_asr(self, call: WorkerCall) -> None:
        link, call.asr = call.asr, None
        if link is None:
            return
        await link.close()
        if call.asr is None and call.call_id in self.calls:  # no newer turn is streaming
            with contextlib.suppress(EngineError):
                await asyncio.wrap_future(self.engine.untap(call.leg))
        if link.dropped:
            self.frames_dropped += link.dropped
            log.warning(
                "ASR frames dropped", extra=fields(call_id=call.call_id, frames=link.dropped)
            )

    def _on_hub_status(self, message: Message) -> None:
        up = message.data.get("state") == "up"
        if up and self._hub_lost_timer is not None:
            self._hub_lost_timer.cancel()
            self._hub_lost_timer = None
        if not up and self.hub_up:
            grace = self.settings.workers.hub_lost_grace_s
            log.warning(
                "hub is down; calls end if it is not back in time", extra=fields(grace_s=grace)
            )
            self._hub_lost_timer = self.loop.call_later(grace, self._hub_lost)
        self.hub_up = up

    def _hub_lost(self) -> None:
        self._hub_lost_timer = None
        if self.calls:
            log.warning("hub did not come back; ending calls", extra=fields(calls=len(self.calls)))
            self.engine.hangup_all("hub_lost")

    # ---- life cycle ---------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        repaired = await asyncio.to_thread(
            mf.repair_unfinished, self.settings.recordings_dir, self.worker_id
        )
        for manifest in repaired:
            log.warning(
                "repaired a recording cut short by a crash",
                extra=fields(call_id=manifest.call_id, notes=manifest.notes),
            )
        await asyncio.to_thread(self.engine.start)
        log.info("worker up", extra=fields(worker=self.worker_id, port=self.engine.port))
        bus_task = asyncio.create_task(
            self.bus.run(
                [topics.worker_commands(self.worker_id), topics.hub_status()], self.on_message
            )
        )
        await stop.wait()
        log.info("worker stopping", extra=fields(calls=len(self.calls)))
        self.draining = True
        self.engine.accepting = False
        if self.calls:
            self.engine.hangup_all("shutdown")
            deadline = time.monotonic() + 5
            while self.calls and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        await self.bus.publish(
            topics.worker_status(self.worker_id), self._status_message("down"), retain=True
        )
        await asyncio.sleep(0.2)
        bus_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bus_task
        await asyncio.to_thread(self.engine.stop)
        await self.tasks.cancel_all()


def transfer_target(number: str, template: str, remote_uri: str) -> str:
    """The SIP URI an emergency call is handed to (``sip.transfer_uri``)."""
    if not number.isdigit():
        raise ValueError(f"not a number to transfer to: {number!r}")
    return number_uri(number, template, remote_uri, "sip.transfer_uri")


async def _main(settings_file: Path, worker_id: str) -> None:
    settings = read_worker_settings(settings_file)
    configure(f"worker-{worker_id}", settings.node.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await MediaWorker(settings, worker_id).run(stop)


def main() -> None:
    parser = argparse.ArgumentParser(description="hotline media worker (started by hotline serve)")
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--id", required=True)
    args = parser.parse_args()
    faulthandler.enable()  # a crash in PJSIP leaves the Python stacks in the worker's log
    asyncio.run(_main(args.settings, args.id))


if __name__ == "__main__":
    main()
