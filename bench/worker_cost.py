"""What a media worker costs, idle and per call: CPU per thread, USS and RSS.

    .venv/bin/python bench/worker_cost.py --compare               # legacy vs new engine settings
    .venv/bin/python bench/worker_cost.py --compare --calls 4     # and 4 SIPp calls per engine
    .venv/bin/python bench/worker_cost.py node --workers 10       # whole workers in a real node

``engines`` (the default) starts ``--count`` bare SIP engines per profile, each
in its own process with an asyncio loop on its main thread as a worker has, and
measures them for ``--seconds``: idle, then (``--calls``) with SIPp calls placed
straight at each engine, which answers, records both legs, plays a looping
prompt, listens (levels) and taps the caller's audio into the loop, as a worker
does for a recorded call.  The profiles differ only in :class:`EngineConfig`
fields, so one run shows old and new side by side.  ``node`` starts a real node
(``tests/support/nodes.py``) with no calls and measures its worker processes:
the engine plus the worker's asyncio, MQTT client and imports.

CPU is read per thread from ``/proc`` (the engine thread is ``pjsua2``, PJSIP's
RTP thread ``media``, the main thread ``python``), as percent of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICK = os.sysconf("SC_CLK_TCK")
PROFILES: dict[str, dict] = {
    # What the engine did before issue 13: 50 polls a second whatever it had to do,
    # a per-byte copy of every tapped frame, one thread crossing per frame.
    "legacy": {
        "idle_poll_ms": 20,
        "media_thread": True,
        "tap_batch_frames": 1,
        "tap_fast_copy": False,
    },
    "new": {},  # EngineConfig's defaults
    # RTP read on the engine thread (no pjmedia thread waking every 10 ms).
    "shared-ioqueue": {"media_thread": False},
    # The engine thread's poll with calls at 40 ms instead of 20.
    "poll40": {"poll_ms": 40},
    # What each part of a call costs: the same call without it ("_" keys are the
    # child's, not EngineConfig's).
    "no-tap": {"_tap": False},
    "no-recording": {"_record": False},
    "no-prompt": {"_play": False},
}


# ---- one engine, in its own process (``--child``) ---------------------------------
def child(config_json: str, workdir: Path) -> None:
    from ivr.media import engine_events as ev
    from ivr.media.engine import EngineConfig, ListenParams, SipEngine

    prompt = workdir / "prompt.wav"
    with wave.open(str(prompt), "wb") as out:  # 2 s of a quiet tone-free signal
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * 125)

    settings = json.loads(config_json)
    parts = {key: settings.pop(key, True) for key in ("_tap", "_record", "_play")}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        frames = [0]
        media: dict[str, int] = {}

        def count(chunk: bytes) -> None:
            frames[0] += len(chunk) // 320

        def on_event(event: ev.EngineEvent) -> None:
            loop.call_soon_threadsafe(handle, event)

        def handle(event: ev.EngineEvent) -> None:
            if isinstance(event, ev.LegOffered):
                engine.answer(event.leg, 200)
            elif isinstance(event, ev.LegMedia):
                leg_dir = workdir / event.leg
                if parts["_record"]:
                    engine.record(
                        event.leg,
                        {"caller": leg_dir / "caller.wav", "played": leg_dir / "played.wav"},
                    )
                if parts["_play"]:
                    engine.play(event.leg, prompt, f"p-{event.leg}", loop=True)
                params = ListenParams(f"l-{event.leg}", 500, 3600.0, 700, 200, 3600.0)
                engine.listen(event.leg, params)
                if parts["_tap"]:
                    engine.tap(event.leg, lambda chunk: loop.call_soon_threadsafe(count, chunk))
            elif isinstance(event, ev.LegEnded):
                for key, value in event.media.items():
                    media[key] = media.get(key, 0) + value
                shutil.rmtree(workdir / event.leg, ignore_errors=True)

        engine = SipEngine(EngineConfig(**settings), on_event)
        await asyncio.to_thread(engine.start)
        print(json.dumps({"port": engine.port, "engine_tid": engine._thread.native_id}), flush=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await asyncio.to_thread(engine.stop)
        print(json.dumps({"frames": frames[0], "media": media}), flush=True)

    asyncio.run(main())


# ---- measuring ---------------------------------------------------------------------
def thread_ticks(pid: int) -> dict[str, int]:
    """CPU clock ticks used so far by each thread of ``pid``, summed by thread name."""
    ticks: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (task / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")] or "(unnamed)"
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
    return ticks


def measure(pids: list[int], seconds: float) -> dict:
    """Mean CPU (percent of one core) per process and per thread name, and memory."""
    before = {pid: thread_ticks(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    per_thread: dict[str, float] = {}
    total = 0.0
    for pid in pids:
        after = thread_ticks(pid)
        for name, value in after.items():
            used = 100.0 * (value - before[pid].get(name, 0)) / TICK / elapsed
            per_thread[name] = per_thread.get(name, 0.0) + used
            total += used
    memory = [psutil.Process(pid).memory_full_info() for pid in pids]
    count = len(pids)
    return {
        "cpu_pct_per_process": round(total / count, 3),
        "cpu_pct_by_thread": {k: round(v / count, 3) for k, v in sorted(per_thread.items())},
        "uss_mb": round(sum(m.uss for m in memory) / count / 1e6, 1),
        "rss_mb": round(sum(m.rss for m in memory) / count / 1e6, 1),
        "threads": round(sum(psutil.Process(p).num_threads() for p in pids) / count, 1),
    }


def place_calls(port: int, calls: int, hold_s: float, workdir: Path) -> dict:
    from bench.ramp import held_call_scenario
    from ivr.peers.sipp import run_sipp, speech_pcap
    from tests.support.nodes import SPEECH

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "caller.pcap").write_bytes(
        speech_pcap(SPEECH / "aishell1_BAC009S0764W0121.wav", min_seconds=hold_s)
    )
    result = run_sipp(
        held_call_scenario(hold_s, workdir),
        f"127.0.0.1:{port}",
        workdir,
        calls=calls,
        limit=calls,
        rate=10,
        timeout_s=hold_s + 60,
    )
    return {"successful": result.successful, "failed": result.failed}


def run_profile(name: str, args: argparse.Namespace, root: Path) -> dict:
    config = {"pjsip_log_level": 0, **PROFILES[name]}
    children = []
    for index in range(args.count):
        workdir = root / f"{name}-{index}"
        workdir.mkdir(parents=True)
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(config), "--dir", str(workdir)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        children.append((process, json.loads(process.stdout.readline())["port"]))
    pids = [p.pid for p, _ in children]
    row: dict = {"profile": name, "config": config, "engines": args.count}
    try:
        time.sleep(3)  # past start-up (and PJSIP closing the idle sound clock after 1 s)
        row["idle"] = measure(pids, args.seconds)
        if args.calls:
            hold = args.seconds + 8
            results: list[dict] = []
            threads = [
                threading.Thread(
                    target=lambda port=port, i=i: results.append(
                        place_calls(port, args.calls, hold, root / f"{name}-sipp-{i}")
                    )
                )
                for i, (_, port) in enumerate(children)
            ]
            for thread in threads:
                thread.start()
            time.sleep(4)  # every call answered and its media flowing
            row["calls"] = measure(pids, args.seconds)
            for thread in threads:
                thread.join()
            row["sipp"] = {
                "successful": sum(r["successful"] for r in results),
                "failed": sum(r["failed"] for r in results),
            }
            busy = row["calls"]["cpu_pct_per_process"] - row["idle"]["cpu_pct_per_process"]
            row["cpu_pct_per_call"] = round(busy / args.calls, 3)
    finally:
        frames, media = 0, {}
        for process, _ in children:
            process.send_signal(signal.SIGTERM)
        for process, _ in children:
            out, _ = process.communicate(timeout=30)
            for line in out.splitlines():
                with contextlib.suppress(ValueError):
                    frames += json.loads(line).get("frames", 0)
                    for key, value in json.loads(line).get("media", {}).items():
                        media[key] = media.get(key, 0) + value
        row["tapped_frames"] = frames
        row["media"] = media
        received = media.get("rx_packets", 0)
        late = media.get("rx_lost", 0) + media.get("rx_discarded", 0)
        row["lost_or_late_pct"] = round(100.0 * late / received, 3) if received else None
    return row


def run_node(args: argparse.Namespace, root: Path) -> dict:
    from bench.ramp import node_processes
    from tests.support.nodes import start_node

    node = start_node(root / "node", workers=args.workers, grace_s=5)
    try:
        time.sleep(5)
        workers = {n: p for n, p in node_processes(node).items() if n.startswith("worker-")}
        row = {"profile": "node workers", "engines": len(workers)}
        row["idle"] = measure([p.pid for p in workers.values()], args.seconds)
        return row
    finally:
        node.stop()


def print_rows(rows: list[dict]) -> None:
    names = sorted(
        {
            t
            for r in rows
            for key in ("idle", "calls")
            for t in r.get(key, {}).get("cpu_pct_by_thread", {})
        }
    )
    header = [
        "profile",
        "state",
        "CPU %core/process",
        *[f"{n} %" for n in names],
        "USS MB",
        "RSS MB",
        "threads",
        "CPU %core/call",
    ]
    print(" | ".join(header))
    for r in rows:
        for state in ("idle", "calls"):
            if state not in r:
                continue
            m = r[state]
            cells = [r["profile"], state, f"{m['cpu_pct_per_process']:.3f}"]
            cells += [f"{m['cpu_pct_by_thread'].get(n, 0.0):.3f}" for n in names]
            cells += [str(m["uss_mb"]), str(m["rss_mb"]), str(m["threads"])]
            cells.append(str(r.get("cpu_pct_per_call", "")) if state == "calls" else "")
            print(" | ".join(cells))
        if "sipp" in r:
            print(
                f"  {r['profile']}: SIPp calls {r['sipp']}, tapped frames {r['tapped_frames']}, "
                f"RTP lost+late {r['lost_or_late_pct']} %, media {r['media']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="engines", choices=["engines", "node"])
    parser.add_argument("--count", type=int, default=10, help="engines per profile")
    parser.add_argument("--workers", type=int, default=10, help="node mode: media workers")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--calls", type=int, default=0, help="SIPp calls per engine (0-4)")
    parser.add_argument("--profiles", default="new", help=f"comma-separated: {', '.join(PROFILES)}")
    parser.add_argument("--compare", action="store_true", help="the profiles legacy,new")
    parser.add_argument("--out", type=Path, default=Path("bench/results/worker_cost.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir)
        return
    root = Path(tempfile.mkdtemp(prefix="worker-cost-"))
    try:
        if args.mode == "node":
            rows = [run_node(args, root)]
        else:
            names = ["legacy", "new"] if args.compare else args.profiles.split(",")
            rows = []
            for name in names:
                print(f"profile {name}: {args.count} engines ...", flush=True)
                rows.append(run_profile(name, args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = {"machine": {"cores": psutil.cpu_count()}, "seconds": args.seconds, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print_rows(rows)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
