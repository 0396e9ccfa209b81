"""Speech synthesis with pyttsx3 driving libespeak-ng in-process (driver ``espeak``).

pyttsx3 engines are process-wide (libespeak-ng is initialised once per
process), not thread-safe, print to stdout, and ``runAndWait`` can hang when
the library never reports the end of a message.  So each utterance is spoken by
a short-lived child (:mod:`tts.pyttsx_child`, about 0.1 s to start) that is
killed when it overruns its time.  A child that cannot load pyttsx3 or
libespeak-ng, crashes, hangs or writes no audio raises
:class:`~tts.synth.SynthesizerUnavailable`, so a
:class:`~tts.synth.FallbackSynthesizer` goes on with the ``espeak-ng`` program.
Each utterance is spoken twice at once (two cores) and the takes must agree.

pyttsx3 names espeak-ng voices by their file, lower-cased, e.g.
``sit/cmn-latn-pinyin`` ("Chinese (Mandarin, latin as Pinyin)", languages
``["cmn-latn-pinyin"]``); :func:`~tts.pyttsx_child.find_voice` maps the
settings' voice name to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from tts.synth import Speech, SynthesisError, SynthesizerUnavailable, Utterance, check_texts
from tts.wav import read_wav

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Takes of each utterance that must agree: pyttsx3 2.99 on libespeak-ng was seen
# to cut an utterance short about once in 150 runs (its asynchronous mode).
TAKES = 2


class PyttsxSynthesizer:
    """pyttsx3 on libespeak-ng, in child processes bounded by a timeout."""

    name = "pyttsx3"

    def __init__(self, timeout_s: float = 30.0, python: str = sys.executable) -> None:
        self.timeout_s = timeout_s  # per take of an utterance
        self.python = python

    def synthesize(self, utterances: Sequence[Utterance]) -> list[Speech]:
        check_texts(utterances)
        with (
            tempfile.TemporaryDirectory(prefix="hotline-pyttsx3-") as tmp,
            ThreadPoolExecutor(TAKES) as pool,
        ):
            return [
                self._speak(utterance, Path(tmp) / str(index), pool)
                for index, utterance in enumerate(utterances)
            ]

    def _speak(self, utterance: Utterance, stem: Path, pool: ThreadPoolExecutor) -> Speech:
        """Two takes at once; a third when they differ; the audio two takes agree on."""
        takes = list(
            pool.map(lambda n: self._take(utterance, stem.with_suffix(f".{n}.wav")), range(TAKES))
        )
        if not _same(takes[0], takes[1]):
            takes.append(self._take(utterance, stem.with_suffix(".2.wav")))
        for i, take in enumerate(takes):
            if any(_same(take, other) for other in takes[i + 1 :]):
                return Speech(take[0], take[1], self.name)
        raise SynthesizerUnavailable(
            f"pyttsx3 gave different audio each time for {utterance.text[:20]!r}"
        )

    def _take(self, utterance: Utterance, path: Path) -> tuple[np.ndarray, int]:
        request = {
            "path": str(path),
            "text": utterance.text,
            "voice": utterance.voice,
            "words_per_minute": utterance.words_per_minute,
        }
        reply = self._run_child(json.dumps(request, ensure_ascii=False), self.timeout_s)
        if not reply.get("ok"):
            error = str(reply.get("error", "unknown error"))
            if reply.get("unavailable"):
                raise SynthesizerUnavailable(f"{error} for {utterance.text[:20]!r}")
            raise SynthesisError(error)
        samples, rate = read_wav(path)
        if len(samples) == 0:
            raise SynthesizerUnavailable(f"pyttsx3 wrote an empty WAV for {utterance.text[:20]!r}")
        return samples, rate

    def _run_child(self, request: str, timeout: float) -> dict[str, Any]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        try:
            result = subprocess.run(
                [self.python, "-m", "tts.pyttsx_child"],
                input=request.encode(),
                capture_output=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SynthesizerUnavailable(
                f"pyttsx3 did not finish within {timeout:g} s (runAndWait hung?); "
                "its process was killed"
            ) from None
        except OSError as exc:
            raise SynthesizerUnavailable(f"cannot start {self.python}: {exc.strerror}") from None
        lines = result.stdout.decode(errors="replace").strip().splitlines()
        try:
            reply = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            reply = None
        if not isinstance(reply, dict):
            tail = result.stderr.decode(errors="replace").strip()[-300:]
            raise SynthesizerUnavailable(
                f"the pyttsx3 process exited with status {result.returncode}: {tail}"
            )
        return reply


def _same(a: tuple[np.ndarray, int], b: tuple[np.ndarray, int]) -> bool:
    return a[1] == b[1] and np.array_equal(a[0], b[0])
