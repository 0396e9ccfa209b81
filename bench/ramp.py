"""Ramp concurrent recorded calls against one node and print what it sustained.

    .venv/bin/python bench/ramp.py                      # default ramp 50..200, setups 25..75/s
    .venv/bin/python bench/ramp.py --steps 100,200 --hold 30 --setup-rates 50

SIPp (Debian sip-tester) is the caller: A-law RTP through Kamailio, each call
answered by a media worker, greeted (a prompt is playing), recorded on both legs,
its audio tapped for voice activity, and hung up by the caller after ``--hold``
seconds. By default the caller stays silent, so every call is held for the whole
hold (the media capacity, without speech recognition); ``--caller speaks`` says a
Mandarin clip at once, and the node may then end the call itself. For each
concurrency step it prints calls offered, answered, refused (503) and failed (with
the SIP reason), the peak concurrency SIPp saw, CPU and memory per call and per
worker while that peak held, RTP loss/late frames, the recordings finalised, and
what (if anything) kept the step from being clean; then the call setups per second
answered with zero failures. Figures also go to ``bench/results/ramp.json``, whose
``highest_clean_concurrency`` is the number the last line prints;
``bench/ramp_summary.py`` says where each figure comes from.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import threading
import time
from pathlib import Path
from statistics import mean

import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ramp_summary import (  # noqa: E402
    CallOutcomes,
    call_outcomes,
    failure_reasons,
    headline,
    held_call_text,
    offering_seconds,
    parse_error_log,
    peak_concurrency,
    per_second,
    plateau,
    recording_tally,
    recordings_settled,
    step_problems,
    summarise,
)
from ivr.peers.sipp import SCENARIOS, SippResult  # noqa: E402
from tests.support.nodes import Node, start_node  # noqa: E402  (the same node launcher as the tests)

console = Console(width=150)


def node_processes(node: Node) -> dict[str, psutil.Process]:
    found = {}
    for part in node.status().get("parts", []):
        if part.get("pid"):
            with contextlib.suppress(psutil.NoSuchProcess):
                found[part["name"]] = psutil.Process(part["pid"])
    found["supervisor"] = psutil.Process(node.process.pid)
    return found


class Sampler:
    """CPU (percent of one core) and memory of the node's processes, sampled each second.

    A sample's ``t`` is wall-clock time (SIPp's statistics rows carry the same clock)
    at the end of the second its CPU figures cover."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self.processes = processes
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for process in self.processes.values():
            process.cpu_percent()
        while not self._stop.wait(1.0):
            cpu = {"node": 0.0, "workers": 0.0}
            rss = {"workers": 0.0, "node": 0.0}
            for name, process in self.processes.items():
                try:
                    used = process.cpu_percent()
                    memory = process.memory_full_info().uss
                except psutil.NoSuchProcess:
                    continue
                cpu["node"] += used
                rss["node"] += memory
                if name.startswith("worker-"):
                    cpu["workers"] += used
                    rss["workers"] += memory
            self.samples.append(
                {
                    "t": time.time(),
                    "cpu_node": cpu["node"],
                    "cpu_workers": cpu["workers"],
                    "uss_node": rss["node"],
                    "uss_workers": rss["workers"],
                    "machine_cpu": psutil.cpu_percent() * psutil.cpu_count(),
                }
            )

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, start: float, end: float) -> dict[str, float] | None:
        """Mean of the samples whose second lies within ``start``..``end``; ``None``
        if none does (never another stretch's figures in their place)."""
        chosen = [s for s in self.samples if start + 1.0 <= s["t"] <= end]
        if not chosen:
            return None
        return {key: mean(s[key] for s in chosen) for key in chosen[0] if key != "t"}


