"""The node's settings: one TOML file plus ``HOTLINE_*`` environment overrides.

Every part of the node receives one validated :class:`Settings` object; nothing
reads the environment or files on its own.  Environment variables use ``__``
between sections, e.g. ``HOTLINE_SIP__PORT=5070`` or ``HOTLINE_WORKERS__COUNT=8``.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sip_config import rules
from sip_config.acd_settings import AcdSection, AgentSettings, SeatGroupSettings
from sip_config.analytics_settings import AnalyticsSection
from sip_config.verification_settings import VerificationSection

Port = Annotated[int, Field(ge=1, le=65535)]
Codec = Literal["PCMA", "PCMU", "G722"]

_NUMBER = re.compile(r"^[0-9*#+]{1,32}$")


class Section(BaseModel):
    """A settings section: unknown keys are refused, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSection(Section):
    name: str = Field("node1", pattern=rules.NODE_NAME)
    data_dir: Path = Path("hotline-data")
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class SipSection(Section):
    """The SIP front (Kamailio): where carriers, SBCs and phones send calls."""

    listen: str = "127.0.0.1"
    port: Port = 5060
    transports: list[Literal["udp", "tcp"]] = ["udp", "tcp"]
    advertised_address: str = ""
    numbers: list[str] = ["12345"]
    codecs: list[Codec] = ["PCMA", "PCMU", "G722"]
    session_expires_s: int = Field(1800, ge=90, le=86400)
    retry_after_s: int = Field(30, ge=1, le=3600)
    # Where emergencies are transferred (SIP REFER): a URI with {number}; empty means
    # sip:{number}@ the host the caller's call came from (the trunk's gateway).
    transfer_uri: str = ""
    probing_interval_s: int = Field(2, ge=1, le=300)
    invite_timeout_s: int = Field(4, ge=1, le=60)
    # Admission control: new calls per second the node accepts; beyond it Kamailio
    # answers 503 with Retry-After at once instead of starving the media workers.
    max_call_setups_per_s: int = Field(100, ge=1, le=10000)

    @field_validator("listen", "advertised_address")
    @classmethod
    def _ip(cls, value: str) -> str:
        return rules.ip_address_or_empty(value)

    @field_validator("transfer_uri")
    @classmethod
    def _transfer_uri(cls, value: str) -> str:
        return rules.transfer_uri(value)

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('at least one number must be answered, e.g. ["12345"]')
        for number in value:
            if not _NUMBER.match(number):
                raise ValueError(f"{number!r} is not a dialable number (digits, *, #, +)")
        return value

    @field_validator("codecs", "transports")
    @classmethod
    def _non_empty_unique(cls, value: list[str]) -> list[str]:
        return rules.non_empty_unique(value)


class WorkersSection(Section):
    """Media workers: one pjsua2 process each, at most ``max_calls`` legs."""

    count: int = Field(2, ge=1, le=256)
    max_calls: int = Field(4, ge=1, le=4)
    bind: str = "127.0.0.1"
    clock_rate: Literal[8000, 16000] = 8000
    rtp_timeout_s: int = Field(30, ge=2, le=3600)
    max_call_s: int = Field(3600, ge=10, le=86400)
    hub_answer_timeout_s: float = Field(3.0, gt=0, le=30)
    hub_lost_grace_s: float = Field(15.0, gt=0, le=600)
    pjsip_log_level: int = Field(0, ge=0, le=6)  # PJSIP's own log in the worker log (diagnosis)
    # What a worker costs (bench/worker_cost.py measures these):
    idle_poll_ms: int = Field(500, ge=20, le=999)  # engine poll with no call (a command wakes it)
    media_thread: bool = True  # RTP on PJSIP's own thread; False: idle ≈ 0 CPU, calls cost more
    tap_batch_frames: int = Field(5, ge=1, le=25)  # 20 ms frames per hand-over to the ASR link

    @field_validator("bind")
    @classmethod
    def _ip(cls, value: str) -> str:
        return rules.ip_address(value)


