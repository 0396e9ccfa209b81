"""Start-up and configuration errors: one clear sentence and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.nodes import HOTLINE, free_sip_port


def hotline(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [str(HOTLINE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=base | (env or {}),
        check=False,
    )


def assert_clear_error(result, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    for fragment in fragments:
        assert fragment in " ".join(output.split()), output


def test_config_check_reports_every_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        "[sip]\nport = 70000\ncodecs = [\"OPUS\"]\n[workers]\ncount = 0\n[recording]\ndir = '/x'\n"
    )
    result = hotline("config", "check", str(config))
    assert_clear_error(
        result,
        "sip.port = 70000",
        "less than or equal to 65535",
        "sip.codecs = 'OPUS'",
        "'PCMA', 'PCMU' or 'G722'",
        "workers.count = 0",
        "unknown key 'recording'",
        "recordings",
    )


def test_config_check_accepts_a_good_file(tmp_path: Path) -> None:
    config = tmp_path / "good.toml"
    config.write_text("[sip]\nport = 5070\n[workers]\ncount = 3\n")
    result = hotline("config", "check", str(config))
    assert result.returncode == 0 and "OK" in result.stdout


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[sip\nport = 1\n")
    assert_clear_error(hotline("config", "check", str(config)), "is not valid TOML", "line 1")


def test_sip_port_in_use(tmp_path: Path) -> None:
    port = free_sip_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", port))
        result = hotline("serve", "--data-dir", str(tmp_path / "d"), "--sip-port", str(port))
    assert_clear_error(result, f"SIP port 127.0.0.1:{port}/udp is in use", "--sip-port")


def test_unwritable_data_directory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = hotline("serve", "--data-dir", str(not_a_dir), "--sip-port", str(free_sip_port()))
    assert_clear_error(result, f"data directory {not_a_dir} is not writable", "--data-dir")


def test_missing_debian_package(tmp_path: Path) -> None:
    bare_path = str(Path(sys.executable).parent)  # the venv only: no kamailio, no espeak-ng
    result = hotline(
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--sip-port",
        str(free_sip_port()),
        env={"PATH": bare_path},
    )
    assert_clear_error(result, "kamailio is not installed", "apt-get install kamailio")


def test_missing_espeak_voice(tmp_path: Path) -> None:
    result = hotline(
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--sip-port",
        str(free_sip_port()),
        env={"HOTLINE_PROMPTS__VOICE": "cmn-nonexistent"},
    )
    assert_clear_error(result, "espeak-ng has no voice 'cmn-nonexistent'", "cmn-latn-pinyin")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dtmf", "0@soon"], "is not a number of seconds"),
        (["--dtmf", "x@1"], "expected DIGIT@SECONDS"),
        (["--play", "/nonexistent.wav"], "no such file"),
    ],
)
def test_phone_rejects_bad_options(args: list[str], message: str) -> None:
    assert_clear_error(hotline("phone", "sip:12345@127.0.0.1", *args), message)


@pytest.mark.node  # a real node (hotline serve) and a call through it
def test_relative_data_directory_works(tmp_path: Path) -> None:
    """The README's first command runs with the default, relative `hotline-data`."""
    port = free_sip_port()
    node = subprocess.Popen(
        [str(HOTLINE), "serve", "--sip-port", str(port), "--workers", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
    )
    try:
        status = tmp_path / "hotline-data" / "run" / "node.json"
        for _ in range(300):
            if status.exists() and '"ready"' in status.read_text():
                break
            assert node.poll() is None, node.stdout.read() if node.stdout else ""
            time.sleep(0.1)
        call = hotline("phone", f"sip:12345@127.0.0.1:{port}", "--hangup-after", "1")
        assert call.returncode == 0, call.stdout
    finally:
        node.terminate()
        node.wait(60)
    assert node.returncode == 0
    assert list((tmp_path / "hotline-data" / "recordings").glob("*/*/*/*/manifest.json"))


def test_a_taxonomy_that_does_not_fit_the_model_stops_start_up(tmp_path: Path) -> None:
    shipped = (Path(__file__).resolve().parent.parent / "call_routing" / "taxonomy.toml").read_text(
        encoding="utf-8"
    )
    taxonomy = tmp_path / "taxonomy.toml"
    taxonomy.write_text(shipped.replace('[domains."民政"]', '[domains."民政事务"]'), "utf-8")
    config = tmp_path / "node.toml"
    config.write_text(f'[routing]\ntaxonomy = "{taxonomy}"\n', encoding="utf-8")
    from ivr.node.preflight import PreflightError, run_checks
    from sip_config import load_settings

    settings = load_settings(config, overrides={"node.data_dir": str(tmp_path / "data")})
    with pytest.raises(PreflightError, match=r"routing.taxonomy .*民政"):
        run_checks(settings)


BAD_SEATS = """
[[agents]]
id = "1001"
password = "pw"
seat_groups = ["综合"]

[seat_groups."城建"]
backup_groups = ["环保"]
backup_after_s = 30

[seat_groups."环保"]
backup_groups = ["城建"]
backup_after_s = 30

[[acd.windows]]
name = "peak"
start = 09:00:00
end = 12:00:00
seat_groups = ["综合"]

[[acd.windows]]
name = "延时服务"
start = 11:00:00
end = 20:00:00
seat_groups = ["综合"]
"""


def test_serve_refuses_seat_groups_without_agents_loops_and_overlapping_windows(
    tmp_path: Path,
) -> None:
    config = tmp_path / "node.toml"
    config.write_text(BAD_SEATS, encoding="utf-8")
    started = time.monotonic()
    result = hotline(
        "serve",
        "-c",
        str(config),
        "--data-dir",
        str(tmp_path / "data"),
        "--sip-port",
        str(free_sip_port()),
    )
    assert_clear_error(
        result,
        "seat allocation",
        "seat_groups.城建 has no agents",
        "loop 城建 → 环保 → 城建",
        "overlap",
    )
    assert time.monotonic() - started < 30, "refused before anything was started"
    assert not (tmp_path / "data" / "run" / "kamailio.pid").exists()
