"""The prompt catalogue: prompt id → text, optional recording, voice and rate.

Where a prompt comes from, later sources winning for the same id:

1. ``tts/catalogue.toml``, shipped with the node (the defaults);
2. the operator's catalogue named in ``prompts.catalogue`` — its tables override
   the defaults key by key and may add prompts;
3. ``prompts.texts.<id>`` in the node settings — a quick change of a text;
4. ``<prompts.recorded_dir>/<id>.wav`` — a voice-talent recording that is played
   instead of the synthesis.

Every problem is reported as one sentence naming the file, the prompt id, the
key and how to fix it (:class:`CatalogueError`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sip_config import ConfigError
from sip_config.settings import PromptsSection
from tts.wav import read_wav

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.toml")
REQUIRED_PROMPTS = ("greeting", "closing")
PROMPT_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class CatalogueError(ConfigError):
    """The prompt catalogue cannot be used; ``problems`` holds one sentence each."""


class PromptEntry(BaseModel):
    """One table of a catalogue file, as written (every key optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = None
    recording: Path | None = None
    voice: str | None = None
    rate: int | None = Field(None, ge=80, le=400)  # words per minute
    note: str = ""

    @field_validator("text", "voice")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value


@dataclass(frozen=True)
class Prompt:
    """A prompt ready to render: what to say, how, or which recording to play."""

    id: str
    text: str
    voice: str
    words_per_minute: int
    recording: Path | None = None
    note: str = ""
    origin: str = ""  # the file (or setting) that last changed it

    @property
    def source(self) -> Literal["recorded", "synth"]:
        return "recorded" if self.recording is not None else "synth"


@dataclass(frozen=True)
class Catalogue:
    """Prompts by id; iterates in id order."""

    prompts: Mapping[str, Prompt]

    def __iter__(self) -> Iterator[Prompt]:
        return iter(sorted(self.prompts.values(), key=lambda p: p.id))

    def __len__(self) -> int:
        return len(self.prompts)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.prompts

    def __getitem__(self, prompt_id: str) -> Prompt:
        return self.prompts[prompt_id]


_FIXES = {
    "text": 'write what the prompt says, e.g. text = "您好……"',
    "recording": "give the WAV's path relative to the catalogue's folder",
    "voice": 'name an espeak-ng voice, e.g. voice = "cmn-latn-pinyin"',
    "rate": "give words per minute between 80 and 400, e.g. rate = 165",
    "note": "write a short note for operators",
}


def read_catalogue_file(path: Path) -> dict[str, PromptEntry]:
    """The tables of one catalogue file, recordings resolved against its folder."""
    problems: list[str] = []
    entries = _read_tables(path, problems)
    if problems:
        raise CatalogueError(problems)
    return entries


def _read_tables(path: Path, problems: list[str]) -> dict[str, PromptEntry]:
    """The valid tables of ``path``; each problem is appended to ``problems``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(
            [f"{path}: no such catalogue file; set prompts.catalogue to your catalogue TOML"]
        ) from None
    except OSError as exc:
        raise CatalogueError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise CatalogueError([f"{path}: is not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"{path}: is not valid TOML: {exc}"]) from None
    entries: dict[str, PromptEntry] = {}
    for prompt_id, table in data.items():
        if not PROMPT_ID.match(prompt_id):
            problems.append(
                f"{path}: prompt id {prompt_id!r} must be lower-case letters, digits and _, "
                "starting with a letter; rename the table, e.g. [ask_again]"
            )
            continue
        if not isinstance(table, dict):
            problems.append(
                f"{path}: prompt {prompt_id!r} is not a table; write it as "
                f'[{prompt_id}] with text = "…" on the next line'
            )
            continue
        try:
            entry = PromptEntry.model_validate(table)
        except ValidationError as exc:
            problems.extend(_describe(path, prompt_id, exc))
            continue
        if entry.recording is not None:
            recording = entry.recording
            if not recording.is_absolute():
                recording = path.parent / recording
            problem = recording_problem(recording)
            if problem:
                problems.append(f"{path}: prompt {prompt_id!r}, key 'recording': {problem}")
                continue
            entry = entry.model_copy(update={"recording": recording})
        entries[prompt_id] = entry
    return entries


def recording_problem(path: Path) -> str:
    """Why ``path`` cannot be used as a recorded prompt ('' when it can)."""
    if not path.is_file():
        return (
            f"no such file {path}; put the voice-talent WAV there (16-bit PCM) "
            "or remove the key to synthesize the text"
        )
    try:
        samples, _ = read_wav(path)
    except ValueError as exc:
        return f"{path} is {exc}"
    if len(samples) == 0:
        return f"{path} holds no audio; record the prompt again"
    return ""


def _describe(path: Path, prompt_id: str, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(table)"
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(PromptEntry.model_fields)
            problems.append(
                f"{path}: prompt {prompt_id!r}, key {key!r} is unknown; allowed keys: {allowed}"
            )
            continue
        message = error["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(key, "fix the value")
        problems.append(
            f"{path}: prompt {prompt_id!r}, key {key!r} = {error.get('input')!r}: {message}; {fix}"
        )
    return problems


def load_catalogue(settings: PromptsSection, default_file: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """The node's catalogue: defaults, the operator's file, texts, recordings."""
    problems: list[str] = []
    layers = [(str(default_file), _read_tables(default_file, problems))]
    if settings.catalogue is not None:
        layers.append((str(settings.catalogue), _read_tables(settings.catalogue, problems)))
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for origin, entries in layers:
        for prompt_id, entry in entries.items():
            merged.setdefault(prompt_id, {}).update(entry.model_dump(exclude_unset=True))
            origins[prompt_id] = origin
    for prompt_id, text in settings.texts.items():
        merged.setdefault(prompt_id, {})["text"] = text
        origins[prompt_id] = f"prompts.texts.{prompt_id}"
    problems += [
        f"{origins[prompt_id]}: prompt {prompt_id!r}, key 'text' is missing; a new prompt "
        'needs text = "…" (what it says), even when it is recorded'
        for prompt_id, fields in merged.items()
        if not fields.get("text")
    ]
    for prompt_id in REQUIRED_PROMPTS:
        if prompt_id not in merged:
            problems.append(
                f"{settings.catalogue or default_file}: required prompt {prompt_id!r} is "
                f'missing; add [{prompt_id}] with text = "…"'
            )
    recorded = _recorded_overrides(settings.recorded_dir, merged, problems)
    if problems:
        raise CatalogueError(problems)
    prompts = {
        prompt_id: Prompt(
            id=prompt_id,
            text=fields["text"],
            voice=fields.get("voice") or settings.voice,
            words_per_minute=fields.get("rate") or settings.words_per_minute,
            recording=recorded.get(prompt_id, fields.get("recording")),
            note=fields.get("note", ""),
            origin=origins[prompt_id],
        )
        for prompt_id, fields in merged.items()
    }
    return Catalogue(prompts)


def _recorded_overrides(
    recorded_dir: Path | None, merged: Mapping[str, Any], problems: list[str]
) -> dict[str, Path]:
    if recorded_dir is None:
        return {}
    if not recorded_dir.is_dir():
        problems.append(
            f"prompts.recorded_dir = {str(recorded_dir)!r} is not a folder; create it "
            "(one <prompt id>.wav per recorded prompt) or remove the key"
        )
        return {}
    found = {}
    for prompt_id in merged:
        path = recorded_dir / f"{prompt_id}.wav"
        if path.exists():
            problem = recording_problem(path)
            if problem:
                problems.append(f"prompts.recorded_dir: prompt {prompt_id!r}: {problem}")
            else:
                found[prompt_id] = path
    return found
