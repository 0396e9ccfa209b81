"""The call catalog: finished calls indexed for QA review (质检), and their QA scores.

One row per call, filled from the call's ``manifest.json`` and the hub's
``transcript.json`` (:meth:`CallCatalog.add_from_directory`, idempotent: adding
again updates), or from every manifest under the recordings root
(:meth:`CallCatalog.reindex`, for calls recorded while the hub was down).  The
files stay where they are; the catalog keeps the directory relative to the
recordings root, and :meth:`CallCatalog.leg_path` is the only way from a call
and a leg name to a file (never a path taken from a request).

The tables live in the ticket database (``settings.tickets_database_url``) with
their own Alembic migrations (``recordings/migrations``) and version table, so
they migrate independently of the ticket schema.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    Float,
    ForeignKey,
    Select,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from recordings import manifest as manifests
from recordings.layout import CHAIN, MANIFEST
from recordings.layout import manifests as manifest_paths
from recordings.transcript import TRANSCRIPT
from storage.sql import DatabaseError, make_engine
from storage.sql import upgrade_database as upgrade
from storage.sqltypes import UtcDateTime

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "recordings_alembic_version"
MAX_SCORE = 10.0  # each QA criterion is scored 0–10
UNRATED = "未评价"  # CallQuery.rating: calls whose ticket has no rating yet


class UnknownCall(LookupError):
    """The catalog has no call with this id."""

    retryable = False


class RecordingRefused(PermissionError):
    """The leg is not in the call's manifest, or its file lies outside the recordings
    root (a crafted manifest, a symlink): nothing is served."""

    retryable = False


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float] = mapped_column(Float, index=True)
    caller: Mapped[str] = mapped_column(String(40), index=True)
    called: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[str] = mapped_column(String(100), index=True)
    seat_group: Mapped[str] = mapped_column(String(40), index=True)
    domain: Mapped[str] = mapped_column(String(40), index=True)
    request_type: Mapped[str] = mapped_column(String(10), index=True)
    emergency: Mapped[str | None] = mapped_column(String(10))
    ticket: Mapped[str] = mapped_column(String(40), index=True)
    end_reason: Mapped[str] = mapped_column(String(60))
    directory: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(10), index=True)
    legs: Mapped[list[str]] = mapped_column(JSON)
    qa_total: Mapped[float | None] = mapped_column(Float)
    indexed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScoreRow(Base):
    __tablename__ = "qa_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.call_id", ondelete="CASCADE", name="fk_qa_scores_call"), index=True
    )
    scores: Mapped[dict[str, float]] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    scored_by: Mapped[str] = mapped_column(String(100))
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True, slots=True)
class CatalogedCall:
    """One finished call as QA searches it; ``directory`` is relative to the
    recordings root; ``emergency`` the number it was handed to (110/119/120) or None;
    ``rating`` the citizen's rating of its ticket (好差评), None until rated."""

    call_id: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    caller: str
    called: str
    agent_id: str
    seat_group: str
    domain: str
    request_type: str
    emergency: str | None
    ticket: str
    end_reason: str
    directory: str
    status: str
    rating: str | None
    legs: tuple[str, ...]
    qa_total: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": self.duration_s,
            "caller": self.caller,
            "called": self.called,
            "agent_id": self.agent_id,
            "seat_group": self.seat_group,
            "domain": self.domain,
            "request_type": self.request_type,
            "emergency": self.emergency,
            "ticket": self.ticket,
            "end_reason": self.end_reason,
            "directory": self.directory,
            "status": self.status,
            "rating": self.rating,
            "legs": list(self.legs),
            "qa_total": self.qa_total,
        }


