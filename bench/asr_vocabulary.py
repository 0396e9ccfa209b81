"""Whisper with and without the hotline's vocabulary, side by side, in one run.

    .venv/bin/python bench/asr_vocabulary.py                 # 48 utterances, ≈ 4 min on 2 cores
    .venv/bin/python bench/asr_vocabulary.py --utterances 12 --hotwords 24 --json

Two sets of audio:

- the real AISHELL clips of ../shared/data/speech (wideband and their 8 kHz telephone
  versions): CER, to see that biasing costs ordinary speech nothing;
- synthetic telephone calls: sentences made from the vocabulary ("我要投诉天河区石牌
  街道的噪音，请转给生态环境局"), spoken by espeak-ng, resampled to 8 kHz and passed
  through G.711 A-law as a phone line would: the recall of district, street and
  department names in the transcripts.  espeak-ng's plain ``cmn`` voice reads the
  characters as digits and tone numbers in Debian 12, so ``cmn-latn-pinyin`` (real
  Mandarin) is the default; robotic speech is hard for Whisper either way.

Four columns from two decodes of each utterance: ``off`` (no vocabulary),
``mend`` (the same decode, near-homophones mended by pinyin), ``hotwords`` (the
first ``--hotwords`` terms in the decoder's prompt) and ``both`` (that decode,
mended).  The places are the node's vocabulary (``ivr/node/asr_vocabulary.py``) with
``bench/asr_vocabulary_places.txt`` as the city's ``routing.places``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asr.audio import read_wav  # noqa: E402
from asr.evaluation import read_manifest  # noqa: E402
from asr.homophones import Lexicon  # noqa: E402
from asr.normalize import edit_distance, for_scoring, punctuate  # noqa: E402
from asr.recognizer import Transcript  # noqa: E402
from asr.vocabulary import Vocabulary, build_vocabulary  # noqa: E402
from asr.whisper import WhisperRecognizer  # noqa: E402
from ivr.node.asr_vocabulary import known_places  # noqa: E402
from ivr.peers.sipp import alaw_decode, alaw_encode  # noqa: E402

HERE = Path(__file__).resolve().parent
PLACES = HERE / "asr_vocabulary_places.txt"
SPEECH = HERE.parent.parent / "shared" / "data" / "speech"
RATE = 8000
COLUMNS = ("off", "mend", "hotwords", "both")

TEMPLATES = (
    "我要投诉{district}{street}的噪音，请转给{department}。",
    "你好，我住在{district}{street}，想咨询一下{department}的问题。",
    "{district}{street}那边的路灯坏了，麻烦通知{department}。",
    "我要举报{street}附近有人占道经营，请{department}来处理。",
    "我是{district}的居民，{street}有违章建筑，请{department}去看看。",
    "请问{department}的电话是多少？我在{district}{street}。",
)


@dataclass(frozen=True)
class Utterance:
    text: str
    names: dict[str, str]  # kind (district, street, department) → the name said


def streets_by_district(path: Path = PLACES) -> dict[str, list[str]]:
    """The sample place list's streets under the ``# district`` comment above them."""
    found: dict[str, list[str]] = {}
    district = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and line.strip().endswith("区"):
            district = line[2:].strip()
        elif line.strip() and not line.startswith("#") and district:
            found.setdefault(district, []).append(line.strip())
    return found


def utterances(departments: list[str], count: int, seed: int = 12345) -> list[Utterance]:
    """``count`` sentences, every template and department in turn, places drawn."""
    rng = random.Random(seed)
    streets = streets_by_district()
    made = []
    for index in range(count):
        district = rng.choice(sorted(streets))
        names = {
            "district": district,
            "street": rng.choice(streets[district]),
            "department": departments[index % len(departments)],
        }
        template = TEMPLATES[index % len(TEMPLATES)]
        said = {k: v for k, v in names.items() if "{" + k + "}" in template}
        made.append(Utterance(template.format(**names), said))
    return made


def telephone_speech(text: str, voice: str = "cmn-latn-pinyin", speed: int = 150) -> np.ndarray:
    """``text`` spoken by espeak-ng, at 8 kHz through G.711 A-law, 0.3 s of line
    silence either side: float32 samples at :data:`RATE`."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "said.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        samples, rate = read_wav(wav)
    phone = soxr.resample(samples, rate, RATE, quality="HQ")
    pcm = (np.clip(phone, -1, 1) * 32767).astype(np.int16)
    line = alaw_decode(alaw_encode(pcm)).astype(np.float32) / 32768
    pad = np.zeros(int(0.3 * RATE), np.float32)
    return np.concatenate([pad, line, pad])


def mended(transcript: Transcript, lexicon: Lexicon) -> str:
    """The transcript's text as the recogniser would give it with mending on."""
    return punctuate(
        [(s.start_s, s.end_s, lexicon.mend(s.text)[0]) for s in transcript.segments], pause_s=0.0
    )


def bench_vocabulary(departments: list[str]) -> Vocabulary:
    return build_vocabulary(departments, known_places(), PLACES)


