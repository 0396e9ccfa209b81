"""Concurrent ASR: N callers talking at once into one ASR service, at real-time pace.

    .venv/bin/python bench/asr.py                  # N = 1, 2, 4, 6, 8
    .venv/bin/python bench/asr.py --streams 4,8 --rounds 3

Each stream sends an AISHELL clip from ../shared/data/speech (8 kHz telephone
versions by default) as 20 ms frames in real time, then silence, and waits for the
final.  Printed per N: end of speech → final latency p50/p95, real-time factor of
the decoding, service CPU, and CER; the largest N that keeps p95 under the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asr.audio import read_wav  # noqa: E402
from asr.evaluation import read_manifest  # noqa: E402
from asr.normalize import cer  # noqa: E402
from asr.service import AsrService, ServiceLimits, start_service  # noqa: E402
from asr.stream import StreamAdapter  # noqa: E402
from asr.vad import webrtc_classifier  # noqa: E402
from asr.whisper import WhisperRecognizer  # noqa: E402
from sip_config import Settings  # noqa: E402

SPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "speech"
console = Console(width=140)


async def one_caller(url: str, call_id: str, audio: np.ndarray, rate: int) -> dict:
    from websockets.asyncio.client import connect

    frame = rate // 50
    finals: list[dict] = []
    async with connect(url) as ws:
        await ws.send(json.dumps({"call_id": call_id, "sample_rate": rate}))
        await ws.recv()

        async def read() -> None:
            async for message in ws:
                event = json.loads(message)
                if event["type"] == "final":
                    finals.append(event)

        reader = asyncio.create_task(read())
        started = time.perf_counter()
        for index, start in enumerate(range(0, len(audio) - frame + 1, frame)):
            await ws.send(audio[start : start + frame].tobytes())
            delay = started + (index + 1) * 0.02 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await ws.send(json.dumps({"eof": True}))
        await reader
    return {"finals": finals}


async def round_of(url: str, n: int, clips: list[tuple[np.ndarray, int, str]]) -> list[dict]:
    tasks = []
    for index in range(n):
        samples, rate, reference = clips[index % len(clips)]
        pcm = (samples * 32767).astype(np.int16)
        audio = np.concatenate([np.zeros(rate // 2, np.int16), pcm, np.zeros(rate * 2, np.int16)])
        tasks.append(one_caller(url, f"bench-{n}-{index}", audio, rate))
    results = await asyncio.gather(*tasks)
    for result, index in zip(results, range(n), strict=True):
        samples, rate, reference = clips[index % len(clips)]
        result["reference"], result["audio_s"] = reference, len(samples) / rate
    return results


async def main_async(args: argparse.Namespace) -> None:
    rows = [
        r
        for r in read_manifest(SPEECH / "manifest.tsv")
        if ("_8k_" in r[0].name) == (args.rate == 8000)
    ]
    clips = [(*read_wav(path), reference) for path, reference in rows]
    streams = [int(x) for x in args.streams.split(",")]
    recognizer = WhisperRecognizer(cpu_threads=args.cpu_threads, beam_size=args.beam)
    adapter = StreamAdapter(recognizer, webrtc_classifier, decoders=args.decoders)
    listen = Settings().listen  # the node's end-of-speech settings
    service = AsrService(
        adapter,
        ServiceLimits(
            max_streams=max(streams),
            min_speech_ms=listen.min_speech_ms,
            end_silence_ms=listen.end_silence_ms,
            max_utterance_s=listen.max_speech_s,
            max_final_delay_s=0,  # raw latency: no turn shed for a late final
        ),
    )
    server = await start_service(service, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    process = psutil.Process()
    table = Table(
        "streams",
        "finals",
        "latency p50 s",
        "latency p95 s",
        "CPU %core",
        "CPU s per audio s",
        "CER",
        title=f"Whisper base, {args.rate} Hz, beam {args.beam}, {args.decoders} decoder(s) × "
        f"{args.cpu_threads} threads, end of speech after {listen.end_silence_ms} ms, "
        f"{args.rounds} round(s)",
    )
    report = []
    for n in streams:
        latencies, errors, characters, audio_s = [], 0, 0, 0.0
        process.cpu_percent()
        cpu_before = sum(process.cpu_times()[:2])
        started = time.perf_counter()
        for _ in range(args.rounds):
            for result in await round_of(url, n, clips):
                latencies += [f["latency_s"] for f in result["finals"]]
                text = "".join(f["text"] for f in result["finals"])
                audio_s += result["audio_s"]
                ref_len = len(result["reference"])
                errors += round(cer(result["reference"], text) * ref_len)
                characters += ref_len
        cpu = process.cpu_percent() if time.perf_counter() - started > 0 else 0.0
        rtf = (sum(process.cpu_times()[:2]) - cpu_before) / max(audio_s, 1e-9)
        p50 = median(latencies) if latencies else float("nan")
        p95 = float(np.percentile(latencies, 95)) if latencies else float("nan")
        row = {
            "streams": n,
            "finals": len(latencies),
            "latency_p50_s": round(p50, 3),
            "latency_p95_s": round(p95, 3),
            "cpu_pct_of_core": round(cpu, 1),
            "cpu_s_per_audio_s": round(rtf, 3),
            "cer": round(errors / max(characters, 1), 3),
        }
        report.append(row)
        table.add_row(
            str(n),
            str(len(latencies)),
            f"{p50:.2f}",
            f"{p95:.2f}",
            f"{cpu:.0f}",
            f"{rtf:.2f}",
            f"{row['cer']:.3f}",
        )
        console.print(row)
    server.close()
    await server.wait_closed()
    adapter.close()
    console.print(table)
    good = [r["streams"] for r in report if r["latency_p95_s"] < args.goal_s]
    console.print(
        f"largest N with p95 end of speech → final under {args.goal_s:.1f} s: "
        f"{max(good, default=0)}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,2,4,6,8")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=int, choices=(8000, 16000), default=8000)
    parser.add_argument("--decoders", type=int, default=1)
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--goal-s", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/asr.json"))
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
