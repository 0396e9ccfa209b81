"""sip_config.kamailio: the dispatcher list and kamailio.cfg, checked by Kamailio itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sip_config import Settings, load_settings
from sip_config.kamailio import (
    AUTH_REALM,
    DISPATCH_SET,
    WorkerTarget,
    agent_ha1,
    control_socket,
    dispatcher_list,
    kamailio_cfg,
    module_dir,
)

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"


def settings_in(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(overrides={"node.data_dir": str(tmp_path), **overrides})


def write_config(settings: Settings, text: str) -> Path:
    """The config file plus the dispatcher list it points at (one worker)."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    (settings.run_dir / "dispatcher.list").write_text(
        dispatcher_list([WorkerTarget("w1", "127.0.0.1:5081", 4)]), encoding="utf-8"
    )
    path = settings.node.data_dir / "kamailio.cfg"
    path.write_text(text, encoding="utf-8")
    return path


def kamailio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KAMAILIO, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )


def numbers_regex(cfg: str) -> re.Pattern[str]:
    found = re.search(r'\$rU =~ "([^"]*)"', cfg)
    assert found, "the config has no $rU =~ test for the served numbers"
    return re.compile(found.group(1))


# ---- dispatcher list -----------------------------------------------------------------


def test_dispatcher_list_has_one_line_per_worker_sorted_by_id() -> None:
    text = dispatcher_list(
        [
            WorkerTarget("w2", "127.0.0.1:5082", 2),
            WorkerTarget("w1", "10.0.0.5:5081", 4),
        ]
    )

    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        f"{DISPATCH_SET} sip:10.0.0.5:5081 0 0 duid=w1;maxload=4",
        f"{DISPATCH_SET} sip:127.0.0.1:5082 0 0 duid=w2;maxload=2",
    ]
    assert text.endswith("\n")


def test_dispatcher_line_fields() -> None:
    text = dispatcher_list([WorkerTarget("worker-7", "192.0.2.1:5090", 3)])

    (line,) = [line for line in text.splitlines() if not line.startswith("#")]
    set_id, uri, flags, priority, attrs = line.split(" ")
    assert int(set_id) == DISPATCH_SET
    assert uri == "sip:192.0.2.1:5090"
    assert (flags, priority) == ("0", "0")
    assert dict(pair.split("=") for pair in attrs.split(";")) == {
        "duid": "worker-7",
        "maxload": "3",
    }


def test_dispatcher_list_without_workers_is_only_a_comment() -> None:
    text = dispatcher_list([])

    assert all(line.startswith("#") for line in text.splitlines())


# ---- the generated kamailio.cfg --------------------------------------------------------


def test_cfg_listens_on_each_transport(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"sip.port": 5071, "sip.listen": "127.0.0.3"})

    cfg = kamailio_cfg(settings, modules="/nowhere")

    listens = [line for line in cfg.splitlines() if line.startswith("listen=")]
    assert listens == ["listen=udp:127.0.0.3:5071", "listen=tcp:127.0.0.3:5071"]
    assert 'alias="127.0.0.3:5071"' in cfg
    assert 'mpath="/nowhere"' in cfg


def test_cfg_single_transport(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"sip.transports": ["tcp"]})

    cfg = kamailio_cfg(settings, modules="/nowhere")

    listens = [line for line in cfg.splitlines() if line.startswith("listen=")]
    assert listens == ["listen=tcp:127.0.0.1:5060"]


def test_cfg_advertises_the_public_address(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path, **{"sip.listen": "0.0.0.0", "sip.advertised_address": "192.0.2.7"}
    )

    cfg = kamailio_cfg(settings, modules="/nowhere")

    listens = [line for line in cfg.splitlines() if line.startswith("listen=")]
    assert listens == [
        "listen=udp:0.0.0.0:5060 advertise 192.0.2.7:5060",
        "listen=tcp:0.0.0.0:5060 advertise 192.0.2.7:5060",
    ]
    assert 'alias="192.0.2.7:5060"' in cfg


def test_cfg_numbers_regex_matches_served_numbers_only(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"sip.numbers": ["12345", "*123#", "+8612345"]})

    regex = numbers_regex(kamailio_cfg(settings, modules="/nowhere"))

    for number in ("12345", "*123#", "+8612345"):
        assert regex.match(number), number
    for other in ("123456", "1234", "8612345", "123#", "**123#", "12345x", "110"):
        assert not regex.match(other), other


def test_cfg_answers_404_for_other_numbers_and_503_with_retry_after(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"sip.retry_after_s": 42})

    cfg = kamailio_cfg(settings, modules="/nowhere")

    assert 'sl_send_reply("404", "Not Found")' in cfg
    # The rate limit, "all busy" and failover paths all say when to try again.
    assert cfg.count('append_to_reply("Retry-After: 42\\r\\n")') == 3
    assert 'sl_send_reply("503", "Service Unavailable")' in cfg
    assert 't_reply("503", "Service Unavailable")' in cfg