@dataclass
class Tally:
    errors: dict[str, int] = field(default_factory=dict)
    characters: dict[str, int] = field(default_factory=dict)
    hits: dict[tuple[str, str], int] = field(default_factory=dict)  # (column, kind)
    names: dict[str, int] = field(default_factory=dict)  # kind → how many were said
    decode_s: dict[str, float] = field(default_factory=dict)
    audio_s: dict[str, float] = field(default_factory=dict)

    def cer(self, column: str, clips: str) -> float:
        key = f"{column}/{clips}"
        return self.errors.get(key, 0) / max(1, self.characters.get(key, 0))

    def recall(self, column: str, kind: str | None = None) -> float:
        kinds = [kind] if kind else list(self.names)
        said = sum(self.names.get(k, 0) for k in kinds)
        return sum(self.hits.get((column, k), 0) for k in kinds) / max(1, said)


def run(args: argparse.Namespace) -> dict:
    from call_routing.taxonomy import default_taxonomy

    departments = [d for dom in default_taxonomy().domains.values() for d in dom.departments]
    vocabulary = bench_vocabulary(departments)
    plain = WhisperRecognizer(cpu_threads=args.threads)
    biased = plain.biased(vocabulary, args.hotwords, mend_homophones=False)
    lexicon = Lexicon(vocabulary.terms)
    print(
        f"vocabulary: {len(vocabulary)} terms, {len(lexicon)} for mending; "
        f"hotwords ({len(biased.bias.terms)}): {biased.bias.hotwords}",
        file=sys.stderr,
    )
    tally = Tally()
    examples: list[dict] = []

    def decode(samples: np.ndarray, rate: int) -> dict[str, str]:
        texts = {}
        for name, recogniser in (("off", plain), ("hotwords", biased)):
            transcript = recogniser.transcribe(samples, rate)
            texts[name] = transcript.text
            texts["mend" if name == "off" else "both"] = mended(transcript, lexicon)
            tally.decode_s[name] = tally.decode_s.get(name, 0.0) + transcript.decode_s
            tally.audio_s[name] = tally.audio_s.get(name, 0.0) + transcript.audio_s
        return texts

    rows = read_manifest(SPEECH / "manifest.tsv") if args.clips else []
    started = time.perf_counter()
    for number, (path, reference) in enumerate(rows, 1):
        samples, rate = read_wav(path)
        clips = "telephone" if rate == RATE else "wideband"
        texts = decode(samples, rate)
        for column, text in texts.items():
            key = f"{column}/{clips}"
            ref = for_scoring(reference)
            tally.errors[key] = tally.errors.get(key, 0) + edit_distance(ref, for_scoring(text))
            tally.characters[key] = tally.characters.get(key, 0) + len(ref)
        print(f"[clip {number}/{len(rows)}] {path.name}: {texts['off']} | {texts['both']}",
              file=sys.stderr)  # fmt: skip
    said = utterances(departments, args.utterances, args.seed)
    for number, utterance in enumerate(said, 1):
        if time.perf_counter() - started > args.budget_s:
            print(f"time budget of {args.budget_s:.0f} s spent: stopping", file=sys.stderr)
            break
        texts = decode(telephone_speech(utterance.text, args.voice, args.speed), RATE)
        for kind, name in utterance.names.items():
            tally.names[kind] = tally.names.get(kind, 0) + 1
            for column, text in texts.items():
                hit = name in for_scoring(text)
                tally.hits[(column, kind)] = tally.hits.get((column, kind), 0) + hit
        examples.append({"said": utterance.text, **texts})
        print(f"[{number}/{len(said)}] {utterance.text} → off: {texts['off']} | "
              f"both: {texts['both']}", file=sys.stderr)  # fmt: skip
    return {
        "hotwords": args.hotwords,
        "hotword_terms": len(biased.bias.terms),
        "vocabulary_terms": len(vocabulary),
        "utterances": len(examples),
        "voice": args.voice,
        "columns": {
            column: {
                "cer_wideband": round(tally.cer(column, "wideband"), 4),
                "cer_telephone": round(tally.cer(column, "telephone"), 4),
                **{f"recall_{k}": round(tally.recall(column, k), 4) for k in tally.names},
                "recall_names": round(tally.recall(column), 4),
                "rtf": round(
                    tally.decode_s.get(
                        column.replace("mend", "off").replace("both", "hotwords"), 0.0
                    )
                    / max(1e-9, tally.audio_s.get("off", 0.0)),
                    3,
                ),  # fmt: skip
            }
            for column in COLUMNS
        },
        "names_said": tally.names,
        "examples": examples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=48, help="synthetic calls (≤ 200)")
    parser.add_argument("--hotwords", type=int, default=24, help="terms in the prompt")
    parser.add_argument("--voice", default="cmn-latn-pinyin")
    parser.add_argument("--speed", type=int, default=150, help="espeak-ng words per minute")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget-s", type=float, default=600.0, help="stop after this long")
    parser.add_argument("--no-clips", dest="clips", action="store_false", help="skip AISHELL")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    args.utterances = max(1, min(200, args.utterances))
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(
        f"\n{result['utterances']} synthetic telephone utterances ({args.voice}), "
        f"{result['hotword_terms']} hotwords, {result['vocabulary_terms']} terms"
    )
    keys = [k for k in result["columns"]["off"] if k != "rtf"] + ["rtf"]
    print(f"{'':18}" + "".join(f"{c:>10}" for c in COLUMNS))
    for key in keys:
        print(f"{key:18}" + "".join(f"{result['columns'][c][key]:>10}" for c in COLUMNS))


if __name__ == "__main__":
    main()