@dataclass(frozen=True, slots=True)
class QaScore:
    """A QA reviewer's score of a call: 0–10 per criterion, their sum and a comment."""

    id: int
    call_id: str
    scores: dict[str, float]
    total: float
    comment: str
    scored_by: str
    scored_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "call_id": self.call_id,
            "scores": dict(self.scores),
            "total": self.total,
            "comment": self.comment,
            "scored_by": self.scored_by,
            "scored_at": self.scored_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters for :meth:`CallCatalog.find`; ``None`` or empty means any.
    ``rating`` is a rating (满意 …) or :data:`UNRATED`; ``emergency`` True for calls
    handed to an emergency number, False for the others."""

    started_from: datetime | None = None
    started_before: datetime | None = None
    agent_id: str = ""
    seat_group: str = ""
    domain: str = ""
    request_type: str = ""
    rating: str = ""
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    emergency: bool | None = None
    caller: str = ""
    ticket: str = ""
    scored: bool | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class LegIntegrity:
    leg: str
    file: str
    sha256: str
    problem: str = ""  # empty: the file's hash matches the manifest


@dataclass(frozen=True, slots=True)
class Integrity:
    """The files of a call checked against its manifest, and the manifest against the
    hash chain (``chained``: True when its latest chain entry matches, False when it
    does not, None when the chain does not list it)."""

    call_id: str
    legs: tuple[LegIntegrity, ...]
    problems: tuple[str, ...]
    chained: bool | None
    manifest_status: str

    @property
    def ok(self) -> bool:
        return not self.problems and self.chained is not False

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "ok": self.ok,
            "problems": list(self.problems),
            "chained": self.chained,
            "manifest_status": self.manifest_status,
            "legs": [
                {"leg": g.leg, "file": g.file, "sha256": g.sha256, "ok": not g.problem}
                | ({"problem": g.problem} if g.problem else {})
                for g in self.legs
            ],
        }


@dataclass
class ReindexResult:
    added: int = 0
    skipped: int = 0  # still recording, or already known with skip_known
    failed: list[str] = field(default_factory=list)  # "<manifest>: why"


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the catalog's tables up to the newest migration, or to ``revision``."""
    upgrade(target, MIGRATIONS, revision, DatabaseError, "call catalog database")


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(
    manifest: manifests.Manifest, transcript: Mapping[str, Any], directory: str
) -> dict[str, Any]:
    """The catalog columns of a call, from its manifest and (maybe empty) transcript."""
    started = _parse_time(manifest.started_at)
    if started is None:
        raise ValueError("the manifest has no started_at")
    ended = _parse_time(manifest.ended_at)
    if ended is not None:
        duration = (ended - started).total_seconds()
    else:
        duration = max((g.offset_s + g.duration_s for g in manifest.legs), default=0.0)
    understanding = transcript.get("understanding") or {}
    emergency = str(transcript.get("emergency") or understanding.get("emergency") or "")
    return {
        "started_at": started,
        "ended_at": ended,
        "duration_s": round(max(duration, 0.0), 3),
        "caller": manifest.caller or str(transcript.get("caller") or ""),
        "called": manifest.called,
        "agent_id": manifest.agent,
        "seat_group": str(transcript.get("seat_group") or understanding.get("seat_group") or ""),
        "domain": str(understanding.get("domain") or ""),
        "request_type": str(understanding.get("request_type") or ""),
        "emergency": emergency or None,
        "ticket": manifest.ticket or str(transcript.get("ticket") or ""),
        "end_reason": manifest.end_reason or str(transcript.get("end_reason") or ""),
        "directory": directory,
        "status": manifest.status,
        "legs": [g.leg for g in manifest.legs],
    }


def _to_call(row: CallRow) -> CatalogedCall:
    return CatalogedCall(
        call_id=row.call_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_s=row.duration_s,
        caller=row.caller,
        called=row.called,
        agent_id=row.agent_id,
        seat_group=row.seat_group,
        domain=row.domain,
        request_type=row.request_type,
        emergency=row.emergency,
        ticket=row.ticket,
        end_reason=row.end_reason,
        directory=row.directory,
        status=row.status,
        rating=row.rating,
        legs=tuple(row.legs or ()),
        qa_total=row.qa_total,
    )


def _to_score(row: ScoreRow) -> QaScore:
    return QaScore(
        id=row.id,
        call_id=row.call_id,
        scores=dict(row.scores),
        total=row.total,
        comment=row.comment,
        scored_by=row.scored_by,
        scored_at=row.scored_at,
    )


def _filtered(statement: Select[Any], query: CallQuery) -> Select[Any]:
    conditions = []
    if query.started_from is not None:
        conditions.append(CallRow.started_at >= query.started_from)
    if query.started_before is not None:
        conditions.append(CallRow.started_at < query.started_before)
    for column, value in (
        (CallRow.agent_id, query.agent_id),
        (CallRow.seat_group, query.seat_group),
        (CallRow.domain, query.domain),
        (CallRow.request_type, query.request_type),
        (CallRow.caller, query.caller),
        (CallRow.ticket, query.ticket),
    ):
        if value:
            conditions.append(column == value)
    if query.rating == UNRATED:
        conditions.append(CallRow.rating.is_(None))
    elif query.rating:
        conditions.append(CallRow.rating == query.rating)
    if query.min_duration_s is not None:
        conditions.append(CallRow.duration_s >= query.min_duration_s)
    if query.max_duration_s is not None:
        conditions.append(CallRow.duration_s <= query.max_duration_s)
    if query.emergency is True:
        conditions.append(CallRow.emergency.is_not(None))
    elif query.emergency is False:
        conditions.append(CallRow.emergency.is_(None))
    if query.scored is True:
        conditions.append(CallRow.qa_total.is_not(None))
    elif query.scored is False:
        conditions.append(CallRow.qa_total.is_(None))
    return statement.where(*conditions)


