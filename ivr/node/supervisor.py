"""``hotline serve``: start every part of the node, keep them up, stop them in order.

Order at start: checks → prompts → Mosquitto (local broker) → hub → media
workers → Kamailio (its dispatcher list is generated from the workers that are
up).  A part that dies is restarted with backoff; a dead worker is taken out of
Kamailio's dispatcher list at once.  On SIGTERM the node stops taking calls,
lets calls finish for ``supervisor.grace_s``, then stops workers (which close
their recordings), the hub, Kamailio and the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events import messages as m
from events import topics
from events.broker_address import broker_address
from events.messages import Message
from events.mqtt import MqttBus
from ivr.node.admission import AdmissionPolicy
from ivr.node.logs import fields
from ivr.node.preflight import PreflightError, choose_broker_port, free_port, run_checks
from ivr.node.shedding import Shedder
from sip_config import Settings
from sip_config.kamailio import WorkerTarget, control_socket, dispatcher_list, kamailio_cfg
from tts.catalogue import load_catalogue
from tts.hold import write_hold_music
from tts.prompts import prompt_path, render_catalogue

log = logging.getLogger("supervisor")

NODE_FILE = "node.json"


@dataclass
class Part:
    """One supervised process."""

    name: str
    argv: list[str]
    log_file: Path
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    state: str = "new"
    last_exit: int | None = None
    backoff: float = 0.0
    watcher: asyncio.Task | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "pid": self.process.pid if self.process and self.process.returncode is None else None,
            "restarts": self.restarts,
            "since": self.started_at,
            "last_exit": self.last_exit,
        }


@dataclass
class Supervisor:
    settings: Settings
    parts: dict[str, Part] = field(default_factory=dict)
    worker_targets: dict[str, WorkerTarget] = field(default_factory=dict)
    worker_status: dict[str, dict] = field(default_factory=dict)
    hub_up_pid: int | None = None
    stopping: bool = False
    ready: bool = False

    def __post_init__(self) -> None:
        self.run_dir = self.settings.run_dir
        self.bus: MqttBus | None = None
        self._kamailio_started = False
        self.shedder = Shedder(
            lambda *command: kamcmd(self.settings, *command),
            AdmissionPolicy.for_answer_timeout(self.settings.workers.hub_answer_timeout_s),
        )

    # ---- start ----------------------------------------------------------------------
    async def start(self) -> None:
        self.settings = settings = absolute_paths(self.settings)
        self.run_dir = settings.run_dir
        run_checks(settings)
        for directory in (self.run_dir, settings.log_dir, settings.recordings_dir):
            directory.mkdir(parents=True, exist_ok=True)
        port = choose_broker_port(settings) if settings.local_broker else settings.mqtt.port
        asr = settings.asr
        if asr.enabled and asr.port == 0:
            asr = asr.model_copy(update={"port": free_port(asr.host)})
        self.settings = settings = settings.model_copy(
            update={"mqtt": settings.mqtt.model_copy(update={"port": port}), "asr": asr}
        )
        self._render_prompts()
        if settings.web.enabled:
            self._first_admin()
        settings_file = self.run_dir / "settings.json"
        _write_private(settings_file, settings.model_dump_json(indent=2))  # agents' passwords
        python = sys.executable
        if settings.local_broker:
            self._add(
                "mosquitto",
                [
                    shutil.which("mosquitto") or "mosquitto",
                    "-c",
                    str(self._write_mosquitto_conf(port)),
                ],
            )
            await self._spawn(self.parts["mosquitto"])
            await _wait_for_port("127.0.0.1", port, 10, "Mosquitto")
        self.bus = MqttBus(
            broker_address(settings),
            client_id=f"{settings.node.name}-supervisor-{os.getpid()}",
            on_connect=self._publish_node_status,
        )
        self._bus_task = asyncio.create_task(
            self.bus.run(
                [topics.ALL_WORKER_STATUS, topics.hub_status(), topics.hub_load()],
                self._on_message,
            )
        )
        await asyncio.wait_for(self.bus.connected.wait(), 10)
        self._add("hub", [python, "-m", "ivr.hub.main", "--settings", str(settings_file)])
        await self._spawn(self.parts["hub"])
        if settings.asr.enabled:
            self._add(
                "asr", [python, "-m", "ivr.node.asr_service", "--settings", str(settings_file)]
            )
            await self._spawn(self.parts["asr"])
            await _wait_for_port(settings.asr.host, settings.asr.port, 60, "the ASR service")
        for index in range(1, settings.workers.count + 1):
            worker_id = f"w{index}"
            self._add(
                f"worker-{worker_id}",
                [
                    python,
                    "-m",
                    "ivr.media.worker",
                    "--settings",
                    str(settings_file),
                    "--id",
                    worker_id,
                ],
            )
            await self._spawn(self.parts[f"worker-{worker_id}"])
        await self._wait_for_workers(timeout=30 + 2 * settings.workers.count)
        await self._wait_for_hub(timeout=60)  # it loads models and the ticket store
        self._write_dispatcher_list()
        cfg = self.run_dir / "kamailio.cfg"
        _write_private(cfg, kamailio_cfg(settings))  # holds the agents' HA1 secrets
        self._add(
            "kamailio",
            [
                shutil.which("kamailio") or "kamailio",
                "-f",
                str(cfg),
                "-DD",
                "-E",
                "-m",
                "128",
                "-M",
                "16",
                "-P",
                str(self.run_dir / "kamailio.pid"),
                "-Y",
                str(self.run_dir),
            ],
        )
        await self._spawn(self.parts["kamailio"])
        await self._wait_for_kamailio(10)
        self._kamailio_started = True
        self.ready = True
        await self._publish_node_status()
        self._status_task = asyncio.create_task(self._status_loop())
        self._admission_task = asyncio.create_task(self._admission_loop())
        host = settings.sip.advertised_address or settings.sip.listen
        log.info(
            "node ready",
            extra=fields(
                dial=f"sip:{settings.sip.numbers[0]}@{host}:{settings.sip.port}",
                workers=settings.workers.count,
                broker_port=port,
                recordings=str(settings.recordings_dir),
            ),
        )

    def _first_admin(self) -> None:
        """On a first start the consoles get an admin whose one-time password is
        printed here, on the operator's terminal (the hub's log would hide it)."""
        from ivr.hub.main import prepare_accounts

        prepare_accounts(self.settings)

    def _render_prompts(self) -> None:
        made = render_catalogue(
            load_catalogue(self.settings.prompts),  # checked by run_checks
            self.settings.prompts_dir,
            [self.settings.workers.clock_rate],
        )
        rate = self.settings.workers.clock_rate
        write_hold_music(prompt_path(self.settings.prompts_dir, rate, "hold_music"), rate)
        rendered = [f"{m.prompt_id}@{m.sample_rate} ({m.backend})" for m in made if m.fresh]
        if rendered:
            log.info("prompts rendered", extra=fields(prompts=rendered))

    def _write_mosquitto_conf(self, port: int) -> Path:
        conf = self.run_dir / "mosquitto.conf"
        (self.run_dir / "mosquitto").mkdir(exist_ok=True)
        # Started as root, Mosquitto would switch to its own user, which may not
        # write the node's data folder: it keeps the node's user instead.
        user = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(
            "# generated by hotline serve\n"
            f"{user}"
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            # Persistent: an outside consumer with a lasting session (QoS 1) gets what
            # was queued for it even across a restart of the local broker.
            "persistence true\n"
            f"persistence_location {self.run_dir.resolve() / 'mosquitto'}/\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 100\n",
            encoding="utf-8",
        )
        return conf

    def _add(self, name: str, argv: list[str]) -> None:
        self.parts[name] = Part(name, argv, self.settings.log_dir / f"{name}.log")

    async def _spawn(self, part: Part) -> None:
        handle = part.log_file.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        part.process = await asyncio.create_subprocess_exec(
            *part.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        handle.close()
        part.started_at = time.time()
        part.state = "running"
        part.watcher = asyncio.create_task(self._watch(part))

    async def _watch(self, part: Part) -> None:
        assert part.process is not None
        code = await part.process.wait()
        part.last_exit = code
        if self.stopping:
            part.state = "stopped"
            return
        part.state = "restarting"
        ran = time.time() - part.started_at
        part.backoff = (
            self.settings.supervisor.restart_backoff_s
            if ran > 60
            else min(
                max(part.backoff * 2, self.settings.supervisor.restart_backoff_s),
                self.settings.supervisor.restart_backoff_max_s,
            )
        )
        log.warning(
            "part died; restarting",
            extra=fields(
                part=part.name,
                exit=code,
                ran_s=round(ran, 1),
                restart_in_s=part.backoff,
                log=str(part.log_file),
            ),
        )
        if part.name.startswith("worker-"):
            await self._worker_gone(part.name.removeprefix("worker-"))
        await asyncio.sleep(part.backoff)
        if self.stopping:
            part.state = "stopped"
            return
        part.restarts += 1
        await self._spawn(part)
        if part.name == "kamailio":
            self._write_dispatcher_list()
        await self._publish_node_status()

    # ---- workers and the dispatcher list -------------------------------------------
    async def _on_message(self, topic: str, message: Message) -> None:
        if message.type == m.HUB_LOAD:
            self.shedder.hub_load(message.data)
            return
        if message.type == m.HUB_STATUS:
            self.hub_up_pid = message.data.get("pid") if message.data.get("state") == "up" else None
            return
        if message.type != m.WORKER_STATUS:
            return
        data = message.data
        worker = str(data.get("worker", ""))
        if f"worker-{worker}" not in self.parts:
            return
        self.worker_status[worker] = data
        target = None
        if data.get("state") == "up":
            target = WorkerTarget(worker, str(data["sip"]), int(data.get("capacity", 4)))
        current = self.worker_targets.get(worker)
        if target != current:
            if target is None:
                self.worker_targets.pop(worker, None)
            else:
                self.worker_targets[worker] = target
            if self._kamailio_started:
                await self._reload_dispatcher()

    async def _worker_gone(self, worker: str) -> None:
        self.worker_status.pop(worker, None)
        if self.worker_targets.pop(worker, None) is not None and self._kamailio_started:
            await self._reload_dispatcher()

    def _write_dispatcher_list(self) -> None:
        path = self.run_dir / "dispatcher.list"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(dispatcher_list(list(self.worker_targets.values())), encoding="utf-8")
        os.replace(tmp, path)

    async def _reload_dispatcher(self) -> None:
        """Kamailio reads the list again; a refused reload (kamcmd prints the RPC
        fault and exits 0) is tried again, or a restarted worker's new port would
        stay unknown to it: no calls in, and its calls out refused."""
        self._write_dispatcher_list()
        output = ""
        for _attempt in range(3):
            ok, output = await kamcmd(self.settings, "dispatcher.reload")
            if ok and not output.lower().startswith("error"):
                return
            await asyncio.sleep(0.5)
        log.warning("dispatcher reload failed", extra=fields(output=output))

    async def _wait_for_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        wanted = self.settings.workers.count
        while len(self.worker_targets) < wanted:
            if time.monotonic() > deadline:
                missing = [
                    f"w{i}" for i in range(1, wanted + 1) if f"w{i}" not in self.worker_targets
                ]
                raise PreflightError(
                    f"media workers {', '.join(missing)} did not start in {timeout:.0f}s; "
                    f"see {self.settings.log_dir}/worker-*.log"
                )
            await asyncio.sleep(0.1)

    async def _wait_for_hub(self, timeout: float) -> None:
        """Calls are let in only once the hub (this run's) says it is up."""
        deadline = time.monotonic() + timeout
        while self.hub_up_pid is None or self.hub_up_pid != self.parts["hub"].snapshot()["pid"]:
            if time.monotonic() > deadline:
                log_file = self.settings.log_dir / "hub.log"
                raise PreflightError(f"the hub did not come up in {timeout:.0f}s; see {log_file}")
            await asyncio.sleep(0.1)

    async def _wait_for_kamailio(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.parts["kamailio"].process
            if process is not None and process.returncode is not None:
                break
            ok, _ = await kamcmd(self.settings, "core.uptime")
            if ok:
                return
            await asyncio.sleep(0.2)
        tail = _tail(self.parts["kamailio"].log_file)
        raise PreflightError(f"Kamailio did not start: {tail or 'no output'}")

    # ---- status -----------------------------------------------------------------------
    def node_status(self) -> dict[str, Any]:
        return {
            "node": self.settings.node.name,
            "state": "stopping" if self.stopping else ("ready" if self.ready else "starting"),
            "pid": os.getpid(),
            "sip": f"{self.settings.sip.listen}:{self.settings.sip.port}",
            "numbers": self.settings.sip.numbers,
            "broker": f"{broker_address(self.settings).host}:{broker_address(self.settings).port}",
            "data_dir": str(self.settings.node.data_dir.resolve()),
            "parts": [part.snapshot() for part in self.parts.values()],
            "updated": time.time(),
            "admission": self.shedder.status(),
        }

    async def _publish_node_status(self) -> None:
        status = self.node_status()
        path = self.run_dir / NODE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2), encoding="utf-8")
        os.replace(tmp, path)
        if self.bus is not None:
            await self.bus.publish(
                topics.node_status(),
                Message(m.NODE_STATUS, status, node=self.settings.node.name),
                retain=True,
            )

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(2)
            await self._publish_node_status()

    async def _admission_loop(self) -> None:
        """Once a second: the share of new calls Kamailio admits (ivr.node.shedding)."""
        while not self.stopping:
            await asyncio.sleep(1)
            try:
                await self.shedder.step()
            except Exception:  # admission must never take the supervisor down
                log.exception("admission control failed; trying again")

    # ---- stop -------------------------------------------------------------------------
    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        try:
            await self._drain()
        except Exception:
            log.exception("draining failed; stopping anyway")
        finally:
            await self._stop_parts()

    async def _drain(self) -> None:
        """Stop taking calls; let calls in progress finish for ``grace_s``."""
        grace = self.settings.supervisor.grace_s
        log.info("stopping: no new calls", extra=fields(grace_s=grace))
        if self.bus is None or not self.bus.connected.is_set():
            return
        await self._publish_node_status()
        workers = [n.removeprefix("worker-") for n in self.parts if n.startswith("worker-")]
        for worker in workers:
            await self.bus.publish(
                topics.worker_commands(worker), Message(m.DRAIN, {}, node=self.settings.node.name)
            )
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self._calls_in_progress():
            await asyncio.sleep(0.2)
        left = self._calls_in_progress()
        if left:
            log.warning("grace period over; ending calls", extra=fields(calls=left))

    async def _stop_parts(self) -> None:
        """Workers first (they close their recordings), then hub, Kamailio, broker."""
        workers = [p for name, p in self.parts.items() if name.startswith("worker-")]
        await asyncio.gather(*(_terminate(p, 15) for p in workers))
        for name in ("asr", "hub", "kamailio"):
            if name in self.parts:
                await _terminate(self.parts[name], 10)
        with contextlib.suppress(Exception):
            await self._publish_node_status()
        if self.bus is not None:
            await asyncio.sleep(0.1)
            self._bus_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._bus_task
        if "mosquitto" in self.parts:
            await _terminate(self.parts["mosquitto"], 5)
        if self.parts:
            status = self.node_status()
            status["state"] = "stopped"
            (self.run_dir / NODE_FILE).write_text(json.dumps(status, indent=2), encoding="utf-8")
            log.info("node stopped")

    def _calls_in_progress(self) -> int:
        return sum(len(s.get("calls", [])) for s in self.worker_status.values())


