"""Speech synthesis with the ``espeak-ng`` program (Debian ``espeak-ng``), offline.

The fallback backend when pyttsx3 cannot drive libespeak-ng in-process
(:mod:`tts.pyttsx`); both speak with the same voice data, so they sound alike.
Debian 12's plain ``cmn`` voice reads many characters as pinyin with English
tone numbers; ``cmn-latn-pinyin`` speaks Mandarin (DESIGN.md, "Models").
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tts.synth import Speech, SynthesisError, SynthesizerUnavailable, Utterance, check_texts
from tts.wav import read_wav

__all__ = ["EspeakCliSynthesizer", "SynthesisError", "check_voice", "espeak_binary"]


def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SynthesizerUnavailable(
            "espeak-ng is not installed: run `apt-get install espeak-ng` "
            "(the setup script does this)"
        )
    return path


def check_voice(voice: str) -> None:
    listing = subprocess.run(
        [espeak_binary(), "--voices"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    names = {line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1}
    if voice not in names:
        raise SynthesisError(
            f"espeak-ng has no voice {voice!r}; install espeak-ng-data or set "
            f"prompts.voice to one of: {', '.join(sorted(n for n in names if 'cmn' in n))}"
        )


class EspeakCliSynthesizer:
    """One ``espeak-ng -w`` run per utterance."""

    name = "espeak-ng"

    def __init__(self, timeout_s: float = 60.0) -> None:
        self.timeout_s = timeout_s

    def synthesize(self, utterances: Sequence[Utterance]) -> list[Speech]:
        check_texts(utterances)
        return [self._one(utterance) for utterance in utterances]

    def _one(self, utterance: Utterance) -> Speech:
        binary = espeak_binary()
        with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
            raw = Path(tmp) / "speech.wav"
            argv = [binary, "-v", utterance.voice, "-s", str(utterance.words_per_minute)]
            try:
                result = subprocess.run(
                    [*argv, "-w", str(raw), utterance.text],
                    capture_output=True,
                    timeout=self.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SynthesizerUnavailable(
                    f"espeak-ng did not finish within {self.timeout_s:g} s"
                ) from None
            if result.returncode != 0 or not raw.exists():
                message = result.stderr.decode(errors="replace").strip()
                raise SynthesisError(f"espeak-ng failed: {message}")
            samples, rate = read_wav(raw)
        return Speech(samples, rate, self.name)
