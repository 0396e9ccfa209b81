"""Voice activity detection and end of turn, on 20 ms frames of 16-bit PCM.

:class:`Endpointer` is pure logic over a per-frame speech/non-speech decision;
the decision comes from WebRTC's VAD (:func:`webrtc_classifier`) in the node
and from anything else in tests.  Times are seconds from the stream's start,
counted in frames, so no clock is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

FRAME_MS = 20

Classifier = Callable[[bytes], bool]


@dataclass(frozen=True)
class EndpointConfig:
    sample_rate: int = 8000
    min_speech_ms: int = 200  # this much speech (within the onset window) starts a turn
    end_silence_ms: int = 800  # this much non-speech ends it
    max_utterance_s: float = 30.0  # a turn is cut here even if the caller goes on
    pre_roll_ms: int = 200  # audio kept from before the onset, so first syllables survive

    @property
    def frame_bytes(self) -> int:
        return self.sample_rate * FRAME_MS // 1000 * 2


@dataclass(frozen=True)
class SpeechStart:
    at_s: float


@dataclass(frozen=True)
class SpeechEnd:
    """A finished turn: its audio (16-bit PCM) and why it ended."""

    start_s: float
    end_s: float
    audio: bytes
    reason: str  # "silence", "max_utterance" or "flush"


@dataclass
class Endpointer:
    config: EndpointConfig
    classify: Classifier
    _frames: int = 0
    _onset: list[tuple[bytes, bool]] = field(default_factory=list)
    _utterance: list[bytes] = field(default_factory=list)
    _in_speech: bool = False
    _start_frame: int = 0
    _silent_frames: int = 0

    def feed(self, frame: bytes) -> list[SpeechStart | SpeechEnd]:
        """One 20 ms frame in; what it completed out."""
        if len(frame) != self.config.frame_bytes:
            raise ValueError(
                f"expected {self.config.frame_bytes} bytes (20 ms at "
                f"{self.config.sample_rate} Hz), got {len(frame)}"
            )
        self._frames += 1
        voiced = self.classify(frame)
        if not self._in_speech:
            return self._before_speech(frame, voiced)
        self._utterance.append(frame)
        self._silent_frames = 0 if voiced else self._silent_frames + 1
        if self._silent_frames * FRAME_MS >= self.config.end_silence_ms:
            return [self._finish("silence", trailing=self._silent_frames)]
        if len(self._utterance) * FRAME_MS >= self.config.max_utterance_s * 1000:
            return [self._finish("max_utterance", trailing=0)]
        return []

    def flush(self) -> list[SpeechEnd]:
        """The stream ends: a turn in progress is finished as it is."""
        if not self._in_speech:
            return []
        return [self._finish("flush", trailing=self._silent_frames)]

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def speech_so_far(self) -> bytes:
        return b"".join(self._utterance)

    @property
    def trailing_silence_ms(self) -> int:
        """Non-speech since the caller's last voiced frame, within a turn."""
        return self._silent_frames * FRAME_MS if self._in_speech else 0

    def speech_without_trailing_silence(self) -> bytes:
        """The turn's audio as :meth:`SpeechEnd.audio` will be if the caller stays quiet."""
        kept = len(self._utterance) - self._silent_frames
        return b"".join(self._utterance[:kept])

    def _before_speech(self, frame: bytes, voiced: bool) -> list[SpeechStart | SpeechEnd]:
        window = max(1, self.config.min_speech_ms // FRAME_MS)
        keep = window + self.config.pre_roll_ms // FRAME_MS
        self._onset.append((frame, voiced))
        if len(self._onset) > keep:
            self._onset.pop(0)
        recent = sum(1 for _, is_voice in self._onset[-window:] if is_voice)
        if recent < window * 0.8:
            return []
        self._in_speech = True
        self._silent_frames = 0
        self._utterance = [f for f, _ in self._onset]  # includes the pre-roll
        self._start_frame = self._frames - window  # where the speech itself began
        self._onset = []
        return [SpeechStart(self._seconds(self._start_frame))]

    def _finish(self, reason: str, trailing: int) -> SpeechEnd:
        audio = b"".join(self._utterance[: len(self._utterance) - trailing or None])
        end_frame = self._frames - trailing
        event = SpeechEnd(self._seconds(self._start_frame), self._seconds(end_frame), audio, reason)
        self._in_speech = False
        self._utterance, self._silent_frames = [], 0
        return event

    @staticmethod
    def _seconds(frames: int) -> float:
        return round(frames * FRAME_MS / 1000, 3)


def webrtc_classifier(sample_rate: int, aggressiveness: int = 2) -> Classifier:
    """WebRTC's VAD (``webrtcvad-wheels``): 0 is least, 3 most aggressive at rejecting noise."""
    import webrtcvad

    vad = webrtcvad.Vad(aggressiveness)
    return lambda frame: vad.is_speech(frame, sample_rate)
