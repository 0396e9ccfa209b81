"""Which recogniser the node runs, chosen from ``[asr]`` in the settings.

An explicit registry (STYLE.md, point 13): ``whisper`` is faster-whisper behind
the VAD :class:`~asr.stream.StreamAdapter`; ``vosk`` is :class:`~asr.vosk.VoskEngine`
with a Chinese Vosk model; ``auto`` takes Vosk when such a model is installed
(``hotline models fetch vosk-cn-small``), else Whisper.  Engines import their
libraries only when chosen.

The hotline's vocabulary (``asr/vocabulary.py``) is handed in by the caller, who may
read the taxonomy and the places (the node, ``ivr/node/asr_vocabulary.py``); Whisper
is biased with it when ``asr.vocabulary`` is on.  Vosk is not (yet): its grammars fit
closed answers, not free speech.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from asr.models import (
    VOSK_MODELS,
    ModelError,
    find_chinese_vosk_model,
    prepare_whisper_base,
    resolve_vosk_model,
    vosk_dir,
)
from asr.recognizer import BatchRecognizer
from asr.vad import Classifier, EndpointConfig, webrtc_classifier
from asr.vocabulary import Vocabulary
from sip_config.settings import AsrSection

if TYPE_CHECKING:
    from asr.whisper import WhisperRecognizer


class RecognizerStreamLike(Protocol):
    def feed(self, frame: bytes) -> None: ...
    def flush(self) -> None: ...
    async def close(self) -> None: ...
    def __aiter__(self) -> RecognizerStreamLike: ...
    async def __anext__(self) -> object: ...


class StreamingEngine(Protocol):
    """What the ASR service needs: ``StreamAdapter`` and ``VoskEngine`` both are one."""

    recognizer: BatchRecognizer  # its ``name`` goes with every result

    def open_stream(self, config: EndpointConfig) -> RecognizerStreamLike: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineChoice:
    kind: Literal["whisper", "vosk"]
    vosk_model: Path | None = None


def choose_engine(config: AsrSection, cache: Path | None = None) -> EngineChoice:
    """The engine ``config`` asks for; ``ModelError`` names the key and the fix."""
    if config.engine == "whisper":
        return EngineChoice("whisper")
    if config.engine == "vosk":
        found = resolve_vosk_model(config.vosk_model, cache)
        if found is None:
            raise ModelError(missing_vosk_model(config, cache))
        return EngineChoice("vosk", found)
    found = find_chinese_vosk_model(config.vosk_model, cache)
    return EngineChoice("vosk", found) if found else EngineChoice("whisper")


def missing_vosk_model(config: AsrSection, cache: Path | None = None) -> str:
    name = config.vosk_model
    if name in VOSK_MODELS:
        where = vosk_dir(cache) / name
        return (
            f'asr.engine = "vosk" but the Vosk model {name} is not installed in {where}: '
            f"run `hotline models fetch {name}` where alphacephei.com can be reached, or copy "
            f'the unzipped model folder to {where}, or set asr.engine = "auto" or "whisper"'
        )
    return (
        f"asr.vosk_model = {name!r} is not a Vosk model folder (am/final.mdl, conf/model.conf): "
        f"set it to a model folder or to one of {', '.join(VOSK_MODELS)}, "
        'or set asr.engine = "whisper"'
    )


def _classifiers(config: AsrSection) -> Callable[[int], Classifier]:
    return lambda rate: webrtc_classifier(rate, config.vad_aggressiveness)


def sized(config: AsrSection, kind: str) -> AsrSection:
    """``config`` with its "auto" (0) decoders and threads chosen for this machine."""
    if config.decoders and config.cpu_threads:
        return config
    from asr.service import size_service, usable_cores

    sizing = size_service(
        usable_cores(), kind, config.max_streams, config.decoders, config.cpu_threads
    )
    return config.model_copy(
        update={"decoders": sizing.decoders, "cpu_threads": sizing.cpu_threads}
    )


def _whisper(
    config: AsrSection, cache: Path | None, vocabulary: Vocabulary | None
) -> WhisperRecognizer:
    from asr.whisper import WhisperRecognizer

    return WhisperRecognizer(
        prepare_whisper_base(cache).path,
        config.cpu_threads,
        vad_aggressiveness=config.vad_aggressiveness,
        vocabulary=vocabulary if config.vocabulary else None,
        max_hotwords=config.max_hotwords,
        mend_homophones=config.mend_homophones,
    )


def open_engine(
    config: AsrSection, cache: Path | None = None, vocabulary: Vocabulary | None = None
) -> StreamingEngine:
    """The streaming engine for the ASR service, its model loaded."""
    choice = choose_engine(config, cache)
    config = sized(config, choice.kind)
    if choice.kind == "vosk":
        from asr.vosk import VoskEngine

        assert choice.vosk_model is not None
        return VoskEngine(choice.vosk_model, _classifiers(config), decoders=config.decoders)
    from asr.stream import StreamAdapter

    return StreamAdapter(
        _whisper(config, cache, vocabulary),
        _classifiers(config),
        decoders=config.decoders,
        interim_every_s=config.interim_every_s,
    )


def open_recognizer(
    config: AsrSection, cache: Path | None = None, vocabulary: Vocabulary | None = None
) -> BatchRecognizer:
    """The same engine for whole recordings (``hotline asr transcribe`` and ``eval``)."""
    choice = choose_engine(config, cache)
    config = sized(config, choice.kind)
    if choice.kind == "vosk":
        from asr.vosk import VoskRecognizer

        assert choice.vosk_model is not None
        return VoskRecognizer(choice.vosk_model)
    return _whisper(config, cache, vocabulary)