class MqttSection(Section):
    """The bus.  Empty ``url`` means: start a local Mosquitto on ``port``."""

    url: str = ""
    port: int = Field(0, ge=0, le=65535)  # local broker; 0: 1883 if free, else any free port
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: Path | None = (
        None  # PEM of the CA that signed the broker's certificate; None: system CAs
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return rules.mqtt_url(value)


class PromptsSection(Section):
    """Prompts spoken by the node (Simplified Chinese).

    The catalogue shipped in ``tts/catalogue.toml`` (greeting, closing, …) is
    extended or overridden by id from ``catalogue``, then ``texts``; prompts are
    synthesized with pyttsx3 on espeak-ng unless a recording replaces them.
    """

    voice: str = "cmn-latn-pinyin"  # default espeak-ng voice; a prompt may name its own
    words_per_minute: int = Field(165, ge=80, le=400)  # default rate; a prompt may set its own
    # The operator's catalogue (TOML, one table per prompt id); overrides the defaults by id.
    catalogue: Path | None = None
    # Folder of voice-talent recordings, <prompt id>.wav; each overrides synthesis.
    recorded_dir: Path | None = None
    # Quick text changes by prompt id, e.g. texts.greeting = "您好……".
    texts: dict[str, str] = {}

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not re.match(r"^[a-z][a-z0-9_]{0,40}$", key):
                raise ValueError(f"prompt id {key!r} must be lower-case letters, digits, _")
            if not text.strip():
                raise ValueError(
                    f"prompt {key!r} must have a text; write what it says or remove the key"
                )
        return value

    @field_validator("catalogue")
    @classmethod
    def _catalogue(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(
                f"no such file {value}; point it at your catalogue TOML (one table per "
                "prompt id, see the README) or remove the key to use the shipped catalogue"
            )
        return value

    @field_validator("recorded_dir")
    @classmethod
    def _recorded_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                f"{value} is not a folder; create it (one <prompt id>.wav per recorded "
                "prompt) or remove the key"
            )
        return value


class ListenSection(Section):
    """Listening to the caller: end of speech (the ASR service uses the same values),
    barge-in and how often the caller is asked before a human is offered."""

    no_input_s: float = Field(8.0, gt=0, le=120)
    end_silence_ms: int = Field(1000, ge=200, le=10000)
    min_speech_ms: int = Field(300, ge=20, le=10000)
    max_speech_s: float = Field(60.0, gt=1, le=600)
    speech_level: int = Field(3, ge=1, le=255)
    barge_in: bool = True  # the caller may talk over prompts; the prompt stops
    asks: int = Field(2, ge=1, le=5)  # turns with nothing understood before a human


class AsrSection(Section):
    """The ASR service: one process, the model loaded once, a stream per call leg."""

    enabled: bool = True
    # auto: Vosk when a Chinese Vosk model is installed (``hotline models fetch``), else Whisper
    engine: Literal["auto", "whisper", "vosk"] = "auto"
    vosk_model: str = Field("vosk-cn-small", min_length=1)  # a registry name or a model folder
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)  # 0: a free port chosen at start
    # 0 (auto): sized at start to the cores the service may run on and the engine's cost
    max_streams: int = Field(0, ge=0, le=1000)
    decoders: int = Field(0, ge=0, le=64)  # parallel decodes (threads); 0: auto
    cpu_threads: int = Field(0, ge=0, le=64)  # per decode; 0: auto
    vad_aggressiveness: int = Field(2, ge=0, le=3)
    interim_every_s: float = Field(1.0, ge=0.2, le=10)
    # Scheduling niceness of the service (0–19): media workers and the hub come first.
    nice: int = Field(10, ge=0, le=19)
    # A turn whose final would come later than this after the caller stops (the hub
    # waits 4 s for it) is not decoded: the stream is told "overloaded" at once; 0: never.
    max_final_delay_s: float = Field(3.0, ge=0, le=60)
    # Bias Whisper toward the hotline's words: the taxonomy's departments, routing.places,
    # the places the project knows and common complaint words (asr/vocabulary.py).
    vocabulary: bool = True
    # Of those, how many (most important first) the decoder is given as hotwords; 0: none,
    # only the mending below.  24 (18 fit): department names heard 0 -> 58 %, but CER on
    # ordinary speech +1.6 points and decodes 10 % slower (bench/asr_vocabulary.py).
    max_hotwords: int = Field(0, ge=0, le=100)
    # Mend near-homophones of every term of 3+ characters by pinyin after the decode.
    mend_homophones: bool = True