def media_figures(node: Node, call_ids: set[str]) -> dict[str, float]:
    manifests = [m for m in node.manifests() if m["call_id"] in call_ids]
    stats = [m.get("media", {}) for m in manifests if m.get("media")]
    received = sum(s.get("rx_packets", 0) for s in stats)
    return {
        "calls_with_stats": len(stats),
        "rx_packets": received,
        "rx_lost": sum(s.get("rx_lost", 0) for s in stats),
        "rx_late_discarded": sum(s.get("rx_discarded", 0) for s in stats),
        "lost_or_late_pct": 100.0
        * sum(s.get("rx_lost", 0) + s.get("rx_discarded", 0) for s in stats)
        / max(received, 1),
        # Frames the jitter buffer dropped to keep latency low (not lost in transit).
        "jitter_buffer_discarded": sum(s.get("jitter_buffer_discarded", 0) for s in stats),
    }


def last_sipp_errors(node: Node, scenario: str) -> str:
    """The ``-trace_err`` log of the node's latest SIPp run (``Node.sipp`` numbers its
    work folders ``sipp-<run>-<scenario>``)."""
    errors = node.root / f"sipp-{node.sipp_runs}-{Path(scenario).stem}" / "errors.log"
    return errors.read_text(errors="replace") if errors.exists() else ""


def outcome_figures(result: SippResult, errors: str) -> tuple[CallOutcomes, dict]:
    outcomes = call_outcomes(result.stats, result.counts)
    reasons = failure_reasons(parse_error_log(errors), outcomes.failed, outcomes.unfinished)
    return outcomes, {
        "offered": outcomes.placed,
        "answered": outcomes.answered,
        "refused_503": outcomes.refused,
        "failed": outcomes.failed,
        "unfinished": outcomes.unfinished,
        "failed_by_reason": reasons,
    }


def wait_for_recordings(node: Node, before: set[str], answered: int) -> list[dict]:
    """The step's manifests once every answered call's recording is finalised, or
    as they are when the deadline passes (the tally then says what was unfinished)."""
    deadline = time.monotonic() + 60 + 0.5 * answered
    while True:
        new = [m for m in node.manifests() if m["call_id"] not in before]
        if recordings_settled(new, answered) or time.monotonic() > deadline:
            return new
        time.sleep(0.5)


def held_call_scenario(hold_s: float, directory: Path) -> str:
    """``caller_talks_either_hangs_up.xml`` with the call length written into its hold:
    the caller hangs up after ``hold_s`` unless the node ends the call first (then its
    BYE is answered and the call is a success, not SIPp's "unexpected BYE")."""
    held = held_call_text((SCENARIOS / "caller_talks_either_hangs_up.xml").read_text(), hold_s)
    path = directory / f"caller_holds_{int(hold_s * 1000)}ms.xml"
    path.write_text(held)
    return str(path)


