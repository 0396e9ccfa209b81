"""sip_config.worker_settings: what a media worker reads, held to sip_config.settings.

Every key the worker view declares is compared with the full model: its type,
choices, bounds and default, and the values just inside and just outside each
bound, so a bound changed in one place and not the other fails here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel, ValidationError

from sip_config import ConfigError, Settings, rules
from sip_config.worker_settings import WorkerSettings, read_worker_settings, worker_settings

SECTIONS = [s.name for s in dataclasses.fields(WorkerSettings) if s.name != "agents"]


def keys() -> list[tuple[str, str]]:
    views = get_type_hints(WorkerSettings)
    return [
        (section, key.name) for section in SECTIONS for key in dataclasses.fields(views[section])
    ]


def view_key(section: str, key: str) -> tuple[Any, dict[str, Any]]:
    """The worker view's type and bounds of ``section.key``."""
    view = get_type_hints(WorkerSettings)[section]
    (declared,) = (f for f in dataclasses.fields(view) if f.name == key)
    return get_type_hints(view)[key], dict(declared.metadata.get("bounds", {}))


def model_key(section: str, key: str) -> tuple[Any, dict[str, Any], list[Any]]:
    """The full model's type, bounds and other constraints of ``section.key``."""
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    info = model.model_fields[key]
    bounds, other = {}, []
    for constraint in info.metadata:
        found = {
            a: getattr(constraint, a) for a in ("ge", "gt", "le", "lt") if hasattr(constraint, a)
        }
        bounds.update({a: v for a, v in found.items() if v is not None})
        if not found:
            other.append(constraint)
    return info.annotation, bounds, other


def as_view_type(hint: Any) -> Any:
    """The model's ``list[X]`` is the view's ``tuple[X, ...]`` (frozen)."""
    if get_origin(hint) is list:
        return tuple[get_args(hint)[0], ...]  # type: ignore[valid-type]
    return hint


def as_view_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def dotted(section: str, key: str, settings: Any) -> Any:
    return getattr(getattr(settings, section), key)


def one_key(section: str, key: str, value: Any) -> dict[str, Any]:
    return {section: {key: value}}


# ---- the view agrees with the model ------------------------------------------------


@pytest.mark.parametrize(("section", "key"), keys())
def test_each_key_has_the_models_type_bounds_and_default(section: str, key: str) -> None:
    view_type, view_bounds = view_key(section, key)
    model_type, model_bounds, _ = model_key(section, key)

    assert view_type == as_view_type(model_type)
    assert view_bounds == model_bounds
    assert dotted(section, key, worker_settings({})) == as_view_value(
        dotted(section, key, Settings.model_validate({}))
    )


def test_the_node_name_follows_the_models_pattern() -> None:
    _, _, other = model_key("node", "name")

    assert [c.pattern for c in other] == [rules.NODE_NAME]


def bound_cases() -> list[tuple[str, str, Any, bool]]:
    """(section, key, value, allowed) on each side of every bound."""
    cases = []
    for section, key in keys():
        hint, bounds = view_key(section, key)
        step = 1 if hint is int else 0.5
        for name, bound in bounds.items():
            value = hint(bound)
            if name == "ge":
                cases += [(section, key, value, True), (section, key, value - step, False)]
            elif name == "gt":
                cases += [(section, key, value + step, True), (section, key, value, False)]
            else:
                cases += [(section, key, value, True), (section, key, value + step, False)]
    return cases


RULE_CASES = [
    ("node", "name", "-node", False),
    ("node", "name", "node-2.a_b", True),
    ("node", "log_level", "loud", False),
    ("sip", "transports", [], False),
    ("sip", "transports", ["udp", "udp"], False),
    ("sip", "transports", ["tls"], False),
    ("sip", "transports", ["tcp"], True),
    ("sip", "codecs", ["PCMA", "PCMA"], False),
    ("sip", "codecs", ["G722"], True),
    ("sip", "advertised_address", "node.example", False),
    ("sip", "advertised_address", "192.0.2.7", True),
    ("sip", "transfer_uri", "sip:110@gateway", False),
    ("sip", "transfer_uri", "sip:{number}@gw.example:5060", True),
    ("workers", "bind", "localhost", False),
    ("workers", "bind", "::1", True),
    ("workers", "clock_rate", 44100, False),
    ("workers", "clock_rate", 16000, True),
    ("mqtt", "url", "http://broker.example", False),
    ("mqtt", "url", "mqtts://broker.example:8883", True),
    ("mqtt", "ca_file", "/etc/ssl/ca.pem", True),
    ("mqtt", "ca_file", None, True),
    ("recordings", "dir", "/srv/recordings", True),
]


