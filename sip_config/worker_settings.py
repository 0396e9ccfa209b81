"""What a media worker reads of the node's settings, checked without pydantic.

The supervisor writes ``run/settings.json`` from a validated
:class:`~sip_config.settings.Settings` (``model_dump_json``) and every media worker
reads it back here.  pydantic and pydantic-settings would cost each worker about
8 MB of its own memory (USS), and a node runs about a hundred workers, so a
worker checks the keys it uses with the rules of :mod:`sip_config.settings`: the
same types, choices, bounds and defaults (``tests/test_worker_settings.py`` holds
the two to the same answers) and the same :mod:`sip_config.rules`.  A bad value
is refused with :class:`ConfigError`, one sentence per problem naming the key,
as ``load_settings`` does.

It differs from the full model in two ways, neither about a file the supervisor
wrote:

* keys the worker does not read, and whole sections it does not read, are not
  checked here: the hub validates the same file with the full model at start;
* values must have their JSON type (numbers as numbers, flags as ``true`` or
  ``false``, paths as strings), as ``model_dump_json`` writes them, where pydantic
  would also take ``"4"`` for 4.  A missing key takes the model's default.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from sip_config import rules
from sip_config.errors import ConfigError


def _key(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    rule: Callable[[Any], Any] | None = None,
) -> Any:
    """A key's default and what :mod:`sip_config.settings` allows for it."""
    given = {"ge": ge, "gt": gt, "le": le}
    bounds = {name: bound for name, bound in given.items() if bound is not None}
    return field(default=default, metadata={"bounds": bounds, "rule": rule})


def _node_name(value: str) -> str:
    if not re.match(rules.NODE_NAME, value):
        raise ValueError(f"should match pattern {rules.NODE_NAME!r}")
    return value


@dataclass(frozen=True)
class NodeView:
    name: str = _key("node1", rule=_node_name)
    data_dir: Path = Path("hotline-data")
    log_level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class SipView:
    listen: str = _key("127.0.0.1", rule=rules.ip_address_or_empty)
    port: int = _key(5060, ge=1, le=65535)
    transports: tuple[Literal["udp", "tcp"], ...] = _key(
        ("udp", "tcp"), rule=rules.non_empty_unique
    )
    advertised_address: str = _key("", rule=rules.ip_address_or_empty)
    codecs: tuple[Literal["PCMA", "PCMU", "G722"], ...] = _key(
        ("PCMA", "PCMU", "G722"), rule=rules.non_empty_unique
    )
    session_expires_s: int = _key(1800, ge=90, le=86400)
    transfer_uri: str = _key("", rule=rules.transfer_uri)
    numbers: tuple[str, ...] = _key(("12345",), rule=rules.non_empty_unique)


@dataclass(frozen=True)
class WorkersView:
    max_calls: int = _key(4, ge=1, le=4)
    bind: str = _key("127.0.0.1", rule=rules.ip_address)
    clock_rate: Literal[8000, 16000] = 8000
    rtp_timeout_s: int = _key(30, ge=2, le=3600)
    max_call_s: int = _key(3600, ge=10, le=86400)
    hub_answer_timeout_s: float = _key(3.0, gt=0, le=30)
    hub_lost_grace_s: float = _key(15.0, gt=0, le=600)
    pjsip_log_level: int = _key(0, ge=0, le=6)
    idle_poll_ms: int = _key(500, ge=20, le=999)
    media_thread: bool = True
    tap_batch_frames: int = _key(5, ge=1, le=25)


@dataclass(frozen=True)
class MqttView:
    url: str = _key("", rule=rules.mqtt_url)
    port: int = _key(0, ge=0, le=65535)
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: Path | None = None


@dataclass(frozen=True)
class ListenView:
    no_input_s: float = _key(8.0, gt=0, le=120)
    end_silence_ms: int = _key(1000, ge=200, le=10000)
    min_speech_ms: int = _key(300, ge=20, le=10000)
    max_speech_s: float = _key(60.0, gt=1, le=600)
    speech_level: int = _key(3, ge=1, le=255)