def concurrency_step(
    node: Node,
    calls: int,
    hold_s: float,
    rate: float,
    idle: dict[str, float],
    sampler: Sampler,
    workers: int,
    speaks: bool = False,
) -> dict:
    before = {m["call_id"] for m in node.manifests()}
    ramp_s = calls / rate
    scenario = held_call_scenario(hold_s, node.root)
    result = node.sipp(
        scenario,
        calls=calls,
        limit=calls,
        rate=rate,
        timeout_s=hold_s + ramp_s + 120,
        # A silent caller is held in the greeting and listening steps for the whole
        # hold (media, recording and VAD, no speech recognition); one who speaks
        # the clip at once is understood (or offered a human) and the node may end
        # the call before the hold.
        lead_silence_s=0.0 if speaks else hold_s + 5,
        talk_s=hold_s,
    )
    outcomes, figures = outcome_figures(result, last_sipp_errors(node, scenario))
    peak = peak_concurrency(result.rows)
    # The plateau: the stretch SIPp's own rows show the peak held.
    span = plateau(result.rows, peak)
    held = sampler.window(*span) if span else None
    manifests = wait_for_recordings(node, before, outcomes.answered)
    tally = recording_tally(manifests, outcomes.answered)
    media = media_figures(node, {m["call_id"] for m in manifests})
    problems = step_problems(
        outcomes, calls, figures["failed_by_reason"], media["lost_or_late_pct"], tally
    )
    row = {
        "concurrent_calls": calls,
        "peak_concurrent": peak,
        "plateau_s": round(span[1] - span[0], 1) if span else 0.0,
        **figures,
        "sipp_successful": result.successful,
        "clean": not problems,
        "problems": problems,
    }
    if held is None:
        # Too short a hold for the ramp: no sampled second lay within the plateau.
        row |= dict.fromkeys(
            (
                "node_cpu_pct_of_core",
                "machine_cpu_pct_of_core",
                "cpu_pct_of_core_per_call",
                "node_uss_mb",
                "uss_mb_per_call",
                "uss_mb_per_worker",
            )
        )
    else:
        busy = max(held["cpu_node"] - idle["cpu_node"], 0.0)
        row |= {
            "node_cpu_pct_of_core": round(held["cpu_node"], 1),
            "machine_cpu_pct_of_core": round(held["machine_cpu"], 1),
            "cpu_pct_of_core_per_call": round(busy / peak, 3),
            "node_uss_mb": round(held["uss_node"] / 1e6, 1),
            "uss_mb_per_call": round(max(held["uss_node"] - idle["uss_node"], 0) / 1e6 / peak, 3),
            "uss_mb_per_worker": round(held["uss_workers"] / 1e6 / workers, 1),
        }
    return {
        **row,
        **media,
        "recordings_complete": tally.complete,
        "recordings_incomplete": tally.incomplete,
        "recordings_unfinished": tally.unfinished,
        "recordings_missing": tally.missing,
    }


