"""Hold a steady arrival rate of recorded calls against one node for minutes, and say
every 10 s what happened to them and what it cost.

    .venv/bin/python bench/soak.py                 # 30 workers, 4/s, 80 at once, 20 s, 600 s
    .venv/bin/python bench/soak.py --rate 8      # twice that arrival rate
    .venv/bin/python bench/soak.py --seconds 60 --workers 8 --rate 2 --limit 16 --hold 10

SIPp (Debian sip-tester) is the caller, as in ``bench/ramp.py``: A-law RTP from a
real Mandarin clip, through Kamailio to a media worker, held ``--hold`` seconds
unless the node ends the call first, a 503 accepted as an answer.  It offers
``--rate`` new calls per second with at most ``--limit`` up at once, for
``--seconds`` (or ``--calls`` calls).  Every ``--interval`` seconds a row: calls
offered, answered, refused (503), failed (any other end), stuck (open longer than
the hold plus ``--stuck-margin``), SIPp's answer time p50/p99, the node's own
admission figures (hub answer latency, calls it shed) when it publishes them,
CPU (% of one core) and memory (USS) per process group, and the machine's CPU.
At the end: totals, whether each group's memory stayed flat (last third against
first third, within 5 %), and probe calls placed once the load stopped until one
is answered: how long the node took to answer again.  Everything also goes to
``bench/results/soak.json``; ``bench/soak_report.py`` says where each figure
comes from.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ramp_summary import call_outcomes, parse_error_log  # noqa: E402
from bench.soak_report import (  # noqa: E402
    CallLife,
    Interval,
    Probe,
    Totals,
    admission_row,
    call_lives,
    intervals,
    mean_of,
    memory_flatness,
    node_outcomes,
    recovery,
    rows_add_up,
    soak_scenario_text,
    totals,
)
from ivr.peers.sipp import SCENARIOS, parse_counts_csv, parse_stat_csv, speech_pcap  # noqa: E402
from tests.support.nodes import SPEECH, Node, start_node  # noqa: E402  (the tests' launcher)

console = Console(width=220)
GROUPS = ("workers", "kamailio", "hub", "asr", "broker", "supervisor", "sipp", "bench")
NODE_GROUPS = GROUPS[:6]
MEMORY_GROUPS = (*NODE_GROUPS, "sipp")
MEMORY_EVERY = 3  # samples (seconds) between memory readings
CLIP = "aishell1_BAC009S0764W0121.wav"


def part_group(name: str) -> str | None:
    if name.startswith("worker-"):
        return "workers"
    return {"kamailio": "kamailio", "hub": "hub", "asr": "asr", "mosquitto": "broker"}.get(name)


class Sampler:
    """CPU (% of one core) and memory (MB, USS where the kernel gives it) per process
    group, the machine's CPU (% of one core, so 200 is two cores busy) and the node's
    ``admission`` status, every ``period_s``.  A part's children (Kamailio's forks,
    any pool a part starts) count in its group; the process tree is read again each
    sample, so restarted parts are followed."""

    def __init__(
        self, node: Node, sipp_pid: Callable[[], int | None], period_s: float = 1.0
    ) -> None:
        self.node = node
        self.sipp_pid = sipp_pid
        self.period_s = period_s
        self.samples: list[dict[str, Any]] = []
        self.memory_kind = "uss"
        self._known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def _tree(self) -> dict[str, list[psutil.Process]]:
        roots: list[tuple[str, int]] = [
            ("supervisor", self.node.process.pid),
            ("bench", os.getpid()),
        ]
        for part in self.node.status().get("parts", []):
            group = part_group(part.get("name", ""))
            if group and part.get("pid"):
                roots.append((group, part["pid"]))
        if pid := self.sipp_pid():
            roots.append(("sipp", pid))
        found: dict[str, list[psutil.Process]] = {g: [] for g in GROUPS}
        for group, pid in roots:
            process = self._process(pid)
            if process is None:
                continue
            found[group].append(process)
            if group not in ("supervisor", "bench"):  # their children are other groups
                with contextlib.suppress(psutil.Error):
                    for child in process.children(recursive=True):
                        if (known := self._process(child.pid)) is not None:
                            found[group].append(known)
        return found

    def _process(self, pid: int) -> psutil.Process | None:
        process = self._known.get(pid)
        if process is None:
            try:
                process = psutil.Process(pid)
                process.cpu_percent()  # the first call only starts the count
            except psutil.Error:
                return None
            self._known[pid] = process
        return process

    def _memory_mb(self, process: psutil.Process) -> float:
        if self.memory_kind == "uss":
            try:
                return process.memory_full_info().uss / 1e6
            except psutil.AccessDenied:
                self.memory_kind = "rss"
        return process.memory_info().rss / 1e6

    def _run(self) -> None:
        psutil.cpu_percent()
        count = 0
        while not self._stop.wait(self.period_s):
            # USS reads every page map: every MEMORY_EVERY-th sample, to keep the bench cheap.
            with_memory = count % MEMORY_EVERY == 0
            count += 1
            cpu = dict.fromkeys(GROUPS, 0.0)
            memory = dict.fromkeys(GROUPS, 0.0)
            for group, processes in self._tree().items():
                for process in processes:
                    try:
                        cpu[group] += process.cpu_percent()
                        if with_memory:
                            memory[group] += self._memory_mb(process)
                    except psutil.Error:
                        self._known.pop(process.pid, None)
            sample = {
                "t": time.time(),
                "cpu": cpu,
                "machine_cpu": psutil.cpu_percent() * (psutil.cpu_count() or 1),
                "admission": self.node.status().get("admission"),
            }
            if with_memory:
                sample["memory_mb"] = memory
            self.samples.append(sample)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def admission_before(self, moment: float) -> dict[str, Any] | None:
        """The node's last ``admission`` status sampled before ``moment``."""
        earlier = [s["admission"] for s in self.samples if s["t"] < moment and s["admission"]]
        return earlier[-1] if earlier else None


