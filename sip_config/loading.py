"""Reading the settings file and turning every problem into a sentence."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import EnvSettingsSource

from sip_config.errors import ConfigError
from sip_config.settings import Settings

ENV_PREFIX = "HOTLINE_"


def load_settings(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from ``path`` (optional), then ``HOTLINE_*``, then ``overrides``.

    ``overrides`` uses dotted keys, e.g. ``{"sip.port": 5070}``.
    """
    file_data: dict[str, Any] = {}
    if path is not None:
        file_data = read_toml(path)
    _refuse_unknown_env_sections()
    env_data = EnvSettingsSource(Settings)()
    merged = _deep_merge(file_data, env_data)
    for dotted, value in (overrides or {}).items():
        _set_dotted(merged, dotted, value)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, where=str(path) if path else "settings")) from None


def _refuse_unknown_env_sections() -> None:
    """``HOTLINE_SIPP__PORT`` is a typo, not something to ignore silently."""
    sections = set(Settings.model_fields)
    problems = []
    for name in os.environ:
        if not name.startswith(ENV_PREFIX):
            continue
        section = name[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if section not in sections:
            problems.append(
                f"environment: {name} names no settings section; sections are: "
                f"{', '.join(sorted(sections))} (e.g. HOTLINE_SIP__PORT=5070)"
            )
    if problems:
        raise ConfigError(problems)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such configuration file"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text; save it as UTF-8"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: is not valid TOML: {exc}"]) from None


def describe_errors(exc: ValidationError, where: str) -> list[str]:
    """One sentence per problem: the key, the bad value and what is allowed."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
        key = ".".join(loc) or "(top level)"
        value = error.get("input")
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = f"allowed keys here: {', '.join(allowed)}" if allowed else "remove it"
            problems.append(f"{where}: unknown key {key!r}; {hint}")
            continue
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {key} = {_short(value)} is not allowed: {message}")
    return problems


def _allowed_keys(section_path: list[str]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in section_path:
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
