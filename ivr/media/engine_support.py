"""The SIP engine's pjsua2-free parts: a leg's record, the graveyard, the job queue,
small helpers.

Everything here is used by :mod:`ivr.media.engine` on its engine thread only
(see the thread rules there); none of it imports ``pjsua2``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import ipaddress
import os
import queue
import re
import socket
import sys
import tempfile
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.media.endpointing import Endpointer


@dataclass
class Leg:
    """One call leg as the engine thread keeps it (pjsua2 objects held as ``Any``)."""

    leg_id: str
    call: Any
    outbound: bool
    created: float
    answered_at: float | None = None
    media: Any = None  # the call's AudioMedia while active
    media_port: int = -1
    hold: bool = False
    player: Any = None
    play_id: str = ""
    recorders: dict[str, Any] = field(default_factory=dict)
    silence: Any = None  # keeps the ``played`` recording running between prompts
    tap: Any = None  # streams the caller's audio out (to the ASR service)
    peer: str = ""  # the leg this one is bridged with (caller ↔ agent)
    looping: bool = False  # the current player loops (hold music) and reports no end
    record_files: dict[str, str] = field(default_factory=dict)
    listen: Endpointer | None = None
    rx_packets: int = -1
    rx_changed: float = 0.0
    media_stats: dict[str, int] = field(default_factory=dict)
    local_hangup: str = ""
    ended: bool = False


class Graveyard:
    """Media objects resting until the bridge has let go of them, oldest first.

    PJSIP 2.15's conference bridge applies disconnects and port removals on its
    own clock thread, asynchronously; freeing a port in the same tick lets that
    thread touch freed memory (seen as segfaults and corrupted ioqueue lists
    under load).  Disconnected objects rest here for a few bridge ticks first.

    An object stays referenced here until :meth:`sweep` passes its time; dropping
    the reference then frees it (on the engine thread, which alone sweeps), and
    its ``after`` callback runs.
    """

    def __init__(self) -> None:
        self._graves: collections.deque[tuple[float, Any, Callable[[], None] | None]] = (
            collections.deque()
        )

    def __len__(self) -> int:
        return len(self._graves)

    def bury(self, until: float, media_object: Any, after: Callable[[], None] | None) -> None:
        self._graves.append((until, media_object, after))

    def sweep(self, now: float, everything: bool = False) -> None:
        while self._graves and (everything or self._graves[0][0] <= now):
            _, _, after = self._graves.popleft()  # the object is freed here
            if after is not None:
                after()


class JobQueue:
    """Functions handed to the engine thread from any thread, run between two polls."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future]] = (
            queue.SimpleQueue()
        )

    def empty(self) -> bool:
        return self._jobs.empty()

    def put(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        """Queue ``fn``; the future holds its result once :meth:`run_pending` ran it."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return future

    def run_pending(self) -> None:
        """On the engine thread: run every queued function (not those cancelled)."""
        while True:
            try:
                fn, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)


class Waker:
    """Ends the engine thread's poll early, so that it may block long when idle.

    A job queued for the engine thread sends a CRLF datagram to the engine's own
    SIP UDP port: the poll returns at once, and PJSIP drops a UDP packet that
    short (32 bytes or fewer) without parsing or logging it.
    """

    def __init__(self, bind: str, port: int) -> None:
        host = bind
        with contextlib.suppress(ValueError):
            address = ipaddress.ip_address(bind)
            if address.is_unspecified:
                host = "::1" if address.version == 6 else "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._address = (host, port)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # a full socket buffer: a wake is already due
            self._sock.sendto(b"\r\n\r\n", self._address)

    def close(self) -> None:
        self._sock.close()


class Poller:
    """The engine thread's wait for PJSIP's events.

    ``poll_ms`` while the engine has legs (levels, playbacks and timers want it);
    ``idle_poll_ms`` without, so that an idle worker wakes a few times a second
    rather than 25.  A job submitted during a poll ends it at once (a
    :class:`Waker`, when the engine listens on UDP; else polls stay short), so a
    command waits for neither.
    """

    def __init__(self, jobs: JobQueue, poll_ms: int, idle_poll_ms: int) -> None:
        self._jobs, self.poll_ms, self.idle_poll_ms = jobs, poll_ms, idle_poll_ms
        self._handle_events: Callable[[int], Any] | None = None
        self._waker: Waker | None = None
        self._waiting = False

    def start(self, handle_events: Callable[[int], Any], bind: str, port: int, udp: bool) -> None:
        self._handle_events = handle_events
        if udp:
            self._waker = Waker(bind, port)

    def poll(self, busy: bool) -> None:
        assert self._handle_events is not None
        if self._waker is None:
            self._handle_events(self.poll_ms)
            return
        self._waiting = True  # before looking at the queue: a job queued from now on wakes us
        try:
            if self._jobs.empty():
                self._handle_events(self.poll_ms if busy else self.idle_poll_ms)
        finally:
            self._waiting = False

    def submitted(self) -> None:
        """Any thread, after queuing a job: end the poll under way."""
        if self._waiting and self._waker is not None:
            self._waker.wake()

    def close(self) -> None:
        if self._waker is not None:
            self._waker.close()
            self._waker = None


class ForeignThreadState:
    """Keeps a Python thread state for a thread Python did not start (PJSIP's clock).

    A SWIG callback on such a thread takes the GIL with ``PyGILState_Ensure`` and
    gives it back with ``PyGILState_Release``, which creates a thread state and
    destroys it again each time: for a tap, 10 to 50 times a second per call, more
    than the callback itself costs.  :meth:`keep` called from the callback takes one
    more reference that is never released, so the thread state lives as long as the
    thread.  ``PyGILState_Ensure`` is called with the GIL held here, which it allows.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._ensure = ctypes.pythonapi.PyGILState_Ensure
        self._ensure.restype = ctypes.c_int

    def keep(self) -> None:
        if not getattr(self._local, "kept", False):
            self._ensure()
            self._local.kept = True


class TapBuffer:
    """A tap's frames on their way to its sink.

    :meth:`add` runs on the bridge's clock thread for every frame of the tap's port
    (``workers.tap_batch_frames`` × 20 ms: the bridge itself gathers them, so there is
    one Python callback and one thread crossing per hand-over); :meth:`attach` and
    :meth:`detach` on the engine thread.  The lock keeps a frame that is being handed
    over from racing a detach: no frame reaches a sink after :meth:`detach` returns.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sink: Callable[[bytes], None] | None = None

    @property
    def attached(self) -> bool:
        return self._sink is not None

    def attach(self, sink: Callable[[bytes], None]) -> None:
        with self._lock:
            self._sink = sink

    def detach(self) -> None:
        with self._lock:
            self._sink = None

    def add(self, frame: bytes) -> None:
        with self._lock:
            if self._sink is not None:
                self._sink(frame)


def vector_reader(sample: Any) -> Callable[[Any], bytes]:
    """A fast ``bytes(vector)`` for SWIG proxies of ``std::vector<unsigned char>``
    (pjsua2's ``ByteVector``, a frame's ``buf``).

    ``bytes()`` walks the proxy element by element through SWIG: about 180 µs for
    one 20 ms frame at 8 kHz, on the bridge's clock thread, for every tapped leg.
    This reads the vector's own begin and end pointers (libstdc++ keeps them first)
    and copies the bytes with ctypes: about 3 µs.  ``sample`` is a vector of known
    content; if reading it this way does not give its bytes back, plain ``bytes``
    is returned instead.
    """
    pair = ctypes.c_void_p * 2
    string_at = ctypes.string_at

    def fast(vector: Any) -> bytes:
        begin, end = pair.from_address(int(vector.this))
        return string_at(begin, end - begin) if begin else b""

    try:
        expected = bytes(sample)
        begin, end = pair.from_address(int(sample.this))
        if not begin or not end or end - begin != len(expected):
            return bytes
        if fast(sample) != expected or fast(type(sample)()) != b"":
            return bytes
    except (TypeError, ValueError, AttributeError, OverflowError):
        return bytes
    return fast


def name_thread(name: str) -> None:
    """Give the calling thread a name ``top -H`` and ``/proc`` show (Linux; else nothing)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/self/task/{threading.get_native_id()}/comm").write_text(name[:15])


def stream_stats(stat: Any) -> dict[str, int]:
    """The counters a leg reports when it ends, from pjsua2's ``StreamStat``."""
    return {
        "rx_packets": stat.rtcp.rxStat.pkt,
        "rx_lost": stat.rtcp.rxStat.loss,
        "rx_discarded": stat.rtcp.rxStat.discard,
        "jitter_buffer_lost": stat.jbuf.lost,
        "jitter_buffer_discarded": stat.jbuf.discard,
        "jitter_buffer_empty": stat.jbuf.empty,
        "tx_packets": stat.rtcp.txStat.pkt,
    }


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Keep stdout clean for callers that print JSON (``hotline phone``)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def write_silence(rate: int) -> Path:
    """A second of silence at ``rate`` (shared by every engine; written once)."""
    path = Path(tempfile.gettempdir()) / f"hotline-silence-{rate}.wav"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(b"\0\0" * rate)
        os.replace(tmp, path)
    return path


def user_part(uri: str) -> str:
    match = re.search(r"sips?:([^@;>]+)@", uri)
    return match.group(1) if match else ""


def end_reason(local_hangup: str, answered: bool, outbound: bool, code: int) -> str:
    """Why a leg ended, from what PJSIP reports on its disconnect."""
    if local_hangup:
        return local_hangup
    if answered:
        return "remote_hangup"
    if code == 487:
        return "cancelled"
    return "failed" if outbound else "cancelled"


def via_proxy(uri: str, proxy: str) -> bool:
    """Whether a call to ``uri`` goes through ``proxy`` (host:port, the node's
    Kamailio): always, unless there is none or ``uri`` is addressed to it already
    (an agent's registration there)."""
    if not proxy:
        return False
    host = uri.split("@", 1)[-1].split(";", 1)[0].split(">", 1)[0]
    return host.removeprefix("sip:") != proxy
