"""Kamailio as the agents' registrar, run for real on loopback and driven by SIPp.

One Kamailio per module with three agents: 1001 and 1002 register with digest
passwords, 1003 has a fixed ``sip_uri``.  The dispatcher list names one "media
worker" address; SIPp bound to that port plays the worker, SIPp on any other
port plays a citizen.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.peers.sipp import SippResult, run_sipp
from sip_config import Settings, load_settings
from sip_config.kamailio import (
    AUTH_REALM,
    WorkerTarget,
    agent_ha1,
    control_socket,
    dispatcher_list,
    kamailio_cfg,
)
from tests.support.nodes import free_sip_port, wait_for

pytestmark = pytest.mark.node  # a real Kamailio on loopback, driven by SIPp
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
PASSWORDS = {"1001": "secret-1001", "1002": "secret-1002"}
SIPP_TIMEOUT_S = 15


@dataclass
class Registrar:
    settings: Settings
    port: int
    worker_port: int
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kamcmd(self, *command: str) -> str:
        result = subprocess.run(
            [KAMCMD, "-s", f"unix:{control_socket(self.settings).resolve()}", *command],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return result.stdout + result.stderr

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def contacts(self, user: str) -> str:
        """The location record of ``user`` (empty when not registered)."""
        dump = self.kamcmd("ul.lookup", "location", f"s:{user}")  # s: a string, not a number
        return "" if dump.startswith("error") else dump


def start_kamailio(tmp_path: Path, agents: list[dict[str, object]]) -> Iterator[Registrar]:
    port, worker_port = free_sip_port(), free_sip_port()
    settings = load_settings(
        overrides={
            "node.data_dir": str(tmp_path),
            "sip.port": port,
            "sip.transports": ["udp"],
            "sip.probing_interval_s": 300,  # the fake worker does not answer OPTIONS
            "agents": agents,
        }
    )
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    (settings.run_dir / "dispatcher.list").write_text(
        dispatcher_list([WorkerTarget("w1", f"127.0.0.1:{worker_port}", 4)]), encoding="utf-8"
    )
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(kamailio_cfg(settings), encoding="utf-8")
    log = tmp_path / "kamailio.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [KAMAILIO, "-f", str(cfg), "-DD", "-E", "-m", "64", "-M", "8", "-Y", str(tmp_path)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    registrar = Registrar(settings, port, worker_port, log)
    try:
        wait_for(
            lambda: process.poll() is not None or "uptime" in registrar.kamcmd("core.uptime"),
            timeout=15,
            what="Kamailio's control socket",
        )
        assert process.poll() is None, log.read_text(errors="replace")
        yield registrar
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def registrar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registrar]:
    agents: list[dict[str, object]] = [
        {"id": agent_id, "password": password, "seat_groups": ["general"]}
        for agent_id, password in PASSWORDS.items()
    ]
    agents.append({"id": "1003", "sip_uri": "sip:1003@192.0.2.10", "seat_groups": ["general"]})
    yield from start_kamailio(tmp_path_factory.mktemp("registrar"), agents)


def register(
    registrar: Registrar,
    workdir: Path,
    user: str,
    password: str,
    auth_user: str | None = None,
    contact_port: int = 5999,
) -> SippResult:
    """One REGISTER of ``user`` (answering a challenge as ``auth_user``/``password``)."""
    return run_sipp(
        "register_agent.xml",
        registrar.target,
        workdir,
        timeout_s=SIPP_TIMEOUT_S,
        variables={"user": user, "contact_port": str(contact_port)},
        extra_args=["-au", auth_user or user, "-ap", password],
    )


def final_register_reply(result: SippResult) -> int:
    """The status of the last reply to a REGISTER in the SIPp message log."""
    codes = [
        int(line.split()[1])
        for line in result.messages.splitlines()
        if line.startswith("SIP/2.0 ") and line.split()[1].isdigit()
    ]
    assert codes, result.messages + result.stderr
    return codes[-1]


# ---- REGISTER with digest authentication ------------------------------------------------


def test_agent_registers_with_the_right_password(registrar: Registrar, tmp_path: Path) -> None:
    result = register(registrar, tmp_path, "1001", PASSWORDS["1001"], contact_port=5901)

    assert result.count_responses(401) == 1, result.messages  # challenged first
    assert final_register_reply(result) == 200, result.messages
    assert "Address: sip:1001@127.0.0.1:5901" in registrar.contacts("1001")


def test_wrong_password_is_refused_and_nothing_is_stored(
    registrar: Registrar, tmp_path: Path
) -> None:
    result = register(registrar, tmp_path, "1002", "not-the-password", contact_port=5902)

    assert final_register_reply(result) == 403, result.messages
    assert registrar.logged("for agent 1002: wrong password: 403")
    assert "5902" not in registrar.kamcmd("ul.dump")


def test_agent_cannot_register_another_agents_id(registrar: Registrar, tmp_path: Path) -> None:
    result = register(
        registrar, tmp_path, "1002", PASSWORDS["1001"], auth_user="1001", contact_port=5903
    )

    assert final_register_reply(result) == 403, result.messages
    assert registrar.logged("agent 1001 tried to register 1002: 403")
    assert "5903" not in registrar.kamcmd("ul.dump")


def test_unknown_user_is_refused(registrar: Registrar, tmp_path: Path) -> None:
    result = register(registrar, tmp_path, "9999", "whatever", contact_port=5904)

    assert final_register_reply(result) == 403, result.messages
    assert registrar.logged("for unknown agent 9999: 403")
    assert "5904" not in registrar.kamcmd("ul.dump")


def test_agent_with_a_fixed_uri_cannot_register(registrar: Registrar, tmp_path: Path) -> None:
    result = register(registrar, tmp_path, "1003", "", contact_port=5905)

    assert final_register_reply(result) == 403, result.messages


def test_the_config_holds_ha1_values_not_passwords(registrar: Registrar) -> None:
    cfg = kamailio_cfg(registrar.settings, modules="/nowhere")

    for agent_id, password in PASSWORDS.items():
        assert password not in cfg
        assert agent_ha1(agent_id, password) in cfg
    assert agent_ha1("1001", "x") == agent_ha1("1001", "x", AUTH_REALM)


def test_without_agents_every_register_is_refused(tmp_path: Path) -> None:
    for registrar in start_kamailio(tmp_path / "node", []):
        result = register(registrar, tmp_path / "sipp", "1001", "secret-1001")

        assert final_register_reply(result) == 403, result.messages
        assert result.count_responses(401) == 0


# ---- who may ring an agent ------------------------------------------------------------------


def test_citizen_cannot_ring_an_agent_directly(registrar: Registrar, tmp_path: Path) -> None:
    assert register(registrar, tmp_path / "reg", "1001", PASSWORDS["1001"]).successful == 1

    result = run_sipp(
        "agent_call_refused.xml",
        registrar.target,
        tmp_path / "call",
        timeout_s=SIPP_TIMEOUT_S,
        variables={"ruri": f"sip:1001@{registrar.target}"},
    )

    assert result.successful == 1, result.messages + result.stderr
    assert result.count_responses(403) == 1


@pytest.mark.parametrize(
    "ruri",
    ["sip:1003@127.0.0.1:{agent_port}", "sip:13800138000@127.0.0.1:{agent_port}"],
)
def test_citizen_cannot_relay_through_the_node(
    registrar: Registrar, tmp_path: Path, ruri: str
) -> None:
    result = run_sipp(
        "agent_call_refused.xml",
        registrar.target,
        tmp_path,
        timeout_s=SIPP_TIMEOUT_S,
        variables={"ruri": ruri.format(agent_port=free_sip_port())},
    )

    assert result.successful == 1, result.messages + result.stderr
    assert result.count_responses(403) == 1


def test_unknown_user_still_gets_404(registrar: Registrar, tmp_path: Path) -> None:
    result = run_sipp(
        "agent_call_refused.xml",
        registrar.target,
        tmp_path,
        timeout_s=SIPP_TIMEOUT_S,
        variables={"ruri": f"sip:8888@{registrar.target}"},
    )

    assert result.successful == 1, result.messages + result.stderr
    assert result.count_responses(404) == 1


def call_from_worker(
    registrar: Registrar, tmp_path: Path, ruri: str, agent_port: int
) -> tuple[SippResult, SippResult]:
    """The agent's phone (SIPp UAS on ``agent_port``) and the worker's call to ``ruri``."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        agent = pool.submit(
            run_sipp,
            "agent_answers.xml",
            registrar.target,
            tmp_path / "agent",
            timeout_s=SIPP_TIMEOUT_S,
            extra_args=["-p", str(agent_port)],
        )
        time.sleep(0.5)  # SIPp binds its port
        worker = run_sipp(
            "agent_call_from_worker.xml",
            registrar.target,
            tmp_path / "worker",
            timeout_s=SIPP_TIMEOUT_S,
            variables={"ruri": ruri},
            extra_args=["-p", str(registrar.worker_port)],
        )
        return worker, agent.result(timeout=SIPP_TIMEOUT_S + 40)


