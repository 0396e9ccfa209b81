"""Decoded text that is not what the caller said: Whisper's hallucinations, caught.

The speech gate (``speech_gate.py``) keeps non-speech away from the decoder;
this is the second line, for audio that holds a little speech and a lot of
something else.  Whisper's own signals are used the way its authors use them
(a segment is skipped when ``no_speech_prob`` is high *and* ``avg_logprob`` is
low), plus what its hallucinations look like in Chinese: one short phrase
over and over, far more characters than the speech could carry, and the
subtitle credits it learned from video ("字幕由…提供", "请不吝点赞订阅").

Pure functions over plain data; the thresholds are :class:`GuardConfig`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Decoded:
    """One segment as the decoder gave it, with its confidence signals."""

    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


@dataclass(frozen=True)
class GuardConfig:
    no_speech_prob: float = 0.6  # with avg_logprob below ``low_logprob``: not speech
    low_logprob: float = -1.0
    min_logprob: float = -1.4  # below this, whatever no_speech_prob says: a guess
    max_compression: float = 2.4  # gzip ratio of the text: repetitive beyond this
    max_chars_per_speech_s: float = 8.0  # fast Mandarin is about 6 characters a second
    spare_chars: int = 4
    max_repeats: int = 3  # one short unit this many times in a row, covering most text


@dataclass(frozen=True)
class Verdict:
    kept: list[int]  # indexes of the segments whose text may be used
    reason: str  # why text was dropped ("" when every segment was kept)


_CREDITS = re.compile(
    r"字幕|订阅|訂閱|点赞|點讚|打赏|打賞|转发|轉發|谢谢观看|謝謝觀看|感谢观看|"
    r"明镜|明鏡|栏目|欄目|amara|请不吝|請不吝|未经授权|本节目",
    re.IGNORECASE,
)
_NOT_WORDS = re.compile(r"[\W_]+", re.UNICODE)


def judge(segments: list[Decoded], speech_s: float, config: GuardConfig = GuardConfig()) -> Verdict:
    """Which segments to keep, given how many seconds of speech the audio held."""
    kept: list[int] = []
    reasons: list[str] = []
    for index, segment in enumerate(segments):
        why = _segment_fault(segment, config)
        if why:
            reasons.append(why)
        else:
            kept.append(index)
    texts = [segments[i].text for i in kept]
    whole = _letters("".join(texts))
    if kept and _repeats_itself(whole, texts, config):
        return Verdict([], "repetition")
    limit = config.max_chars_per_speech_s * speech_s + config.spare_chars
    if kept and len(whole) > limit:
        return Verdict([], f"{len(whole)} characters for {speech_s:.2f} s of speech")
    return Verdict(kept, reasons[0] if reasons else "")


def _segment_fault(segment: Decoded, config: GuardConfig) -> str:
    if not _letters(segment.text):
        return ""
    if segment.no_speech_prob > config.no_speech_prob and segment.avg_logprob < config.low_logprob:
        return "no speech"
    if segment.avg_logprob < config.min_logprob:
        return "low confidence"
    if segment.compression_ratio > config.max_compression:
        return "repetition"
    if _CREDITS.search(segment.text):
        return "subtitle credits"
    return ""


def _letters(text: str) -> str:
    return _NOT_WORDS.sub("", text)


def _repeats_itself(whole: str, texts: list[str], config: GuardConfig) -> bool:
    """One unit of 1–4 characters repeated back to back over most of the text,
    or the same segment text again and again."""
    counts = Counter(_letters(t) for t in texts if _letters(t))
    if counts and counts.most_common(1)[0][1] >= config.max_repeats:
        return True
    if len(whole) < 2 * config.max_repeats:
        return False
    for size in range(1, 5):
        pattern = re.compile(rf"(.{{{size}}})\1{{{config.max_repeats - 1},}}")
        covered = sum(len(m.group(0)) for m in pattern.finditer(whole))
        if covered >= 0.6 * len(whole):
            return True
    return False