@dataclass(frozen=True)
class AsrView:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = _key(0, ge=0, le=65535)


@dataclass(frozen=True)
class RecordingsView:
    dir: Path | None = None


@dataclass(frozen=True)
class WorkerSettings:
    """The sections of :class:`~sip_config.settings.Settings` a media worker reads,
    under the same names, with only the keys it uses."""

    node: NodeView = NodeView()
    sip: SipView = SipView()
    workers: WorkersView = WorkersView()
    mqtt: MqttView = MqttView()
    listen: ListenView = ListenView()
    asr: AsrView = AsrView()
    recordings: RecordingsView = RecordingsView()
    agents: tuple[str, ...] = ()  # the agents' ids: a worker needs to know if there are any

    @property
    def recordings_dir(self) -> Path:
        return self.recordings.dir or self.node.data_dir / "recordings"

    @property
    def prompts_dir(self) -> Path:
        return self.node.data_dir / "prompts"


def read_worker_settings(path: Path) -> WorkerSettings:
    """The settings file the supervisor wrote, or :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such settings file"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}: is not valid JSON: {exc}"]) from None
    return worker_settings(data, where=str(path))


def worker_settings(data: Any, where: str = "settings") -> WorkerSettings:
    """``data`` (a settings dump, parsed JSON) checked; every problem in one error."""
    if not isinstance(data, dict):
        raise ConfigError([f"{where}: must be a JSON object of settings sections"])
    problems: list[str] = []
    hints = get_type_hints(WorkerSettings)
    sections = {
        section.name: _section(
            section.name, hints[section.name], data.get(section.name, {}), where, problems
        )
        for section in fields(WorkerSettings)
        if section.name != "agents"
    }
    agents = _agent_ids(data.get("agents", []), where, problems)
    if problems:
        raise ConfigError(problems)
    return WorkerSettings(**sections, agents=agents)


def _section(name: str, view: type[Any], raw: Any, where: str, problems: list[str]) -> Any:
    if not isinstance(raw, dict):
        problems.append(f"{where}: {name} = {_short(raw)} is not allowed: must be a table of keys")
        return view()
    hints = get_type_hints(view)
    values = {}
    for key in fields(view):
        if key.name not in raw:
            continue
        value = raw[key.name]
        try:
            values[key.name] = _checked(hints[key.name], key.metadata, value)
        except ValueError as exc:
            problems.append(f"{where}: {name}.{key.name} = {_short(value)} is not allowed: {exc}")
    return view(**values)


def _checked(hint: Any, metadata: Any, value: Any) -> Any:
    value = _typed(hint, value)
    bounds = metadata.get("bounds", {})
    if "ge" in bounds and value < bounds["ge"]:
        raise ValueError(f"must be at least {bounds['ge']}")
    if "gt" in bounds and value <= bounds["gt"]:
        raise ValueError(f"must be more than {bounds['gt']}")
    if "le" in bounds and value > bounds["le"]:
        raise ValueError(f"must be at most {bounds['le']}")
    rule = metadata.get("rule")
    return rule(value) if rule is not None else value


def _typed(hint: Any, value: Any) -> Any:
    """``value`` as ``hint`` says, from its JSON type (``ValueError`` if it is not)."""
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        if any(type(value) is type(choice) and value == choice for choice in choices):
            return value
        raise ValueError(f"must be one of {', '.join(map(repr, choices))}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        return tuple(_typed(get_args(hint)[0], item) for item in value)
    if origin in (Union, types.UnionType):  # X | None
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return _typed(inner, value)
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (str, Path) and isinstance(value, str):
        return hint(value)
    expected = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        Path: "a path (text)",
    }
    if hint not in expected:
        raise TypeError(f"no check for {hint!r}")  # a key declared with a type not handled here
    raise ValueError(f"must be {expected[hint]}")


def _agent_ids(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(raw, list) and all(
        isinstance(agent, dict) and isinstance(agent.get("id"), str) for agent in raw
    ):
        return tuple(agent["id"] for agent in raw)
    problems.append(
        f"{where}: agents = {_short(raw)} is not allowed: must be a list of agents with an id each"
    )
    return ()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