class RoutingSection(Section):
    """Understanding callers: an operator's own taxonomy (seat groups, departments,
    categories) instead of the shipped one; its domains must keep the shipped names."""

    taxonomy: Path | None = None
    # Understood less surely than this (0–1): the caller is asked once for details.
    low_confidence: float = Field(0.25, ge=0, le=1)
    # A model made by `hotline nlu train --history … --out DIR` (its domain model is used
    # instead of the shipped one); empty: the shipped model.
    model: Path | None = None
    # The city's three-level category tree (CSV level1,level2,level3); empty: the
    # shipped example (call_routing/trees/tipdm2020_taxonomy.csv).
    categories: Path | None = None
    # The city's own place names (one per line: districts, streets, communities,
    # estates), for slots and for the speech recogniser's vocabulary.
    places: Path | None = None

    @field_validator("taxonomy", "categories", "places")
    @classmethod
    def _file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        what = {
            "taxonomy": "your taxonomy TOML",
            "categories": "your category tree CSV (level1,level2,level3)",
            "places": "your place list (one name per line)",
        }[info.field_name or ""]
        if value is not None and not value.is_file():
            raise ValueError(f"no such file {value}: give the path of {what}")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                f"no such directory {value}: give the --out directory of `hotline nlu train`"
            )
        return value


class SupervisorSection(Section):
    grace_s: float = Field(30.0, ge=0, le=3600)
    restart_backoff_s: float = Field(0.5, gt=0, le=60)
    restart_backoff_max_s: float = Field(30.0, gt=0, le=600)


class RecordingsSection(Section):
    """Empty ``dir`` means ``<data_dir>/recordings``."""

    dir: Path | None = None


_REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
# Guangdong's working-day limits; praise has none, five days is ours.
_TICKET_DEADLINES = {"咨询": 2, "求助": 10, "建议": 10, "投诉": 15, "举报": 15, "表扬": 5}


