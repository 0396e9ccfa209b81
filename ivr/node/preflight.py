"""Checks before the node starts: each failure is one sentence with the fix."""

from __future__ import annotations

import errno
import shutil
import socket
import tempfile

from sip_config import Settings
from tts.catalogue import CatalogueError, load_catalogue
from tts.espeak import SynthesisError, check_voice

DEFAULT_BROKER_PORT = 1883


class PreflightError(Exception):
    """The node cannot start; the message says why and what to do."""

    retryable = False


def run_checks(settings: Settings) -> None:
    _check_binaries(settings)
    try:
        voices = {prompt.voice for prompt in load_catalogue(settings.prompts)}
        for voice in sorted({settings.prompts.voice} | voices):
            check_voice(voice)
    except SynthesisError as exc:
        raise PreflightError(str(exc)) from None
    except CatalogueError as exc:
        raise PreflightError("\n".join(exc.problems)) from None
    _check_writable(settings)
    if settings.asr.enabled:
        check_asr_model(settings)
    check_understanding(settings)
    check_departments(settings)
    check_seats(settings)
    check_verification(settings)
    for transport in settings.sip.transports:
        if not port_free(settings.sip.listen, settings.sip.port, transport):
            raise PreflightError(
                f"SIP port {settings.sip.listen}:{settings.sip.port}/{transport} is in use: "
                "stop the program using it or start with --sip-port PORT"
            )
    web = settings.web
    if web.enabled and not port_free(web.host, web.port, "tcp"):
        raise PreflightError(
            f"web port {web.host}:{web.port} is in use: set web.port to a free port "
            "(or web.enabled = false)"
        )
    if (
        settings.local_broker
        and settings.mqtt.port
        and not port_free("127.0.0.1", settings.mqtt.port, "tcp")
    ):
        raise PreflightError(
            f"MQTT port {settings.mqtt.port} is in use: set mqtt.port to a free port, "
            "or to 0 to let the node choose one"
        )


def check_understanding(settings: Settings) -> None:
    """The understanding model is there and fits the taxonomy and the category tree
    (``routing.taxonomy``, ``routing.model``, ``routing.categories``)."""
    from call_routing.understanding import UnderstandingSetupError, build_understander

    routing = settings.routing
    try:
        build_understander(
            routing.taxonomy, routing.model, routing.categories, routing.low_confidence
        )
    except UnderstandingSetupError as exc:
        raise PreflightError(str(exc)) from None


def check_departments(settings: Settings) -> None:
    """The department directory (``tickets.departments``) loads and its dispatch
    catalogue names only categories of the tree calls are routed by
    (``routing.categories``); every problem is listed."""
    from call_routing.category_tree import CategoryTree, CategoryTreeError
    from call_routing.taxonomy import load_taxonomy
    from tickets.departments import DirectoryError, load_directory, tree_paths

    routing, path = settings.routing, settings.tickets.departments
    try:
        tree = CategoryTree.load(routing.categories, load_taxonomy(routing.taxonomy).domains)
    except (CategoryTreeError, OSError, ValueError) as exc:
        raise PreflightError(f"routing.categories: {exc}") from None
    try:
        load_directory(path, tree_paths(tree))
    except DirectoryError as exc:
        fix = ""
        if path is None and routing.categories is not None:
            fix = (
                "\n  the shipped example fits the shipped category tree only: set "
                "tickets.departments to a directory written for routing.categories"
            )
        where = path or "the shipped example"
        raise PreflightError(
            f"tickets.departments ({where}) cannot be used:\n  " + "\n  ".join(exc.problems) + fix
        ) from None


def check_verification(settings: Settings) -> None:
    """``[verification]`` can call citizens: the do-not-call list reads and the
    calling hours open on some day of the next year (not every day a holiday)."""
    if not settings.verification.enabled:
        return
    from verification.calling_hours import CallingHoursError
    from verification.schedule import VerificationPolicy, load_do_not_call

    try:
        load_do_not_call(settings.verification.do_not_call)
        policy = VerificationPolicy.from_settings(settings)
    except ValueError as exc:
        raise PreflightError(f"{exc}: fix the file or unset verification.do_not_call") from None
    from datetime import UTC, datetime

    try:
        policy.hours.next_open(datetime.now(UTC))
    except CallingHoursError as exc:
        raise PreflightError(f"verification.calling_hours: {exc}") from None


def check_seats(settings: Settings) -> None:
    """Agents and seat groups make a workable plan (no group left without agents,
    no backup loop, no overlapping windows, …); every problem is listed."""
    from ivr.hub.seat_plan import seat_problems

    problems = seat_problems(settings)
    if problems:
        raise PreflightError("seat allocation:\n  " + "\n  ".join(problems))


def check_asr_model(settings: Settings) -> None:
    """The model of the engine ``asr.engine`` picks is there (a chosen Vosk model too)."""
    from asr.engines import choose_engine
    from asr.models import ModelError, prepare_whisper_base

    try:
        if choose_engine(settings.asr).kind == "whisper":
            prepare_whisper_base()  # instant once assembled; verifies the pinned digests
    except ModelError as exc:
        raise PreflightError(f"{exc} (or set asr.enabled = false)") from None


def _check_binaries(settings: Settings) -> None:
    needed = {"kamailio": "kamailio", "kamcmd": "kamailio", "espeak-ng": "espeak-ng"}
    if settings.local_broker:
        needed["mosquitto"] = "mosquitto"
    for binary, package in needed.items():
        if shutil.which(binary) is None:
            raise PreflightError(
                f"{binary} is not installed: run `apt-get install {package}` "
                "(or `bash scripts/bootstrap.sh`, which installs everything)"
            )


def _check_writable(settings: Settings) -> None:
    for directory in (settings.node.data_dir, settings.recordings_dir):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise PreflightError(
                f"data directory {directory} is not writable ({exc.strerror}): "
                "choose another with --data-dir DIR or fix its permissions"
            ) from None


def port_free(host: str, port: int, transport: str) -> bool:
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def choose_broker_port(settings: Settings) -> int:
    """The configured port, or 1883 when free, or any free port (for a second node)."""
    if settings.mqtt.port:
        return settings.mqtt.port
    if port_free("127.0.0.1", DEFAULT_BROKER_PORT, "tcp"):
        return DEFAULT_BROKER_PORT
    return free_port()