@pytest.mark.parametrize(("section", "key", "value", "allowed"), bound_cases() + RULE_CASES)
def test_the_worker_refuses_what_the_model_refuses(
    section: str, key: str, value: Any, allowed: bool
) -> None:
    data = one_key(section, key, value)

    if allowed:
        model = Settings.model_validate_json(json.dumps(data))
        view = worker_settings(data)
        assert dotted(section, key, view) == as_view_value(dotted(section, key, model))
        return
    with pytest.raises(ValidationError):
        Settings.model_validate_json(json.dumps(data))
    with pytest.raises(ConfigError) as refused:
        worker_settings(data, where="settings.json")
    (problem,) = refused.value.problems
    assert problem.startswith(f"settings.json: {section}.{key} = {value!r} is not allowed: ")


def test_a_dump_of_real_settings_reads_back_the_same(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {
            "node": {"name": "gz1", "data_dir": str(tmp_path), "log_level": "debug"},
            "sip": {"transports": ["udp"], "advertised_address": "192.0.2.7"},
            "workers": {"max_calls": 2, "clock_rate": 16000, "media_thread": False},
            "mqtt": {"url": "mqtts://broker.example", "username": "w", "tls": True},
            "listen": {"no_input_s": 5, "speech_level": 7},
            "asr": {"enabled": False, "port": 9000},
            "recordings": {"dir": str(tmp_path / "rec")},
            "agents": [{"id": "1001", "password": "pw", "seat_groups": ["general"]}],
        }
    )
    path = tmp_path / "settings.json"
    path.write_text(settings.model_dump_json(indent=2), encoding="utf-8")

    view = read_worker_settings(path)

    for section, key in keys():
        assert dotted(section, key, view) == as_view_value(dotted(section, key, settings))
    assert view.agents == ("1001",)
    assert view.recordings_dir == settings.recordings_dir == tmp_path / "rec"
    assert view.prompts_dir == settings.prompts_dir


# ---- what the worker says about a bad file -----------------------------------------


def test_every_problem_is_named_with_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"workers": {"max_calls": 9, "idle_poll_ms": 10}}))

    with pytest.raises(ConfigError) as refused:
        read_worker_settings(path)

    assert refused.value.problems == [
        f"{path}: workers.max_calls = 9 is not allowed: must be at most 4",
        f"{path}: workers.idle_poll_ms = 10 is not allowed: must be at least 20",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            one_key("workers", "max_calls", "4"),
            "workers.max_calls = '4' is not allowed: must be a whole number",
        ),
        (
            one_key("workers", "media_thread", 1),
            "workers.media_thread = 1 is not allowed: must be true or false",
        ),
        (
            one_key("listen", "no_input_s", True),
            "listen.no_input_s = True is not allowed: must be a number",
        ),
        (one_key("sip", "codecs", "PCMA"), "sip.codecs = 'PCMA' is not allowed: must be a list"),
        (one_key("mqtt", "ca_file", 7), "mqtt.ca_file = 7 is not allowed: must be a path (text)"),
        ({"workers": [4]}, "workers = [4] is not allowed: must be a table of keys"),
        (
            {"agents": [{"name": "x"}]},
            "agents = [{'name': 'x'}] is not allowed: must be a list of agents with an id each",
        ),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        worker_settings(data, where="settings.json")

    assert refused.value.problems == [f"settings.json: {problem}"]


def test_keys_and_sections_the_worker_does_not_read_are_left_to_the_model() -> None:
    view = worker_settings({"workers": {"count": 999}, "web": {"port": "x"}})

    assert view == worker_settings({})


def test_a_file_that_is_not_json_or_not_there(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("[workers]\ncount = 2\n")

    with pytest.raises(ConfigError, match=r"settings.json: is not valid JSON"):
        read_worker_settings(path)
    with pytest.raises(ConfigError, match=r"missing.json: no such settings file"):
        read_worker_settings(tmp_path / "missing.json")
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"must be a JSON object of settings sections"):
        read_worker_settings(path)