def absolute_paths(settings: Settings) -> Settings:
    """Kamailio and Mosquitto change their working directory: give every part absolute paths."""
    node = settings.node.model_copy(update={"data_dir": settings.node.data_dir.resolve()})
    recordings = settings.recordings
    if recordings.dir is not None:
        recordings = recordings.model_copy(update={"dir": recordings.dir.resolve()})
    prompts = settings.prompts
    if prompts.recorded_dir is not None:
        prompts = prompts.model_copy(update={"recorded_dir": prompts.recorded_dir.resolve()})
    if prompts.catalogue is not None:
        prompts = prompts.model_copy(update={"catalogue": prompts.catalogue.resolve()})
    routing = settings.routing
    if routing.taxonomy is not None:
        routing = routing.model_copy(update={"taxonomy": routing.taxonomy.resolve()})
    return settings.model_copy(
        update={"node": node, "recordings": recordings, "prompts": prompts, "routing": routing}
    )


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor dies, so no part is orphaned."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_PR_SET_PDEATHSIG = 1


async def _terminate(part: Part, timeout: float) -> None:
    process = part.process
    if process is None or process.returncode is not None:
        part.state = "stopped"
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        log.warning("part did not stop in time; killing", extra=fields(part=part.name))
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    if part.watcher is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await part.watcher
    part.state = "stopped"


async def kamcmd(settings: Settings, *command: str) -> tuple[bool, str]:
    binary = shutil.which("kamcmd")
    if binary is None:
        return False, "kamcmd not found"
    process = await asyncio.create_subprocess_exec(
        binary,
        "-s",
        f"unix:{control_socket(settings).resolve()}",
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 5)
    except TimeoutError:
        process.kill()
        return False, "kamcmd timed out"
    return process.returncode == 0, output.decode(errors="replace").strip()


async def _wait_for_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise PreflightError(f"{what} did not start listening on {host}:{port} in {timeout:.0f}s")


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


async def serve(settings: Settings) -> int:
    supervisor = Supervisor(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        start = asyncio.create_task(supervisor.start())
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if start in done:
            start.result()
            await stop.wait()
        else:
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await start
    except PreflightError:
        await supervisor.stop()
        raise
    finally:
        if not supervisor.stopping:
            await supervisor.stop()
    return 0


def _write_private(path: Path, text: str) -> None:
    """Write a file only the node's user can read (it holds secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)  # an older file keeps its mode on O_TRUNC
