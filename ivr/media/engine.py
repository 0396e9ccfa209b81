"""The pjsua2 boundary: one thread owns the PJSIP endpoint and every object.

This is the only module that imports ``pjsua2``.  Rules it keeps:

* the endpoint is created, polled and destroyed on the engine thread;
* other threads never touch pjsua2: they :meth:`SipEngine.submit` a function
  that runs on the engine thread between two ``libHandleEvents`` polls;
* callbacks only record what happened and hand a plain event to ``on_event``;
* calls, players and recorders stay referenced until PJSIP is done with them
  and are destroyed on the engine thread, players and recorders before calls.

Its pjsua2-free parts live beside it: :mod:`~ivr.media.engine_config` (the
configuration, a listen's thresholds, :class:`EngineError`), the events, when the
caller speaks (:mod:`~ivr.media.endpointing`) and :mod:`~ivr.media.engine_support`
(a leg's record, the graveyard, the job queue, the poller, a tap's buffer).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pjsua2 as pj

from ivr.media.endpointing import BargeIn, Endpointer, NoInput, SpeechEnd, SpeechStart
from ivr.media.engine_config import CODEC_IDS, GRAVE_S, EngineConfig, EngineError, ListenParams
from ivr.media.engine_events import (
    DtmfReceived,
    EngineEvent,
    LegAnswered,
    LegEnded,
    LegMedia,
    LegOffered,
    ListenTimedOut,
    PlaybackFailed,
    PlaybackFinished,
    RecordingClosed,
    SpeechEnded,
    SpeechStarted,
    TransferStatus,
)
from ivr.media.engine_support import (
    ForeignThreadState,
    Graveyard,
    JobQueue,
    Leg,
    Poller,
    TapBuffer,
    end_reason,
    name_thread,
    stdout_to_stderr,
    stream_stats,
    user_part,
    vector_reader,
    via_proxy,
    write_silence,
)

__all__ = ["EngineConfig", "EngineError", "ListenParams", "SipEngine"]

log = logging.getLogger(__name__)


class _Player(pj.AudioMediaPlayer):
    def __init__(self, engine: SipEngine, leg_id: str, play_id: str) -> None:
        super().__init__()
        self._engine, self._leg_id, self._play_id = engine, leg_id, play_id

    def onEof2(self) -> None:  # noqa: N802 (pjsua2 callback name)
        # The player must not be destroyed inside its own callback.
        self._engine._eof.append((self._leg_id, self._play_id))


_AUDIO_FRAME = pj.PJMEDIA_FRAME_TYPE_AUDIO
_fast_bytes = vector_reader(pj.ByteVector(bytes(range(256))))
_clock_thread = ForeignThreadState()


class _Tap(pj.AudioMediaPort):
    """Copies what the caller says out of the bridge, ``tap_batch_frames`` × 20 ms at
    a time (the port's frame: the bridge gathers them, one callback per hand-over on
    its clock thread, whose Python state is kept: :class:`ForeignThreadState`).

    Taps are never freed while calls run: a callback may be waiting for the GIL when
    the bridge lets go of the port, and freeing it then crashes the worker.  Parked
    taps (detached) are reused for later calls.
    """

    def __init__(self, fast_copy: bool) -> None:
        super().__init__()
        self.buffer = TapBuffer()
        self._copy = _fast_bytes if fast_copy else bytes

    def onFrameReceived(self, frame: Any) -> None:  # noqa: N802 (pjsua2 callback name)
        _clock_thread.keep()
        if self.buffer.attached and frame.type == _AUDIO_FRAME:
            data = self._copy(frame.buf)
            if data:
                self.buffer.add(data)


class _Call(pj.Call):
    def __init__(self, engine: SipEngine, account: Any, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self._engine = engine
        self.leg_id = ""

    def onCallState(self, prm: Any) -> None:  # noqa: N802
        self._engine._on_call_state(self)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        self._engine._on_media_state(self)

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        method = "sip_info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
        self._engine._emit(DtmfReceived(self.leg_id, prm.digit, method))

    def onCallTransferStatus(self, prm: Any) -> None:  # noqa: N802
        self._engine._emit(
            TransferStatus(self.leg_id, int(prm.statusCode), str(prm.reason), bool(prm.finalNotify))
        )
        prm.cont = not prm.finalNotify


class _Account(pj.Account):
    def __init__(self, engine: SipEngine) -> None:
        super().__init__()
        self._engine = engine

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        self._engine._on_incoming(self, prm)


class SipEngine:
    """A pjsua2 user agent on its own thread."""

    def __init__(self, config: EngineConfig, on_event: Callable[[EngineEvent], None]) -> None:
        self.config = config
        self._on_event = on_event
        self._jobs = JobQueue()
        self._thread = threading.Thread(target=self._run, name="pjsua2", daemon=True)
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = False
        self._legs: dict[str, Leg] = {}
        self._eof: list[tuple[str, str]] = []
        self._graveyard = Graveyard()
        self._free_taps: list[_Tap] = []  # parked audio taps, reused (see _Tap)
        self._taps_made = 0
        self._counter = 0
        self.accepting = True
        self.port = 0
        self._ep: Any = None
        self._account: Any = None
        self._proxied: Any = None  # the account calls through ``outbound_proxy`` use
        self._comfort: Any = None  # silence sent into every call (see _reconnect)
        self._poller = Poller(self._jobs, config.poll_ms, config.idle_poll_ms)

    # ---- life cycle (any thread) -------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise EngineError("the SIP engine did not start in time", retryable=True)
        if self._start_error is not None:
            raise EngineError(f"the SIP engine could not start: {self._start_error}")

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._poller.submitted()  # ends an idle poll
        self._thread.join(timeout)

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on the engine thread; the future holds its result."""
        if self._stopping:
            future: concurrent.futures.Future = concurrent.futures.Future()
            future.set_exception(EngineError("the SIP engine is stopping"))
            return future
        future = self._jobs.put(lambda: fn(*args))
        self._poller.submitted()
        return future

    # ---- the thread --------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._create()
        except BaseException as exc:  # reported to start()
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        last_tick = 0.0
        try:
            while not (self._stopping and not self._legs and not self._graveyard):
                self._jobs.run_pending()
                self._poller.poll(busy=bool(self._legs or self._graveyard or self._eof))
                now = time.monotonic()
                self._finish_playbacks()
                self._poll_listens(now)
                if now - last_tick >= 0.5:
                    last_tick = now
                    self._check_timers(now)
                self._graveyard.sweep(now)
                if self._stopping:
                    for leg in list(self._legs.values()):
                        self._hangup(leg, 503, "shutdown")
                    self._stop_deadline = getattr(self, "_stop_deadline", now + 3.0)
                    if now > self._stop_deadline:
                        break
        finally:
            self._destroy()

    def _create(self) -> None:
        cfg = self.config
        name_thread("pjsua2")
        ep = pj.Endpoint()
        with stdout_to_stderr():  # PJSIP's banner comes before its log settings apply
            ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = cfg.max_calls
        ep_cfg.uaConfig.userAgent = cfg.user_agent
        ep_cfg.logConfig.level = cfg.pjsip_log_level
        ep_cfg.logConfig.consoleLevel = cfg.pjsip_log_level
        ep_cfg.medConfig.clockRate = cfg.clock_rate
        ep_cfg.medConfig.sndClockRate = cfg.clock_rate
        ep_cfg.medConfig.noVad = True
        ep_cfg.medConfig.ecTailLen = 0
        ep_cfg.medConfig.hasIoqueue = cfg.media_thread
        ep_cfg.medConfig.threadCnt = 1 if cfg.media_thread else 0
        ep.libInit(ep_cfg)
        ep.audDevManager().setNullDev()
        self._ep = ep
        self._silence_wav = write_silence(cfg.clock_rate)
        self.port = self._create_transports()
        self._poller.start(ep.libHandleEvents, cfg.bind, self.port, "udp" in cfg.transports)
        self._set_codecs()
        ep.libStart()
        self._comfort = pj.AudioMediaPlayer()
        self._comfort.createPlayer(str(self._silence_wav))  # loops
        acc_cfg = pj.AccountConfig()
        host = cfg.public_address or cfg.bind
        acc_cfg.idUri = f"sip:{cfg.identity}@{host}:{self.port}"
        if cfg.registrar:
            acc_cfg.idUri = f"sip:{cfg.identity}@{cfg.registrar}"
            acc_cfg.regConfig.registrarUri = f"sip:{cfg.registrar}"
            acc_cfg.regConfig.timeoutSec = cfg.register_expires_s
            if cfg.password:
                acc_cfg.sipConfig.authCreds.append(
                    pj.AuthCredInfo("digest", "*", cfg.username or cfg.identity, 0, cfg.password)
                )
        acc_cfg.mediaConfig.transportConfig.boundAddress = cfg.bind
        acc_cfg.mediaConfig.transportConfig.port = 0
        if cfg.public_address:
            acc_cfg.mediaConfig.transportConfig.publicAddress = cfg.public_address
        acc_cfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_OPTIONAL
        acc_cfg.callConfig.timerSessExpiresSec = cfg.session_expires_s
        acc_cfg.callConfig.timerMinSESec = 90
        self._account = self._proxied = _Account(self)
        self._account.create(acc_cfg, True)
        if cfg.outbound_proxy:  # the same identity, with the proxy as its route set
            acc_cfg.regConfig.registrarUri = ""
            acc_cfg.sipConfig.proxies.append(f"sip:{cfg.outbound_proxy};lr")
            self._proxied = _Account(self)
            self._proxied.create(acc_cfg, False)

    def _create_transports(self) -> int:
        cfg = self.config
        kinds = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}
        for _attempt in range(20):
            port = cfg.port
            created: list[int] = []
            try:
                for name in cfg.transports:
                    tcfg = pj.TransportConfig()
                    tcfg.boundAddress = cfg.bind
                    tcfg.port = port
                    if cfg.public_address:
                        tcfg.publicAddress = cfg.public_address
                    tid = self._ep.transportCreate(kinds[name], tcfg)
                    created.append(tid)
                    if port == 0:
                        port = int(self._ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
                return port
            except pj.Error as exc:
                for tid in created:
                    self._ep.transportClose(tid)
                if cfg.port != 0:
                    message = f"cannot listen on {cfg.bind}:{cfg.port}: {exc.reason}"
                    raise EngineError(message) from None
        raise EngineError("no free port for the SIP transports", retryable=True)

    def _set_codecs(self) -> None:
        wanted = [CODEC_IDS[c] for c in self.config.codecs]
        for info in self._ep.codecEnum2():
            codec_id = info.codecId
            priority = 0
            for rank, prefix in enumerate(wanted):
                if codec_id.startswith(prefix):
                    priority = 250 - rank
            self._ep.codecSetPriority(codec_id, priority)

    def _destroy(self) -> None:
        for leg in list(self._legs.values()):
            self._close_media(leg)
        self._legs.clear()
        if self._graveyard:
            end = time.monotonic() + GRAVE_S
            while time.monotonic() < end:
                self._poller.poll(busy=True)
        self._graveyard.sweep(0.0, everything=True)
        self._free_taps.clear()  # no call is left: the bridge no longer calls them
        self._comfort = None
        self._account = self._proxied = None
        self._poller.close()
        try:
            self._ep.libDestroy()
        except pj.Error as exc:
            log.warning("pjsua2 destroy failed: %s", exc.reason)
        self._ep = None

    def _emit(self, event: EngineEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed for %s", type(event).__name__)

    def _new_leg_id(self) -> str:
        self._counter += 1
        return f"L{self._counter}"

    # ---- callbacks (engine thread) ----------------------------------------------
    def _on_incoming(self, account: Any, prm: Any) -> None:
        call = _Call(self, account, prm.callId)
        leg = Leg(self._new_leg_id(), call, outbound=False, created=time.monotonic())
        call.leg_id = leg.leg_id
        self._legs[leg.leg_id] = leg
        # Capacity is PJSIP's max-calls check: its 486 comes before any RTP socket is made.
        if not self.accepting:
            leg.local_hangup = "rejected"
            self._answer(call, 503)
            return
        info = call.getInfo()
        request_line = prm.rdata.wholeMsg.split("\r\n", 1)[0]
        called = user_part(request_line.split(" ")[1] if " " in request_line else info.localUri)
        self._emit(
            LegOffered(
                leg.leg_id,
                sip_call_id=info.callIdString,
                caller=user_part(info.remoteUri),
                called=called,
                remote_uri=info.remoteUri,
                source=f"{prm.rdata.srcAddress}",
            )
        )
        self._answer(call, 180)

    def _on_call_state(self, call: _Call) -> None:
        leg = self._legs.get(call.leg_id)
        if leg is None or leg.ended:
            return
        info = call.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and leg.answered_at is None:
            leg.answered_at = time.monotonic()
            self._emit(LegAnswered(leg.leg_id))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            code = info.lastStatusCode
            answered = leg.answered_at is not None
            self._end(leg, end_reason(leg.local_hangup, answered, leg.outbound, code), code)

    def _on_media_state(self, call: _Call) -> None:
        leg = self._legs.get(call.leg_id)
        if leg is None or leg.ended:
            return
        info = call.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            hold = media.status in (pj.PJSUA_CALL_MEDIA_REMOTE_HOLD, pj.PJSUA_CALL_MEDIA_LOCAL_HOLD)
            if media.status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                aud = call.getAudioMedia(media.index)
                if aud.getPortId() != leg.media_port:
                    leg.media, leg.media_port = aud, aud.getPortId()
                    self._reconnect(leg)
            leg.hold = hold
            try:
                stream = call.getStreamInfo(media.index)
                codec, rate = stream.codecName, stream.codecClockRate
            except pj.Error:
                codec, rate = "", 0
            self._emit(LegMedia(leg.leg_id, codec=codec, codec_rate=rate, hold=hold))
            return

    def _reconnect(self, leg: Leg) -> None:
        """(Re)wire recorders and the current player to the leg's audio port."""
        if leg.media is None:
            return
        # A leg with nothing to say still sends RTP, as phones do: carriers and
        # media timeouts expect it, and RFC 4733 digits only go out with frames.
        if self._comfort is not None:
            self._comfort.startTransmit(leg.media)
        if "caller" in leg.recorders:
            leg.media.startTransmit(leg.recorders["caller"])
        if "heard" in leg.recorders:
            leg.media.startTransmit(leg.recorders["heard"])
        if leg.player is not None:
            leg.player.startTransmit(leg.media)
        if leg.tap is not None:
            leg.media.startTransmit(leg.tap)
        peer = self._legs.get(leg.peer) if leg.peer else None
        if peer is not None and peer.media is not None and not peer.ended:
            leg.media.startTransmit(peer.media)
            peer.media.startTransmit(leg.media)

    # ---- periodic work (engine thread) ------------------------------------------
    def _finish_playbacks(self) -> None:
        while self._eof:
            leg_id, play_id = self._eof.pop(0)
            leg = self._legs.get(leg_id)
            if leg is not None and leg.play_id == play_id and not leg.looping:
                self._stop_player(leg)
                self._emit(PlaybackFinished(leg_id, play_id))

    def _poll_listens(self, now: float) -> None:
        for leg in self._legs.values():
            endpointer = leg.listen
            if endpointer is None or leg.media is None:
                continue
            try:
                # pjmedia names levels from the bridge's side: "tx" is what the
                # call port transmits into the bridge, i.e. the caller's audio.
                level = leg.media.getTxLevel()
            except pj.Error:
                continue
            decisions = endpointer.feed(now, level, playing=leg.player is not None)
            if endpointer.done:
                leg.listen = None
            listen_id = endpointer.params.listen_id
            for decision in decisions:
                match decision:
                    case BargeIn() if leg.player is not None:
                        play_id = leg.play_id
                        self._stop_player(leg)
                        self._emit(PlaybackFinished(leg.leg_id, play_id, interrupted=True))
                    case SpeechStart():
                        self._emit(SpeechStarted(leg.leg_id, listen_id))
                    case SpeechEnd(speech_ms=speech_ms, reason=reason):
                        self._emit(SpeechEnded(leg.leg_id, listen_id, speech_ms, reason))
                    case NoInput():
                        self._emit(ListenTimedOut(leg.leg_id, listen_id))

    def _check_timers(self, now: float) -> None:
        for leg in list(self._legs.values()):
            if leg.ended:
                continue
            if now - leg.created > 2.0 and not leg.call.isActive():
                self._reap(leg)  # PJSIP dropped the call without telling us
                continue
            if leg.answered_at is not None and now - leg.answered_at > self.config.max_call_s:
                self._hangup(leg, 200, "max_duration")
                continue
            if leg.media is None or leg.hold:
                leg.rx_changed = now
                continue
            try:
                stat = leg.call.getStreamStat(0)
            except pj.Error:
                continue
            leg.media_stats = stream_stats(stat)
            packets = leg.media_stats["rx_packets"]
            if packets != leg.rx_packets:
                leg.rx_packets, leg.rx_changed = packets, now
            elif now - leg.rx_changed > self.config.rtp_timeout_s:
                self._hangup(leg, 408, "rtp_timeout")

    def _end(self, leg: Leg, reason: str, code: int) -> None:
        """The leg is over: close its media, report once its files are final, let go."""
        leg.ended = True
        duration = time.monotonic() - leg.answered_at if leg.answered_at else 0.0
        self._close_media(leg)
        ended = LegEnded(
            leg.leg_id,
            reason=reason,
            status_code=code,
            answered=leg.answered_at is not None,
            duration_s=round(duration, 3),
            media=dict(leg.media_stats),
        )
        files = dict(leg.record_files)

        def report() -> None:  # after the recorders are freed: WAV headers are final
            if files:
                self._emit(RecordingClosed(ended.leg, files))
            self._emit(ended)

        self._bury(None, after=report)
        # Drop the Call object now (inside onCallState(DISCONNECTED), which pjsua2
        # allows). Freed any later, its destructor would clear and hang up whatever
        # new call PJSIP has meanwhile put in the same call slot.
        self._legs.pop(leg.leg_id, None)
        leg.media = None
        leg.call = None

    def _reap(self, leg: Leg) -> None:
        log.warning("call leg %s vanished from PJSIP without a disconnect", leg.leg_id)
        self._end(leg, "lost", 0)

    def _leg(self, leg_id: str) -> Leg:
        leg = self._legs.get(leg_id)
        if leg is None or leg.ended:
            raise EngineError(f"no such call leg: {leg_id}")
        return leg

    @staticmethod
    def _answer(call: Any, code: int, reason: str = "") -> None:
        prm = pj.CallOpParam()
        prm.statusCode = code
        if reason:
            prm.reason = reason
        call.answer(prm)

    def _hangup(self, leg: Leg, code: int, reason: str) -> None:
        if leg.ended:
            return
        if not leg.local_hangup:
            leg.local_hangup = reason
        prm = pj.CallOpParam()
        prm.statusCode = code if leg.answered_at is None and not leg.outbound else 0
        try:
            leg.call.hangup(prm)
        except pj.Error as exc:
            log.debug("hangup of %s: %s", leg.leg_id, exc.reason)

    def _unbridge(self, leg: Leg) -> None:
        peer = self._legs.get(leg.peer) if leg.peer else None
        leg.peer = ""
        if peer is None:
            return
        peer.peer = ""
        if leg.media is not None and peer.media is not None:
            self._unlink(leg.media, [peer.media])
            self._unlink(peer.media, [leg.media])

    def _stop_player(self, leg: Leg) -> None:
        player = leg.player
        leg.player, leg.play_id, leg.looping = None, "", False
        if player is None:
            return
        sinks = [leg.media, leg.recorders.get("played")]
        self._unlink(player, [sink for sink in sinks if sink is not None])
        self._bury(player)

    def _close_media(self, leg: Leg) -> None:
        leg.listen = None
        self._stop_player(leg)
        self._unbridge(leg)
        recorders = list(leg.recorders.values())
        if leg.silence is not None:
            self._unlink(leg.silence, recorders)
            self._bury(leg.silence)
            leg.silence = None
        if leg.tap is not None:
            self._park_tap(leg)
        if leg.media is not None:
            self._unlink(leg.media, recorders)
        for recorder in recorders:
            self._bury(recorder)  # freeing a recorder closes its WAV file
        leg.recorders.clear()

    def _park_tap(self, leg: Leg) -> None:
        tap, leg.tap = leg.tap, None
        tap.buffer.detach()  # what it collected goes to the sink first
        if leg.media is not None:
            self._unlink(leg.media, [tap])
        self._bury(tap, after=lambda: self._free_taps.append(tap))  # kept, not freed

    @staticmethod
    def _unlink(source: Any, sinks: list[Any]) -> None:
        for sink in sinks:
            with contextlib.suppress(pj.Error):  # the call's port may already be gone
                source.stopTransmit(sink)

    def _bury(self, media_object: Any, after: Callable[[], None] | None = None) -> None:
        """Free a player or recorder only after the bridge has let go of it (see Graveyard)."""
        self._graveyard.bury(time.monotonic() + GRAVE_S, media_object, after)

    # ---- public API (any thread) -------------------------------------------------
    def answer(self, leg_id: str, code: int = 200, reason: str = "") -> concurrent.futures.Future:
        """Answer (2xx) or refuse the offered leg; ``reason`` is the reply's phrase
        (Kamailio reads "Hub Busy" as "do not try another worker")."""

        def run() -> None:
            leg = self._leg(leg_id)
            if code >= 300:
                leg.local_hangup = "rejected"
            self._answer(leg.call, code, reason)

        return self.submit(run)

    def hangup(self, leg_id: str, reason: str = "local_hangup") -> concurrent.futures.Future:
        return self.submit(lambda: self._hangup(self._leg(leg_id), 603, reason))

    def hangup_all(self, reason: str) -> concurrent.futures.Future:
        def run() -> None:
            for leg in list(self._legs.values()):
                self._hangup(leg, 503, reason)

        return self.submit(run)

    def play(
        self, leg_id: str, path: Path, play_id: str, loop: bool = False
    ) -> concurrent.futures.Future:
        """Play a WAV into the leg (and into its ``played`` recorder), once, or
        round and round until stopped (``loop``: hold music, no end reported)."""

        def run() -> None:
            leg = self._leg(leg_id)
            if leg.player is not None:
                old = leg.play_id
                self._stop_player(leg)
                self._emit(PlaybackFinished(leg_id, old, interrupted=True))
            player = _Player(self, leg_id, play_id)
            try:
                player.createPlayer(str(path), 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
            except pj.Error as exc:
                self._emit(PlaybackFailed(leg_id, play_id, exc.reason))
                return
            leg.player, leg.play_id, leg.looping = player, play_id, loop
            if leg.media is not None:
                player.startTransmit(leg.media)
            if "played" in leg.recorders:
                player.startTransmit(leg.recorders["played"])

        return self.submit(run)

    def stop_playback(self, leg_id: str) -> concurrent.futures.Future:
        def run() -> None:
            leg = self._leg(leg_id)
            if leg.player is not None:
                play_id = leg.play_id
                self._stop_player(leg)
                self._emit(PlaybackFinished(leg_id, play_id, interrupted=True))

        return self.submit(run)

    def record(self, leg_id: str, files: dict[str, Path]) -> concurrent.futures.Future:
        """Record the leg: ``caller``/``heard`` take what the far end sends,
        ``played`` takes what this engine plays into the leg."""

        def run() -> None:
            leg = self._leg(leg_id)
            for name, path in files.items():
                if name in leg.recorders:
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                recorder = pj.AudioMediaRecorder()
                recorder.createRecorder(str(path))
                leg.recorders[name] = recorder
                leg.record_files[name] = str(path)
                if name == "played":
                    # The bridge writes nothing to a recorder nobody transmits to;
                    # a looping silent source keeps both legs' files time-aligned.
                    leg.silence = pj.AudioMediaPlayer()
                    leg.silence.createPlayer(str(self._silence_wav))
                    leg.silence.startTransmit(recorder)
                    if leg.player is not None:
                        leg.player.startTransmit(recorder)
            self._reconnect(leg)

        return self.submit(run)

    def bridge(self, leg_id: str, other_id: str) -> concurrent.futures.Future:
        """Connect two legs both ways (caller and agent hear each other); prompts
        playing on either stop first.  Recorders keep recording each leg."""

        def run() -> None:
            leg, other = self._leg(leg_id), self._leg(other_id)
            for each in (leg, other):
                if each.player is not None:
                    play_id = each.play_id
                    self._stop_player(each)
                    self._emit(PlaybackFinished(each.leg_id, play_id, interrupted=True))
                if each.peer and each.peer not in (leg_id, other_id):
                    self._unbridge(each)
            leg.peer, other.peer = other_id, leg_id
            self._reconnect(leg)

        return self.submit(run)

    def unbridge(self, leg_id: str) -> concurrent.futures.Future:
        return self.submit(lambda: self._unbridge(self._leg(leg_id)))

    def tap(self, leg_id: str, sink: Callable[[bytes], None]) -> concurrent.futures.Future:
        """The leg's incoming audio to ``sink``: 16-bit PCM, ``tap_batch_frames`` × 20 ms
        per call, on PJSIP's clock thread (``sink`` must only hand off)."""

        def run() -> None:
            if (leg := self._leg(leg_id)).tap is not None:
                return
            if self._free_taps:
                tap = self._free_taps.pop()
            else:
                fmt, frame_us = pj.MediaFormatAudio(), 20_000 * self.config.tap_batch_frames
                fmt.init(pj.PJMEDIA_FORMAT_PCM, self.config.clock_rate, 1, frame_us, 16)
                tap = _Tap(self.config.tap_fast_copy)
                self._taps_made += 1
                tap.createPort(f"tap-{self._taps_made}", fmt)
            tap.buffer.attach(sink)
            leg.tap = tap
            if leg.media is not None:
                leg.media.startTransmit(tap)

        return self.submit(run)

    def untap(self, leg_id: str) -> concurrent.futures.Future:
        def run() -> None:
            leg = self._legs.get(leg_id)
            if leg is None or leg.tap is None:
                return
            self._park_tap(leg)

        return self.submit(run)

    def listen(self, leg_id: str, params: ListenParams) -> concurrent.futures.Future:
        def run() -> None:
            self._leg(leg_id).listen = Endpointer(params, started=time.monotonic())

        return self.submit(run)

    def stop_listening(self, leg_id: str) -> concurrent.futures.Future:
        def run() -> None:
            self._leg(leg_id).listen = None

        return self.submit(run)

    def transfer(self, leg_id: str, uri: str) -> concurrent.futures.Future:
        """Blind transfer (REFER) of the leg's far end to ``uri``; progress comes as
        :class:`TransferStatus` events."""

        def run() -> None:
            leg = self._leg(leg_id)
            try:
                leg.call.xfer(uri, pj.CallOpParam(True))
            except pj.Error as exc:
                raise EngineError(f"transfer to {uri} failed: {exc.reason}") from None

        return self.submit(run)

    def send_dtmf(
        self, leg_id: str, digits: str, method: str = "rfc4733"
    ) -> concurrent.futures.Future:
        def run() -> None:
            leg = self._leg(leg_id)
            if method == "sip_info":
                prm = pj.CallSendDtmfParam()
                prm.digits = digits
                prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                prm.duration = 160
                leg.call.sendDtmf(prm)
            else:
                leg.call.dialDtmf(digits)

        return self.submit(run)

    def make_call(self, uri: str) -> concurrent.futures.Future:
        """Place an outbound call (via ``outbound_proxy``); the future holds its leg id."""

        def run() -> str:
            proxied = via_proxy(uri, self.config.outbound_proxy)
            call = _Call(self, self._proxied if proxied else self._account)
            leg = Leg(self._new_leg_id(), call, outbound=True, created=time.monotonic())
            call.leg_id = leg.leg_id
            self._legs[leg.leg_id] = leg
            prm = pj.CallOpParam(True)
            try:
                call.makeCall(uri, prm)
            except pj.Error as exc:
                del self._legs[leg.leg_id]
                raise EngineError(f"cannot call {uri}: {exc.reason}") from None
            return leg.leg_id

        return self.submit(run)

    def registered(self) -> concurrent.futures.Future:
        """Whether the registrar accepted this engine's registration (future of bool)."""

        def run() -> bool:
            info = self._account.getInfo()
            return bool(info.regIsActive and info.regStatus // 100 == 2)

        return self.submit(run)

    def leg_ids(self) -> concurrent.futures.Future:
        return self.submit(lambda: [k for k, v in self._legs.items() if not v.ended])