@dataclass
class SippRun:
    """One SIPp caller run in the background, its logs in ``workdir``."""

    process: subprocess.Popen
    workdir: Path
    scenario: Path
    started: float
    signalled: bool = False

    def files(self, kind: str) -> str:
        """The text of its ``logs`` (``<scenario>_<pid>_logs.log``-style, named here),
        ``errors``, ``stats`` or ``counts`` file, ``""`` if not (yet) written."""
        if kind == "counts":
            found = sorted(self.workdir.glob(f"{self.scenario.stem}_*_counts.csv"))
            path = found[-1] if found else None
        else:
            path = self.workdir / f"{kind}.log" if kind != "stats" else self.workdir / "stats.csv"
        return path.read_text(errors="replace") if path and path.exists() else ""

    def lives(self) -> dict[str, CallLife]:
        return call_lives(self.files("logs"), parse_error_log(self.files("errors")))


def free_udp_port() -> int:
    """An even port with the three above it free (SIPp's audio and video RTP/RTCP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1]) & ~1
        ok = True
        for offset in range(4):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind(("127.0.0.1", base + offset))
                except OSError:
                    ok = False
                    break
        if ok and base + 3 < 65536:
            return base
    raise OSError("no four consecutive free UDP ports for SIPp's media")


def start_sipp(
    node: Node,
    workdir: Path,
    *,
    hold_s: float,
    calls: int,
    rate: float,
    limit: int,
    give_up_s: float,
    clip: str = CLIP,
) -> SippRun:
    """SIPp offering ``calls`` calls at ``rate``/s, ``limit`` at once, with the soak's
    logging scenario; a call with no answer is given up after ``give_up_s``."""
    binary = shutil.which("sipp")
    if binary is None:
        raise FileNotFoundError("SIPp is not installed: apt-get install sip-tester")
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / f"soak_caller_{int(hold_s * 1000)}ms.xml"
    text = (SCENARIOS / "caller_talks_either_hangs_up.xml").read_text()
    scenario.write_text(soak_scenario_text(text, hold_s))
    (workdir / "caller.pcap").write_bytes(speech_pcap(SPEECH / clip, 0.0, min_seconds=hold_s))
    total_s = calls / rate + hold_s + give_up_s + 60
    argv = [
        binary,
        node.target,
        "-sf",
        str(scenario),
        "-s",
        "12345",
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_udp_port()),
        "-m",
        str(calls),
        "-l",
        str(limit),
        "-r",
        str(rate),
        "-t",
        "u1",
        "-timeout",
        f"{int(total_s)}s",
        "-recv_timeout",
        str(int(give_up_s * 1000)),
        "-max_socket",
        "1024",
        "-nostdin",
        "-trace_stat",
        "-trace_counts",
        "-fd",
        "1",
        "-stf",
        str(workdir / "stats.csv"),
        "-trace_logs",
        "-log_file",
        str(workdir / "logs.log"),
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
    ]
    with (workdir / "sipp.out").open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return SippRun(process, workdir, scenario, time.time())


def probe_after_load(
    node: Node, directory: Path, load_stopped: float, limit_s: float
) -> list[Probe]:
    """Probe calls, one at a time, a second apart, until one is answered or ``limit_s``
    has passed since the load stopped."""
    probes: list[Probe] = []
    while True:
        run = start_sipp(
            node,
            directory / f"probe-{len(probes) + 1}",
            hold_s=2.0,
            calls=1,
            rate=100,  # at 1/s SIPp would wait a second before the call
            limit=1,
            give_up_s=10.0,
        )
        try:
            run.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.process.wait()
        life = next(iter(run.lives().values()), None)
        if life is None:
            probes.append(Probe(run.started, "not placed"))
        else:
            probes.append(Probe(life.start, life.outcome(), life.answered))
        if probes[-1].answered is not None or time.time() - load_stopped > limit_s:
            return probes
        time.sleep(1.0)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def interval_record(
    row: Interval, start: float, sampler: Sampler, previous_admission: dict | None
) -> dict[str, Any]:
    """An interval's calls with the CPU, memory and node figures sampled within it."""
    admission = sampler.admission_before(row.end)
    return {
        "t_s": round(row.end - start, 1),
        **{k: v for k, v in asdict(row).items() if k not in ("start", "end")},
        "cpu_pct_of_core": {
            g: round(v, 1) for g, v in mean_of(sampler.samples, "cpu", row.start, row.end).items()
        },
        "memory_mb": {
            g: round(v, 1)
            for g, v in mean_of(sampler.samples, "memory_mb", row.start, row.end).items()
        },
        "machine_cpu_pct_of_core": _machine(sampler, row.start, row.end),
        "node": admission_row(previous_admission, admission),
    }