def setup_rate_step(node: Node, rate: float, seconds: float) -> dict:
    calls = int(rate * seconds)
    scenario = held_call_scenario(1.0, node.root)
    result = node.sipp(
        scenario,
        calls=calls,
        limit=calls,
        rate=rate,
        timeout_s=seconds + 120,
        lead_silence_s=0.0,
    )
    outcomes, figures = outcome_figures(result, last_sipp_errors(node, scenario))
    # Over the seconds SIPp took to send the INVITEs, not calls / rate.
    offering = offering_seconds(result.rows, outcomes.placed)
    problems = step_problems(outcomes, calls, figures["failed_by_reason"], None, None)
    return {
        "offered_setups_per_s": rate,
        "calls": calls,
        **figures,
        "sipp_successful": result.successful,
        "clean": not problems,
        "problems": problems,
        "offering_s": round(offering, 2) if offering else None,
        "placed_setups_per_s": per_second(outcomes.placed, offering),
        "answered_setups_per_s": per_second(outcomes.answered, offering),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", default="50,100,150,200", help="concurrent calls per step (comma-separated)"
    )
    parser.add_argument("--hold", type=float, default=20.0, help="seconds each call lasts")
    parser.add_argument("--rate", type=float, default=50.0, help="new calls per second in steps")
    parser.add_argument("--setup-rates", default="25,50,75", help="call setups per second")
    parser.add_argument("--setup-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=0, help="0: enough for the top step")
    parser.add_argument(
        "--caller",
        choices=("silent", "speaks"),
        default="silent",
        help="silent: held for the whole call (media capacity); speaks: says the clip at once",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/ramp.json"))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hotline-bench"))
    args = parser.parse_args()
    steps = [int(x) for x in args.steps.split(",") if x]
    rates = [float(x) for x in args.setup_rates.split(",") if x]
    workers = args.workers or math.ceil(max(steps + [int(max(rates, default=0) * 2)]) / 4) + 1

    console.print(f"starting a node with {workers} media workers ...")
    node = start_node(
        args.dir / f"node-{int(time.time())}", workers=workers, grace_s=5, no_input_s=120
    )
    report: dict = {
        "machine": {
            "cores": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "workers": workers,
        "hold_s": args.hold,
        "caller": args.caller,
        "steps": [],
        "setup_rates": [],
    }
    try:
        processes = node_processes(node)
        with Sampler(processes) as sampler:
            time.sleep(5)
            idle = sampler.window(time.time() - 5, time.time())
            assert idle is not None, "the sampler took no sample in 5 s"
            report["idle"] = {
                "node_cpu_pct_of_core": round(idle["cpu_node"], 1),
                "cpu_pct_of_core_per_idle_worker": round(idle["cpu_workers"] / workers, 3),
                "uss_mb_per_worker": round(idle["uss_workers"] / 1e6 / workers, 1),
                "node_uss_mb": round(idle["uss_node"] / 1e6, 1),
            }
            console.print(f"idle: {report['idle']}")
            for calls in steps:
                console.print(f"step: {calls} concurrent calls for {args.hold:.0f}s ...")
                row = concurrency_step(
                    node, calls, args.hold, args.rate, idle, sampler, workers,
                    speaks=args.caller == "speaks",
                )  # fmt: skip
                report["steps"].append(row)
                console.print(row)
                time.sleep(3)
            for rate in rates:
                console.print(f"setup rate: {rate:.0f} calls/s for {args.setup_seconds:.0f}s ...")
                row = setup_rate_step(node, rate, args.setup_seconds)
                report["setup_rates"].append(row)
                console.print(row)
                time.sleep(3)
    finally:
        node.stop()
    report |= summarise(report["steps"], report["setup_rates"])
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    console.print(f"written to {args.out}")


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _verdict(row: dict) -> str:
    return "clean" if row["clean"] else "; ".join(row["problems"])


def print_report(report: dict) -> None:
    table = Table(
        "calls",
        "peak",
        "offered",
        "answered",
        "503",
        "failed",
        "node CPU %core",
        "CPU %core/call",
        "USS MB/call",
        "USS MB/worker",
        "RTP lost+late %",
        "recordings complete",
        "clean? (else where it failed)",
        title=f"concurrency ({report['workers']} workers, {report['hold_s']:.0f}s calls)",
    )
    for s in report["steps"]:
        recordings = str(s["recordings_complete"])
        problems = [
            f"{s[key]} {word}"
            for key, word in (
                ("recordings_incomplete", "incomplete"),
                ("recordings_unfinished", "unfinished"),
                ("recordings_missing", "missing"),
            )
            if s[key]
        ]
        table.add_row(
            str(s["concurrent_calls"]),
            str(s["peak_concurrent"]),
            str(s["offered"]),
            str(s["answered"]),
            str(s["refused_503"]),
            str(s["failed"] + s["unfinished"]),
            _cell(s["node_cpu_pct_of_core"]),
            _cell(s["cpu_pct_of_core_per_call"]),
            _cell(s["uss_mb_per_call"]),
            _cell(s["uss_mb_per_worker"]),
            f"{s['lost_or_late_pct']:.3f}",
            f"{recordings} ({', '.join(problems)})" if problems else recordings,
            _verdict(s),
        )
    console.print(table)
    rates = Table(
        "offered/s",
        "calls",
        "answered",
        "503",
        "failed",
        "placed/s",
        "answered/s",
        "clean? (else where it failed)",
        title="call setups per second (measured over the seconds SIPp took to place them)",
    )
    for r in report["setup_rates"]:
        rates.add_row(
            str(r["offered_setups_per_s"]),
            str(r["calls"]),
            str(r["answered"]),
            str(r["refused_503"]),
            str(r["failed"] + r["unfinished"]),
            _cell(r["placed_setups_per_s"]),
            _cell(r["answered_setups_per_s"]),
            _verdict(r),
        )
    console.print(rates)
    console.print(f"idle: {report['idle']}")
    console.print(headline(report))


if __name__ == "__main__":
    main()