def test_worker_rings_a_registered_agent(registrar: Registrar, tmp_path: Path) -> None:
    agent_port = free_sip_port()
    reg = register(registrar, tmp_path / "reg", "1002", PASSWORDS["1002"], contact_port=agent_port)
    assert final_register_reply(reg) == 200, reg.messages

    worker, agent = call_from_worker(
        registrar, tmp_path, f"sip:1002@{registrar.target}", agent_port
    )

    assert worker.successful == 1, worker.messages + worker.stderr
    assert agent.successful == 1, agent.messages + agent.stderr
    # ACK and BYE went through the node (Record-Route honoured).
    assert f"Record-Route: <sip:127.0.0.1:{registrar.port}" in agent.messages


def test_worker_calls_out_through_the_node(registrar: Registrar, tmp_path: Path) -> None:
    """A fixed agent URI or a callback through a trunk: relayed to the R-URI."""
    agent_port = free_sip_port()

    worker, agent = call_from_worker(
        registrar, tmp_path, f"sip:13800138000@127.0.0.1:{agent_port}", agent_port
    )

    assert worker.successful == 1, worker.messages + worker.stderr
    assert agent.successful == 1, agent.messages + agent.stderr


def test_worker_gets_480_for_an_agent_who_is_not_registered(
    registrar: Registrar, tmp_path: Path
) -> None:
    result = run_sipp(
        "agent_call_refused.xml",
        registrar.target,
        tmp_path,
        timeout_s=SIPP_TIMEOUT_S,
        variables={"ruri": f"sip:1003@{registrar.target}"},
        extra_args=["-p", str(registrar.worker_port)],
    )

    assert result.successful == 1, result.messages + result.stderr
    assert result.count_responses(480) == 1