def _machine(sampler: Sampler, start: float, end: float) -> float | None:
    values = [s["machine_cpu"] for s in sampler.samples if start <= s["t"] < end]
    return round(sum(values) / len(values), 1) if values else None


def progress_line(record: dict[str, Any]) -> str:
    cpu, node = record["cpu_pct_of_core"], record["node"]
    shed = (
        f" node {node.get('state')} shed {node.get('refused')} hub {_latency(node)}" if node else ""
    )
    return (
        f"[{record['t_s']:6.1f}s] offered {record['offered']} answered {record['answered']} "
        f"503 {record['refused']} failed {record['failed']} stuck {record['stuck']} "
        f"open {record['open']} answer p50/p99 {_ms(record['answer_p50_s'])}/"
        f"{_ms(record['answer_p99_s'])} ms{shed} cpu workers {cpu.get('workers', 0):.0f} "
        f"machine {_cell(record['machine_cpu_pct_of_core'])}"
    )


def run_soak(
    node: Node,
    *,
    workers: int,
    rate: float,
    limit: int,
    hold_s: float,
    seconds: float | None = 600.0,
    calls: int | None = None,
    interval_s: float = 10.0,
    stuck_margin_s: float = 10.0,
    recovery_limit_s: float = 60.0,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the soak against a started node and return the report (``soak.json``)."""
    if calls is None:
        calls = math.ceil(rate * (seconds or 0))
    if calls <= 0:
        raise ValueError("a soak needs --seconds or --calls")
    overdue_s = hold_s + stuck_margin_s
    directory = node.root / f"soak-{int(time.time())}"
    run: SippRun | None = None

    def sipp_pid() -> int | None:
        return run.process.pid if run is not None and run.process.poll() is None else None

    with Sampler(node, sipp_pid) as sampler:
        time.sleep(2)  # a baseline sample before the first call
        run = start_sipp(
            node,
            directory / "load",
            hold_s=hold_s,
            calls=calls,
            rate=rate,
            limit=limit,
            give_up_s=overdue_s + 20,
        )
        start = run.started
        deadline = start + seconds if seconds else None
        shown = 0
        while run.process.poll() is None:
            now = time.time()
            if deadline and now >= deadline and not run.signalled:
                # Stop placing calls; SIPp exits once the calls it has up are over.
                run.process.send_signal(signal.SIGUSR1)
                run.signalled = True
            if deadline and now > deadline + overdue_s + 60:
                run.process.kill()  # SIPp's own timeouts failed to end it
            # SIPp flushes its logs about once a second: a row is shown 2 s after it ends.
            complete = int((now - 2.0 - start) // interval_s)
            if progress and complete > shown:
                rows = intervals(
                    run.lives(), start, start + complete * interval_s, interval_s, overdue_s
                )
                for row in rows[shown:]:
                    console.print(progress_line(interval_record(row, start, sampler, None)))
                shown = complete
            time.sleep(0.5)
        load_stopped = time.time()
        if progress:
            console.print(f"load stopped (SIPp exit {run.process.returncode}); probing ...")
        probes = probe_after_load(node, directory, load_stopped, recovery_limit_s)
        time.sleep(1.5)  # a last sample after the probes
    lives = run.lives()
    # Every row from the final logs: the shown progress could miss a not yet flushed line.
    end = max([load_stopped, *[t for c in lives.values() for t in _times(c)]]) + 1e-3
    rows = intervals(lives, start, end, interval_s, overdue_s)
    records, previous = [], sampler.admission_before(start)
    for row in rows:
        records.append(interval_record(row, start, sampler, previous))
        previous = sampler.admission_before(row.end) or previous
    return build_report(
        sampler,
        run,
        records,
        rows,
        totals(lives, end, overdue_s),
        probes,
        load_stopped,
        start,
        workers=workers,
        rate=rate,
        limit=limit,
        hold_s=hold_s,
        seconds=seconds,
        calls=calls,
        interval_s=interval_s,
        stuck_margin_s=stuck_margin_s,
    )


def _times(call: CallLife) -> list[float]:
    return [t for t in (call.start, call.answered, call.refused, call.ended, call.failed) if t]


def build_report(
    sampler: Sampler,
    run: SippRun,
    records: list[dict[str, Any]],
    rows: list[Interval],
    total: Totals,
    probes: list[Probe],
    load_stopped: float,
    start: float,
    **settings: Any,
) -> dict[str, Any]:
    stats = parse_stat_csv(run.files("stats"))
    counts = parse_counts_csv(run.files("counts"))
    sipp_counts = None
    if stats and counts:
        outcomes = call_outcomes(stats[-1], counts)
        sipp_counts = {
            "offered": outcomes.placed,
            "answered": outcomes.answered,
            "refused_503": outcomes.refused,
            "failed": outcomes.failed,
            "unfinished": outcomes.unfinished,
        }
    load = [s for s in sampler.samples if start <= s["t"] <= load_stopped]
    admission = sampler.samples[-1]["admission"] if sampler.samples else None
    return {
        "machine": {
            "cores": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "settings": settings,
        "memory_kind": sampler.memory_kind,
        "intervals": records,
        "totals": asdict(total),
        "accounted": total.accounted(),
        "rows_add_up": rows_add_up(rows, total),
        "sipp_counters": sipp_counts,
        "sipp_counters_agree": sipp_counts is not None
        and sipp_counts["offered"] == total.offered
        and sipp_counts["answered"] == total.answered
        and sipp_counts["refused_503"] == total.refused
        and sipp_counts["failed"] == total.failed,
        "sipp_exit": run.process.returncode,
        "load_s": round(load_stopped - start, 1),
        "cpu_pct_of_core_mean": {
            g: round(v, 1) for g, v in mean_of(load, "cpu", start, load_stopped + 1).items()
        },
        "machine_cpu_pct_of_core_mean": _machine(sampler, start, load_stopped),
        "memory": memory_flatness(load, start, load_stopped),
        "memory_flat": all(
            m["flat"]
            for g, m in memory_flatness(load, start, load_stopped).items()
            if g in NODE_GROUPS
        ),
        "node_admission_at_end": admission,
        "recovery": recovery(load_stopped, probes),
        "probes": [asdict(p) for p in probes],
    }


def _latency(node: dict[str, Any]) -> str:
    """The node's hub answer latency percentiles, ``p90 52`` (ms); ``-`` if none."""
    shown = [f"{k} {_ms(v)}" for k, v in (node.get("hub_latency_s") or {}).items()]
    return " ".join(shown) or "-"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _reasons(count: int, reasons: dict[str, int]) -> str:
    detail = ", ".join(f"{reason}×{n}" for reason, n in reasons.items())
    return f"{count} ({detail})" if detail else str(count)


def print_report(report: dict[str, Any]) -> None:
    s = report["settings"]
    calls = Table(
        "t s",
        "offered",
        "answered",
        "503",
        "failed",
        "stuck",
        "open",
        "answer p50/p99 ms (SIPp)",
        "node state",
        "node shed",
        "admitted %",
        "hub answer ms (node)",
        title=(
            f"soak: {s['workers']} workers, {s['rate']} calls/s offered, {s['limit']} at once, "
            f"{s['hold_s']:.0f} s calls; stuck = open > {s['hold_s'] + s['stuck_margin_s']:.0f} s"
        ),
    )
    for r in report["intervals"]:
        node = r["node"]
        calls.add_row(
            f"{r['t_s']:.0f}",
            str(r["offered"]),
            str(r["answered"]),
            str(r["refused"]),
            _reasons(r["failed"], r["failed_by_reason"]),
            str(r["stuck"]),
            str(r["open"]),
            f"{_ms(r['answer_p50_s'])}/{_ms(r['answer_p99_s'])}",
            _cell(node.get("state")),
            _cell(node.get("refused")),
            _cell(node.get("admit_pct")),
            _latency(node),
        )
    t = report["totals"]
    calls.add_section()
    calls.add_row(
        "all",
        str(t["offered"]),
        str(t["answered"]),
        str(t["refused"]),
        _reasons(t["failed"], t["failed_by_reason"]),
        str(t["stuck"]),
        str(t["open"]),
        f"{_ms(t['answer_p50_s'])}/{_ms(t['answer_p99_s'])}",
        "",
        _cell((report["node_admission_at_end"] or {}).get("refused_total")),
        "",
        "",
    )
    console.print(calls)
    cores = report["machine"]["cores"] or 1
    cost = Table(
        "t s",
        *[f"CPU {g}" for g in GROUPS],
        f"CPU machine (of {100 * cores})",
        *[f"MB {g}" for g in MEMORY_GROUPS],
        title=f"cost: CPU in % of one core, memory {report['memory_kind'].upper()} in MB",
    )
    for r in report["intervals"]:
        cost.add_row(
            f"{r['t_s']:.0f}",
            *[f"{r['cpu_pct_of_core'].get(g, 0):.0f}" for g in GROUPS],
            _cell(r["machine_cpu_pct_of_core"]),
            *[f"{r['memory_mb'].get(g, 0):.0f}" for g in MEMORY_GROUPS],
        )
    cost.add_section()
    cost.add_row(
        "mean",
        *[f"{report['cpu_pct_of_core_mean'].get(g, 0):.0f}" for g in GROUPS],
        _cell(report["machine_cpu_pct_of_core_mean"]),
    )
    console.print(cost)
    memory = Table(
        "group",
        "first third MB",
        "last third MB",
        "change %",
        "flat (±5 % or ±2 MB)",
        title="memory over the load",
    )
    for group, m in report["memory"].items():
        memory.add_row(
            group,
            str(m["first_third_mb"]),
            str(m["last_third_mb"]),
            str(m["change_pct"]),
            "yes" if m["flat"] else "NO",
        )
    console.print(memory)
    console.print(headline(report))


def headline(report: dict[str, Any]) -> str:
    t, r = report["totals"], report["recovery"]
    grew = [g for g in NODE_GROUPS if not report["memory"].get(g, {}).get("flat", True)]
    probe = (
        f"first probe {r['first_probe']}, answered again {r['recovered_in_s']} s after the load"
        if r["answered"]
        else f"no probe answered in {r['probes']} tries"
    )
    return (
        f"{t['offered']} offered: {t['completed']} answered and completed, {t['refused']} "
        f"refused (503), {t['failed']} failed, {t['stuck']} stuck, {t['open']} still open; "
        f"rows add up: {'yes' if report['rows_add_up'] else 'NO'}; SIPp's counters agree: "
        f"{'yes' if report['sipp_counters_agree'] else 'NO'}; node memory flat: "
        f"{'yes' if not grew else 'NO (' + ', '.join(grew) + ')'}; {probe}"
        + _outcomes_line(report.get("node_outcomes"))
    )


def _outcomes_line(outcomes: dict[str, Any] | None) -> str:
    if not outcomes:
        return ""
    offered = ", ".join(f"{why} {n}" for why, n in outcomes["human_offered"].items())
    return (
        f"; the node understood {outcomes['understood']} of {outcomes['calls']} callers, "
        f"drafted {outcomes['tickets']} tickets"
        + (f", offered a human for the rest ({offered})" if offered else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=30)
    parser.add_argument("--rate", type=float, default=4.0, help="new calls per second")
    parser.add_argument("--limit", type=int, default=80, help="calls up at once, at most")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds each call lasts")
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to offer calls")
    parser.add_argument("--calls", type=int, default=None, help="offer this many calls instead")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds per row")
    parser.add_argument("--stuck-margin", type=float, default=10.0, help="s beyond the hold")
    parser.add_argument("--recovery-limit", type=float, default=60.0)
    parser.add_argument(
        "--no-input", type=float, default=120.0, help="the node's listen.no_input_s"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/soak.json"))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hotline-bench"))
    args = parser.parse_args()
    console.print(f"starting a node with {args.workers} media workers ...")
    node = start_node(
        args.dir / f"soak-node-{int(time.time())}",
        workers=args.workers,
        grace_s=5,
        no_input_s=args.no_input,
    )
    try:
        report = run_soak(
            node,
            workers=args.workers,
            rate=args.rate,
            limit=args.limit,
            hold_s=args.hold,
            seconds=None if args.calls else args.seconds,
            calls=args.calls,
            interval_s=args.interval,
            stuck_margin_s=args.stuck_margin,
            recovery_limit_s=args.recovery_limit,
        )
    finally:
        node.stop()
    hub_log = node.data_dir / "logs" / "hub.log"
    lines = hub_log.read_text(errors="replace").splitlines() if hub_log.exists() else []
    report["node_outcomes"] = node_outcomes(lines)
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
