"""SIPp (Debian ``sip-tester``) as a real SIP/RTP peer for tests and benchmarks.

Pure wire-format builders (G.711 A-law, RTP, RFC 4733 events, pcap files) and
a runner that starts SIPp with a scenario from ``tests/sipp/`` and collects
its statistics.  Only loopback or addresses the caller chooses are used.
"""

from __future__ import annotations

import csv
import shutil
import socket
import struct
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "sipp"
PCMA = 8
TELEPHONE_EVENT = 101
FRAME_SAMPLES = 160  # 20 ms at 8 kHz


def alaw_encode(samples: np.ndarray) -> bytes:
    """ITU-T G.711 A-law encoding of 16-bit linear PCM."""
    pcm = samples.astype(np.int32) >> 3  # 13-bit magnitude domain
    sign = np.where(pcm >= 0, 0x80, 0x00)
    magnitude = np.minimum(np.where(pcm >= 0, pcm, -pcm - 1), 0xFFF)
    exponent = np.zeros_like(magnitude)
    for step in range(1, 8):
        exponent = np.where(magnitude >= (0x20 << (step - 1)), step, exponent)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    code = (sign | (exponent << 4) | mantissa) ^ 0x55
    return code.astype(np.uint8).tobytes()


def alaw_decode(data: bytes) -> np.ndarray:
    code = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


def read_wav_8k(path: Path) -> np.ndarray:
    """Mono 16-bit samples at 8 kHz (resampled if needed)."""
    with wave.open(str(path)) as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        rate, channels = source.getframerate(), source.getnchannels()
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0]
    if rate != 8000:
        samples = np.clip(soxr.resample(samples.astype(np.float32), rate, 8000), -32768, 32767)
    return samples.astype(np.int16)


def rtp_packet(
    payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
) -> bytes:
    first, second = 0x80, (0x80 if marker else 0) | payload_type
    header = struct.pack("!BBHII", first, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    return header + payload


def dtmf_event_packets(
    digit: str, seq: int, timestamp: int, ssrc: int, frames: int = 8
) -> list[bytes]:
    """RFC 4733 packets for one key press: ``frames`` updates then three end packets."""
    events = "0123456789*#ABCD"
    if len(digit) != 1 or digit not in events:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    code, packets = events.index(digit), []
    for index in range(frames + 3):
        end = index >= frames
        duration = FRAME_SAMPLES * min(index + 1, frames)
        payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, duration)
        packets.append(
            rtp_packet(TELEPHONE_EVENT, seq + index, timestamp, ssrc, payload, marker=index == 0)
        )
    return packets