# ---- dispatcher load accounting ----------------------------------------------------------


def test_only_dispatched_calls_count_against_a_workers_load(
    registrar: Registrar, tmp_path: Path
) -> None:
    """A citizen's call to 12345 is dispatched to the worker and its BYE releases the
    load; the worker's own calls out (here to a trunk) never touch it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        worker = pool.submit(
            run_sipp,
            "agent_answers.xml",  # the media worker answering the dispatched call
            registrar.target,
            tmp_path / "worker",
            timeout_s=SIPP_TIMEOUT_S,
            extra_args=["-p", str(registrar.worker_port)],
        )
        time.sleep(0.5)
        citizen = run_sipp(
            "agent_call_from_worker.xml",
            registrar.target,
            tmp_path / "citizen",
            timeout_s=SIPP_TIMEOUT_S,
            variables={"ruri": f"sip:12345@{registrar.target}"},
        )
        assert citizen.successful == 1, citizen.messages + citizen.stderr
        assert worker.result(timeout=SIPP_TIMEOUT_S + 40).successful == 1
    agent_port = free_sip_port()
    out, trunk = call_from_worker(
        registrar, tmp_path / "out", f"sip:13800138000@127.0.0.1:{agent_port}", agent_port
    )
    assert out.successful == 1 and trunk.successful == 1

    wait_for(
        lambda: "DLGLOAD: 0" in registrar.kamcmd("dispatcher.list"),
        timeout=5,
        what="the worker's call load back to 0",
    )
    assert not registrar.logged("cannot find load")
