"""The Whisper engine on real recorded Mandarin (AISHELL-1 clips in ../shared/data/speech)."""

from __future__ import annotations

import json
import subprocess
import wave

import numpy as np
import pytest

from asr.audio import read_wav
from asr.evaluation import evaluate, read_manifest
from asr.normalize import cer
from asr.recognizer import RecognizerError
from asr.whisper import WhisperRecognizer
from tests.support import nonspeech
from tests.support.nodes import HOTLINE, SPEECH
from tests.support.nonspeech import NOT_SPEECH

MANIFEST = SPEECH / "manifest.tsv"


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer()


@pytest.fixture(scope="module")
def rows() -> list:
    return read_manifest(MANIFEST)


def test_wideband_clips_cer_at_most_0_25(whisper, rows) -> None:
    result = evaluate(whisper, [r for r in rows if "_8k_" not in r[0].name])
    assert len(result.files) == 5
    assert result.cer <= 0.25, result.as_json()


def test_telephone_clips_cer_at_most_0_30(whisper, rows) -> None:
    result = evaluate(whisper, [r for r in rows if "_8k_" in r[0].name])
    assert len(result.files) == 5
    assert result.cer <= 0.30, result.as_json()


def test_segments_have_times_and_confidence(whisper) -> None:
    samples, rate = read_wav(SPEECH / "aishell1_BAC009S0002W0123.wav")
    transcript = whisper.transcribe(samples, rate)
    assert transcript.segments and transcript.text
    assert all(0 <= s.start_s < s.end_s <= transcript.audio_s + 0.5 for s in transcript.segments)
    assert all(0 < s.confidence <= 1 for s in transcript.segments)
    assert 0 < transcript.rtf < 2


def test_silence_gives_no_words_and_bad_rates_are_refused(whisper) -> None:
    assert whisper.transcribe(np.zeros(16000, np.float32), 16000).text.strip() == ""
    with pytest.raises(RecognizerError, match="unsupported sample rate"):
        whisper.transcribe(np.zeros(44100, np.float32), 44100)


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("sound", list(NOT_SPEECH))
@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_non_speech_gives_no_words(whisper, sound: str, rate: int, quick: bool) -> None:
    decode = whisper.transcribe_quick if quick else whisper.transcribe
    transcript = decode(NOT_SPEECH[sound](rate), rate)
    assert transcript.text == "" and transcript.segments == []
    assert transcript.withheld  # says why, for logs and `asr transcribe --json`


@pytest.mark.parametrize("clip", sorted(SPEECH.glob("*.wav")), ids=lambda p: p.name)
def test_the_guard_keeps_every_word_of_real_speech(whisper, clip) -> None:
    samples, rate = read_wav(clip)
    transcript = whisper.transcribe(samples, rate)
    assert transcript.withheld == "" and len(transcript.text) >= 5


def test_speech_after_hold_music_is_transcribed(whisper) -> None:
    samples, rate = read_wav(SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav")
    held = np.concatenate([nonspeech.hold_music(rate, seconds=4.0), samples])
    assert cer("甚至出现交易几乎停滞的情况", whisper.transcribe(held, rate).text) <= 0.3


def _write_wav(path, samples: np.ndarray, rate: int = 8000):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_cli_transcribe_gives_no_words_for_silence_noise_and_a_tone(tmp_path) -> None:
    files = [
        _write_wav(tmp_path / "silent.wav", nonspeech.silence(8000)),
        _write_wav(tmp_path / "noise.wav", nonspeech.white_noise(8000, -30)),
        _write_wav(tmp_path / "tone.wav", nonspeech.tone(8000, 1000)),
    ]
    result = subprocess.run(
        [str(HOTLINE), "asr", "transcribe", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["", "", ""]
    assert all(line["withheld"] and line["segments"] == [] for line in lines)


def test_cli_eval_json_and_transcribe(tmp_path) -> None:
    result = subprocess.run(
        [str(HOTLINE), "asr", "eval", str(MANIFEST), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["cer"] <= 0.30 and 0 < report["rtf"] < 2 and report["latency_p95_s"] > 0
    assert {f["path"] for f in report["files"]} == {p.name for p, _ in read_manifest(MANIFEST)}
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF0000WAVEjunk")
    result = subprocess.run(
        [
            str(HOTLINE),
            "asr",
            "transcribe",
            "--json",
            str(SPEECH / "aishell1_BAC009S0764W0121.wav"),
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "broken.wav: not a readable PCM WAV file" in " ".join(result.stderr.split())
    (line,) = result.stdout.splitlines()
    assert cer("甚至出现交易几乎停滞的情况", json.loads(line)["text"]) <= 0.3


def test_cli_eval_rejects_a_manifest_without_the_columns(tmp_path) -> None:
    bad = tmp_path / "m.tsv"
    bad.write_text("file\ttext\nx.wav\t你好\n")
    result = subprocess.run(
        [str(HOTLINE), "asr", "eval", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "columns 'path' and 'transcript'" in result.stderr