class TicketsSection(Section):
    """Work orders: where they are stored, their numbers, deadlines and duplicates.

    Empty ``database_url`` means SQLite at ``<data_dir>/tickets.db``; PostgreSQL is
    ``postgresql+psycopg://user:password@host:5432/dbname``.
    """

    database_url: str = ""
    number_prefix: str = "GD12345"
    timezone: str = "Asia/Shanghai"  # which calendar day a time falls on
    # Working days to answer, by request type; the types not given keep these defaults.
    deadlines: dict[str, int] = _TICKET_DEADLINES
    builtin_calendar: bool = True  # China's announced public holidays shipped with the node
    holidays: list[date] = []  # further days off (dates, e.g. 2027-01-01)
    working_days: list[date] = []  # weekend days worked to make up for holidays (调休)
    duplicate_window_days: int = Field(7, ge=0, le=365)
    # Cosine similarity of character bigrams, 0…1: same address, content alike …
    duplicate_similarity: float = Field(0.4, gt=0, le=1)
    # … or same caller, content alike (0: every ticket of the same caller in the window)
    duplicate_caller_similarity: float = Field(0.25, ge=0, le=1)
    # The department directory and dispatch catalogue (TOML, see tickets/departments.py);
    # empty: the shipped example (tickets/directory/guangzhou.toml).
    departments: Path | None = None
    # Working days by category code or its prefix (CX01 = 5, or CX = 10), over the type's.
    category_deadlines: dict[str, int] = {}
    # 即将超期 when this many working days or fewer are left.
    due_soon_days: int = Field(1, ge=0, le=30)
    # Still overdue this many working days after it was marked: escalated once more.
    escalate_after_days: int = Field(3, ge=1, le=60)
    # How often the hub's deadline sweep runs (seconds); 0: never (hotline tickets sweep).
    sweep_every_s: float = Field(300.0, ge=0, le=86400)
    # Largest attachment a department may upload (MiB).
    attachment_max_mb: float = Field(10.0, gt=0, le=200)

    @field_validator("category_deadlines")
    @classmethod
    def _category_days(cls, value: dict[str, int]) -> dict[str, int]:
        for key, days in value.items():
            if not re.match(r"^[A-Z]{1,4}[0-9]*$", key):
                raise ValueError(
                    f"{key!r} is no category code; use a code like CX01 or a prefix CX"
                )
            if not 1 <= days <= 365:
                raise ValueError(f"{key} = {days}: give 1 to 365 working days")
        return value

    @field_validator("departments", mode="before")
    @classmethod
    def _departments(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # empty: the shipped example
        if isinstance(value, str | Path) and not Path(value).is_file():
            raise ValueError(
                f"no such file {value}: give the path of your department directory TOML "
                "(copy tickets/directory/guangzhou.toml), or leave it empty for the shipped example"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError(
                "must be empty (SQLite under node.data_dir), sqlite:///path/tickets.db or "
                "postgresql+psycopg://user:password@host:5432/dbname"
            )
        return value

    @field_validator("number_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[A-Z][A-Z0-9]{0,15}$", value):
            raise ValueError(
                "must be 1 to 16 capital letters and digits starting with a letter, e.g. GD12345"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a time zone name; use e.g. Asia/Shanghai") from None
        return value

    @field_validator("deadlines", mode="before")
    @classmethod
    def _deadlines(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        unknown = [key for key in value if key not in _REQUEST_TYPES]
        if unknown:
            raise ValueError(
                f"{', '.join(map(str, unknown))} is no request type; use "
                f"{', '.join(_REQUEST_TYPES)}"
            )
        return _TICKET_DEADLINES | value

    @field_validator("deadlines")
    @classmethod
    def _deadline_days(cls, value: dict[str, int]) -> dict[str, int]:
        for key, days in value.items():
            if not 1 <= days <= 365:
                raise ValueError(f"{key} = {days}: give 1 to 365 working days")
        return value

    @field_validator("working_days")
    @classmethod
    def _weekends(cls, value: list[date]) -> list[date]:
        weekdays = [str(day) for day in value if day.weekday() < 5]
        if weekdays:
            raise ValueError(
                f"{', '.join(weekdays)} is a weekday already; list only weekend days "
                "worked to make up for holidays"
            )
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> TicketsSection:
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise ValueError(
                f"tickets.holidays and tickets.working_days both list "
                f"{', '.join(map(str, both))}; keep each day in one of them"
            )
        return self


class WebSection(Section):
    """The consoles and REST API the hub serves (agents, supervisors, QA, admin)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8000
    session_hours: float = Field(12.0, gt=0, le=168)  # a login lasts this long
    login_attempts: int = Field(5, ge=1, le=100)  # wrong passwords before a lockout
    lockout_minutes: float = Field(15.0, gt=0, le=1440)
    secure_cookies: bool = False  # set behind HTTPS: cookies only over TLS
    qa_criteria: list[str] = ["开场规范", "倾听理解", "答复准确", "工单完整", "服务态度"]

    @field_validator("host")
    @classmethod
    def _ip(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value


class Settings(BaseSettings):
    """Everything a node needs, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    node: NodeSection = NodeSection()
    sip: SipSection = SipSection()
    workers: WorkersSection = WorkersSection()
    mqtt: MqttSection = MqttSection()
    prompts: PromptsSection = PromptsSection()
    listen: ListenSection = ListenSection()
    supervisor: SupervisorSection = SupervisorSection()
    asr: AsrSection = AsrSection()
    recordings: RecordingsSection = RecordingsSection()
    tickets: TicketsSection = TicketsSection()
    routing: RoutingSection = RoutingSection()
    acd: AcdSection = AcdSection()
    web: WebSection = WebSection()
    verification: VerificationSection = VerificationSection()
    analytics: AnalyticsSection = AnalyticsSection()
    agents: list[AgentSettings] = []
    seat_groups: dict[str, SeatGroupSettings] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.sip.listen == "0.0.0.0" and not self.sip.advertised_address:
            raise ValueError(
                "sip.listen is 0.0.0.0: set sip.advertised_address to the address "
                "phones and carriers reach this node on"
            )
        ids = [agent.id for agent in self.agents]
        twice = sorted({agent_id for agent_id in ids if ids.count(agent_id) > 1})
        if twice:
            raise ValueError(f"agents: id {', '.join(twice)} is listed twice; ids must be unique")
        if self.verification.enabled and not self.survey_trunk_uri:
            raise ValueError(
                "verification.enabled: survey calls need a trunk to dial citizens; set "
                "verification.trunk_uri (or acd.trunk_uri) to e.g. sip:{number}@gateway"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Command-line overrides (init) beat the environment, which beats the file.
        return (init_settings, env_settings)

    @property
    def recordings_dir(self) -> Path:
        return self.recordings.dir or self.node.data_dir / "recordings"

    @property
    def run_dir(self) -> Path:
        return self.node.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.node.data_dir / "logs"

    @property
    def prompts_dir(self) -> Path:
        return self.node.data_dir / "prompts"

    @property
    def tickets_database_url(self) -> str:
        if self.tickets.database_url:
            return self.tickets.database_url
        return f"sqlite:///{(self.node.data_dir / 'tickets.db').resolve()}"

    @property
    def survey_trunk_uri(self) -> str:
        """Where 回访 survey calls dial out (``verification.trunk_uri``, else the ACD's)."""
        return self.verification.trunk_uri or self.acd.trunk_uri

    @property
    def survey_caller_id(self) -> str:
        """The number citizens see on a survey call (the workers call from it)."""
        return (self.sip.numbers or ["12345"])[0]

    @property
    def local_broker(self) -> bool:
        return not self.mqtt.url
