"""The SIP engine's pjsua2-free parts: a leg's record, the graveyard, the job queue,
small helpers.

Everything here is used by :mod:`ivr.media.engine` on its engine thread only
(see the thread rules there); none of it imports ``pjsua2``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import os
import queue
import re
import sys
import tempfile
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