def pcap_file(packets: list[bytes], interval_s: float = 0.02) -> bytes:
    """A pcap (Ethernet/IPv4/UDP) holding RTP packets ``interval_s`` apart, as SIPp plays them."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for index, rtp in enumerate(packets):
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = (
            struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(udp),
                index & 0xFFFF,
                0,
                64,
                17,
                0,
                bytes([127, 0, 0, 1]),
                bytes([127, 0, 0, 1]),
            )
            + udp
        )
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        moment = index * interval_s
        seconds, micros = int(moment), int(round((moment % 1) * 1e6))
        out.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
    return b"".join(out)


def speech_pcap(
    wav: Path, lead_silence_s: float = 0.0, ssrc: int = 0x1234, min_seconds: float = 0.0
) -> bytes:
    """A-law RTP for ``wav`` (after ``lead_silence_s`` of silence), 20 ms per packet,
    followed by silent packets until at least ``min_seconds`` are covered (a caller
    who keeps the line open)."""
    clip = read_wav_8k(wav)
    lead = np.zeros(int(lead_silence_s * 8000), np.int16)
    tail = np.zeros(max(0, int(min_seconds * 8000) - len(lead) - len(clip)), np.int16)
    samples = np.concatenate([lead, clip, tail])
    samples = np.pad(samples, (0, -len(samples) % FRAME_SAMPLES))
    payload = alaw_encode(samples)
    packets = [
        rtp_packet(
            PCMA,
            index,
            index * FRAME_SAMPLES,
            ssrc,
            payload[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES],
            marker=index == 0,
        )
        for index in range(len(samples) // FRAME_SAMPLES)
    ]
    return pcap_file(packets)


def dtmf_pcap(digit: str, ssrc: int = 0x4321) -> bytes:
    return pcap_file(dtmf_event_packets(digit, 1, 8000, ssrc))


@dataclass
class SippResult:
    """What one SIPp run reports.

    ``successful`` and ``failed`` are SIPp's cumulative call counters: a call is
    successful when it reached the scenario's end, whichever branch it took (a 503
    the scenario accepts counts too).  ``stats`` is the last row of the
    ``-trace_stat`` CSV, ``rows`` every row (one per ``-fd`` period, then the final
    ones); ``counts`` the last row of ``-trace_counts``: per scenario element,
    messages sent/received once per call (``4_503_Recv``) apart from their
    retransmissions (``4_503_Retrans``).
    """

    returncode: int
    successful: int
    failed: int
    stats: dict[str, str]
    messages: str
    stderr: str
    rows: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count_responses(self, code: int) -> int:
        """Copies of responses with ``code`` in the message trace: retransmissions and
        SIPp's "Dead call ... received" echoes count again, so this is not a number
        of calls (``counts`` is)."""
        return self.messages.count(f"SIP/2.0 {code} ")


def run_sipp(
    scenario: str | Path,
    target: str,
    workdir: Path,
    *,
    service: str = "12345",
    calls: int = 1,
    limit: int = 1,
    rate: float = 10.0,
    timeout_s: float = 120.0,
    variables: dict[str, str] | None = None,
    transport: str = "u1",
    extra_args: list[str] | None = None,
) -> SippResult:
    """Run one SIPp scenario to completion against ``target`` (host:port)."""
    binary = shutil.which("sipp")
    if binary is None:
        raise FileNotFoundError("SIPp is not installed: apt-get install sip-tester")
    scenario_path = Path(scenario) if Path(scenario).is_absolute() else SCENARIOS / scenario
    workdir.mkdir(parents=True, exist_ok=True)
    stats_file = workdir / "stats.csv"
    messages_file = workdir / "messages.log"
    argv = [
        binary,
        target,
        "-sf",
        str(scenario_path),
        "-s",
        service,
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-mp",
        str(_free_udp_port()),
        "-m",
        str(calls),
        "-l",
        str(limit),
        "-r",
        str(rate),
        "-t",
        transport,
        "-timeout",
        f"{int(timeout_s)}s",
        "-timeout_error",
        "-recv_timeout",
        str(int(timeout_s * 1000)),
        "-max_socket",
        "1024",
        "-nostdin",
        "-trace_stat",
        "-trace_counts",
        "-fd",
        "1",
        "-stf",
        str(stats_file),
        "-trace_msg",
        "-message_file",
        str(messages_file),
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
    ]
    for key, value in (variables or {}).items():
        argv += ["-key", key, value]
    argv += extra_args or []
    process = subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, timeout=timeout_s + 30, check=False
    )
    rows = parse_stat_csv(stats_file.read_text(errors="replace")) if stats_file.exists() else []
    stats = rows[-1] if rows else {}
    # -trace_counts has no file-name option: <scenario>_<pid>_counts.csv in the workdir.
    counts_files = sorted(workdir.glob(f"{scenario_path.stem}_*_counts.csv"))
    counts = parse_counts_csv(counts_files[-1].read_text(errors="replace")) if counts_files else {}
    messages = messages_file.read_text(errors="replace") if messages_file.exists() else ""
    return SippResult(
        process.returncode,
        int(stats.get("SuccessfulCall(C)", 0) or 0),
        int(stats.get("FailedCall(C)", 0) or 0),
        stats,
        messages,
        process.stderr,
        rows,
        counts,
    )


def _free_udp_port() -> int:
    """An even port with the three above it free too: SIPp binds audio RTP/RTCP and
    video RTP/RTCP at port, port+1, port+2, port+3."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1]) & ~1
        if base + 3 < 65536 and all(_udp_free(base + offset) for offset in range(4)):
            return base
    raise OSError("no four consecutive free UDP ports for SIPp's media")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def parse_stat_csv(text: str) -> list[dict[str, str]]:
    """Rows of SIPp's ``-trace_stat`` CSV (``;``-separated, header first), as
    ``{column: value}``.  Columns ending ``(P)`` are periodic (since the previous
    row), ``(C)`` cumulative; time columns such as ``CurrentTime`` read
    ``date<TAB>time<TAB>epoch``.  A last line cut short (SIPp killed mid-write) is
    dropped."""
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    if len(rows) < 2:
        return []
    header = [name for name in rows[0] if name]  # each line ends with a ";"
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if len(row) >= len(header)]


def parse_counts_csv(text: str) -> dict[str, int]:
    """The last row of SIPp's ``-trace_counts`` CSV: cumulative per-element counters
    named ``<index>_<message>_<Sent|Recv|Retrans|Timeout|Unexp>`` in scenario order."""
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    if len(rows) < 2:
        return {}
    header, last = rows[0], rows[-1]
    counts = {}
    for name, value in zip(header, last, strict=False):
        if name and name not in ("CurrentTime", "ElapsedTime"):
            try:
                counts[name] = int(value)
            except ValueError:
                raise ValueError(f"SIPp counts: {name} is {value!r}, not a count") from None
    return counts


def stat_time(value: str) -> float:
    """Seconds since the epoch from a SIPp time column (``date<TAB>time<TAB>epoch``)."""
    try:
        return float(value.split("\t")[-1])
    except ValueError:
        raise ValueError(f"not a SIPp time: {value!r}") from None