class CallCatalog:
    """Finished calls and their QA scores in one database; thread-safe (a session
    per operation).  ``clock`` gives the time rows are indexed at."""

    def __init__(
        self,
        url: str,
        migrate: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self.clock = clock
        self.engine = make_engine(url)
        if migrate:
            upgrade_database(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CallCatalog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # -- indexing ----------------------------------------------------------------

    def add_from_directory(
        self, directory: Path, recordings_root: Path, rating: str | None = None
    ) -> CatalogedCall:
        """Index (or re-index) the call recorded in ``directory`` from its manifest and,
        when there is one, its transcript.  ``rating`` sets the ticket's rating; when
        None a stored rating and QA total are kept.  ``ValueError`` for a directory
        outside the root or an unreadable manifest."""
        root = recordings_root.resolve()
        resolved = directory.resolve()
        if not resolved.is_relative_to(root):
            raise ValueError(f"{directory} is not under the recordings root {recordings_root}")
        try:
            manifest = manifests.read(resolved)
        except (OSError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{directory / MANIFEST}: unreadable manifest ({exc})") from None
        transcript: dict[str, Any] = {}
        if (resolved / TRANSCRIPT).exists():
            try:
                loaded = json.loads((resolved / TRANSCRIPT).read_text(encoding="utf-8"))
                transcript = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as exc:
                log.warning("unreadable transcript in %s: %s", directory, exc)
        values = _entry(manifest, transcript, resolved.relative_to(root).as_posix())
        with self._transaction() as session:
            row = session.get(CallRow, manifest.call_id)
            if row is None:
                row = CallRow(call_id=manifest.call_id, rating=rating, qa_total=None)
                session.add(row)
            elif rating is not None:
                row.rating = rating
            for name, value in values.items():
                setattr(row, name, value)
            row.indexed_at = self.clock()
            session.flush()
            return _to_call(row)

    def reindex(
        self,
        recordings_root: Path,
        skip_known: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ReindexResult:
        """Index every finalised call under ``recordings_root`` (calls still being
        recorded are skipped); ``skip_known`` leaves calls already in the catalog as
        they are (a fast start-up).  ``progress(done, total)`` after each manifest."""
        paths = manifest_paths(recordings_root)
        known: set[str] = set()
        if skip_known:
            with self._sessions() as session:
                known = set(session.scalars(select(CallRow.call_id)))
        result = ReindexResult()
        for done, path in enumerate(paths, 1):
            try:
                recording = manifests.read(path.parent).status == manifests.RECORDING
                if path.parent.name in known or recording:
                    result.skipped += 1
                else:
                    self.add_from_directory(path.parent, recordings_root)
                    result.added += 1
            except (OSError, ValueError, TypeError) as exc:
                result.failed.append(f"{path}: {exc}")
            if progress is not None:
                progress(done, len(paths))
        return result

    def set_rating(self, ticket: str, rating: str | None) -> int:
        """The citizen rated ``ticket`` (好差评): every call of that ticket gets the
        rating; how many calls changed."""
        if not ticket:
            return 0
        with self._transaction() as session:
            changed = session.execute(
                update(CallRow).where(CallRow.ticket == ticket).values(rating=rating)
            )
            return int(getattr(changed, "rowcount", 0) or 0)

    # -- reading -----------------------------------------------------------------

    def get(self, call_id: str) -> CatalogedCall:
        """The call; ``UnknownCall`` if the catalog does not have it."""
        with self._sessions() as session:
            row = session.get(CallRow, call_id)
            if row is None:
                raise UnknownCall(f"there is no call {call_id}")
            return _to_call(row)

    def find(self, query: CallQuery | None = None) -> list[CatalogedCall]:
        """Calls matching ``query``, newest first."""
        query = query or CallQuery()
        statement = _filtered(select(CallRow), query)
        statement = statement.order_by(CallRow.started_at.desc(), CallRow.call_id.desc())
        statement = statement.limit(query.limit).offset(query.offset)
        with self._sessions() as session:
            return [_to_call(row) for row in session.scalars(statement)]

    def count(self, query: CallQuery | None = None) -> int:
        """How many calls match ``query`` (its limit and offset ignored)."""
        statement = _filtered(select(func.count()).select_from(CallRow), query or CallQuery())
        with self._sessions() as session:
            return int(session.scalar(statement) or 0)

    def choices(self) -> dict[str, list[str]]:
        """The distinct agents, seat groups, domains and request types catalogued (for
        the filter menus)."""
        columns = {
            "agent_id": CallRow.agent_id,
            "seat_group": CallRow.seat_group,
            "domain": CallRow.domain,
            "request_type": CallRow.request_type,
        }
        with self._sessions() as session:
            return {
                name: sorted(v for v in session.scalars(select(column).distinct()) if v)
                for name, column in columns.items()
            }

    # -- files -------------------------------------------------------------------

    def directory(self, call: CatalogedCall, recordings_root: Path) -> Path:
        """The call's directory; ``RecordingRefused`` if it resolves outside the root."""
        root = recordings_root.resolve()
        resolved = (root / call.directory).resolve()
        if not resolved.is_relative_to(root) or resolved == root:
            raise RecordingRefused(f"{call.call_id}: directory outside the recordings root")
        return resolved

    def leg_path(self, call_id: str, leg: str, recordings_root: Path) -> Path:
        """The file of ``leg`` of the call, as its manifest names it.  ``UnknownCall``,
        or ``RecordingRefused`` when the manifest does not list the leg or the file
        resolves outside the call's directory (``../``, absolute names, symlinks)."""
        call = self.get(call_id)
        directory = self.directory(call, recordings_root)
        try:
            listed = {g.leg: g.file for g in manifests.read(directory).legs}
        except (OSError, ValueError, TypeError) as exc:
            raise RecordingRefused(f"{call_id}: unreadable manifest ({exc})") from None
        if leg not in listed:
            raise RecordingRefused(f"{call_id}: no leg {leg!r} in the manifest")
        name = listed[leg]
        path = (directory / name).resolve()
        if Path(name).is_absolute() or not path.is_relative_to(directory) or not path.is_file():
            raise RecordingRefused(f"{call_id}: {name!r} is not a file of this call")
        return path

    def integrity(self, call_id: str, recordings_root: Path) -> Integrity:
        """Every file of the call hashed and compared with the manifest, and the
        manifest compared with its latest entry in the hash chain."""
        call = self.get(call_id)
        directory = self.directory(call, recordings_root)
        try:
            manifest = manifests.read(directory)
        except (OSError, ValueError, TypeError) as exc:
            return Integrity(call_id, (), (f"{MANIFEST}: unreadable ({exc})",), None, "")
        legs = []
        for g in manifest.legs:
            path = (directory / g.file).resolve()
            problem = ""
            if not path.is_relative_to(directory):
                problem = "outside the call's directory"
            elif not path.is_file():
                problem = "missing"
            elif not g.sha256:
                problem = "no SHA-256 in the manifest"
            elif manifests.sha256_file(path) != g.sha256:
                problem = "SHA-256 does not match the manifest"
            legs.append(LegIntegrity(g.leg, g.file, g.sha256, problem))
        problems = tuple(f"{g.file}: {g.problem}" for g in legs if g.problem)
        chained = _chained(recordings_root.resolve(), directory / MANIFEST)
        if chained is False:
            problems += (f"{MANIFEST}: changed after it was added to the hash chain",)
        return Integrity(call_id, tuple(legs), problems, chained, manifest.status)

    # -- QA scores ---------------------------------------------------------------

    def save_score(
        self,
        call_id: str,
        scores: Mapping[str, float],
        comment: str,
        scored_by: str,
        at: datetime | None = None,
    ) -> QaScore:
        """Store a QA score of the call (every save is kept: the latest counts, the
        earlier ones stay as history).  ``UnknownCall``; ``ValueError`` for no
        criteria or a score outside 0–10."""
        if not scores:
            raise ValueError("score at least one criterion")
        clean: dict[str, float] = {}
        for name, value in scores.items():
            number = float(value)
            if not name.strip() or not math.isfinite(number) or not 0 <= number <= MAX_SCORE:
                raise ValueError(f"{name!r}: a score is a number from 0 to {MAX_SCORE:g}")
            clean[name.strip()] = number
        total = round(sum(clean.values()), 2)
        with self._transaction() as session:
            call = session.get(CallRow, call_id, with_for_update=True)
            if call is None:
                raise UnknownCall(f"there is no call {call_id}")
            row = ScoreRow(
                call_id=call_id,
                scores=clean,
                total=total,
                comment=comment.strip(),
                scored_by=scored_by,
                scored_at=at or self.clock(),
            )
            session.add(row)
            call.qa_total = total
            session.flush()
            return _to_score(row)

    def scores(self, call_id: str) -> list[QaScore]:
        """The call's QA scores, newest first."""
        statement = (
            select(ScoreRow)
            .where(ScoreRow.call_id == call_id)
            .order_by(ScoreRow.scored_at.desc(), ScoreRow.id.desc())
        )
        with self._sessions() as session:
            return [_to_score(row) for row in session.scalars(statement)]


def _chained(root: Path, manifest_path: Path) -> bool | None:
    """Whether the manifest's SHA-256 matches its latest entry in the hash chain."""
    chain = root / CHAIN
    if not chain.exists():
        return None
    relative = manifest_path.relative_to(root).as_posix()
    latest = None
    with chain.open(encoding="utf-8") as handle:
        for line in handle:
            if relative in line:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("manifest") == relative:
                    latest = entry.get("sha256")
    if latest is None:
        return None
    return hashlib.sha256(manifest_path.read_bytes()).hexdigest() == latest