def test_cfg_timers_and_paths_come_from_settings(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        **{
            "sip.invite_timeout_s": 7,
            "sip.probing_interval_s": 5,
            "workers.max_call_s": 600,
        },
    )

    cfg = kamailio_cfg(settings, modules="/nowhere")

    run_dir = settings.run_dir.resolve()
    assert 'modparam("tm", "fr_timer", 7000)' in cfg
    assert 'modparam("dispatcher", "ds_ping_interval", 5)' in cfg
    assert 'modparam("dispatcher", "ds_hash_expire", 660)' in cfg
    assert f'modparam("dispatcher", "list_file", "{run_dir}/dispatcher.list")' in cfg
    assert f'"unix:{control_socket(settings).resolve()}"' in cfg


def test_cfg_uses_an_absolute_run_dir_even_for_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(overrides={"node.data_dir": "data"})

    cfg = kamailio_cfg(settings, modules="/nowhere")

    assert f'"{tmp_path / "data" / "run"}/dispatcher.list"' in cfg


def agents_settings(tmp_path: Path) -> Settings:
    return settings_in(
        tmp_path,
        agents=[
            {"id": "1001", "password": "s3cret!", "seat_groups": ["general"]},
            {"id": "lin.wei", "password": "pa:ss", "seat_groups": ["general"]},
            {"id": "1003", "sip_uri": "sip:1003@192.0.2.10", "seat_groups": ["general"]},
        ],
    )


def test_agent_ha1_is_md5_of_user_realm_password() -> None:
    assert AUTH_REALM == "hotline"
    # md5("1001:hotline:s3cret!"), as RFC 2617 defines HA1
    assert agent_ha1("1001", "s3cret!") == "9a44aae4ec2347277df0c5f3ebabb8a3"
    assert agent_ha1("1001", "a", "other") != agent_ha1("1001", "a")


def test_cfg_stores_ha1_not_passwords(tmp_path: Path) -> None:
    cfg = kamailio_cfg(agents_settings(tmp_path), modules="/nowhere")

    assert "s3cret!" not in cfg and "pa:ss" not in cfg
    assert f'case "1001":\n            $var(ha1) = "{agent_ha1("1001", "s3cret!")}";' in cfg
    assert f'$var(ha1) = "{agent_ha1("lin.wei", "pa:ss")}";' in cfg
    assert 'case "1003"' not in cfg  # a fixed sip_uri: nothing to register
    assert f'pv_www_authenticate("{AUTH_REALM}", "$var(ha1)", "1")' in cfg
    assert "if ($tU != $au)" in cfg


def test_cfg_without_agents_refuses_every_register(tmp_path: Path) -> None:
    cfg = kamailio_cfg(settings_in(tmp_path), modules="/nowhere")

    registrar = cfg[cfg.index("route[REGISTRAR]") :]
    registrar = registrar[: registrar.index("}")]
    assert 'sl_send_reply("403", "Forbidden")' in registrar
    assert "save(" not in cfg


def test_cfg_relays_agents_and_outside_calls_for_workers_only(tmp_path: Path) -> None:
    cfg = kamailio_cfg(agents_settings(tmp_path), modules="/nowhere")

    served = cfg.index('if ($rU =~ "^(12345)$")')
    worker_check = cfg.index(f'if (!ds_is_from_list("{DISPATCH_SET}", "2"))')
    lookup = cfg.index('lookup("location")')
    assert served < worker_check < lookup
    assert '$rU =~ "^(1001|1003|lin[.]wei)$"' in cfg


def test_cfg_releases_call_load_only_for_dispatched_calls(tmp_path: Path) -> None:
    cfg = kamailio_cfg(settings_in(tmp_path), modules="/nowhere")

    assert 'add_rr_param(";dsload=1");\n        route(DISPATCH);' in cfg
    assert 'if (is_method("BYE") && check_route_param("dsload=1"))' in cfg


# ---- Kamailio's own syntax check ---------------------------------------------------------


def test_generated_cfg_passes_kamailio_check(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"sip.port": 5098})
    path = write_config(settings, kamailio_cfg(settings, modules=module_dir()))

    result = kamailio_check(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_cfg_with_special_numbers_and_advertise_passes_kamailio_check(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        **{
            "sip.listen": "0.0.0.0",
            "sip.advertised_address": "192.0.2.7",
            "sip.transports": ["tcp"],
            "sip.numbers": ["12345", "*123#", "+8612345"],
        },
    )
    path = write_config(settings, kamailio_cfg(settings))

    result = kamailio_check(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_cfg_with_agents_passes_kamailio_check(tmp_path: Path) -> None:
    settings = agents_settings(tmp_path)
    path = write_config(settings, kamailio_cfg(settings))

    result = kamailio_check(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_kamailio_check_fails_for_a_broken_line(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    good = kamailio_cfg(settings, modules=module_dir())
    broken = good.replace("record_route();", "record_route(;", 1)
    assert broken != good
    path = write_config(settings, broken)

    result = kamailio_check(path)

    assert result.returncode != 0


def test_kamailio_check_fails_for_an_unknown_function(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    good = kamailio_cfg(settings, modules=module_dir())
    broken = good.replace("t_relay();", "t_relay_to_nowhere();", 1)
    path = write_config(settings, broken)

    result = kamailio_check(path)

    assert result.returncode != 0
