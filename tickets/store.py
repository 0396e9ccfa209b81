"""Tickets in SQL (SQLAlchemy 2): SQLite by default, PostgreSQL by URL.

The schema is made only by the Alembic migrations in ``tickets/migrations``
(:func:`upgrade_database`, run when a store opens).  Every change to a ticket is
written with its audit entries in one transaction; ticket numbers come from a
per-day sequence row bumped by one atomic upsert, safe with many writers.

A :class:`ChangeListener` given to the store hears every audit entry inside the
transaction that writes it, so that what it writes there (the node's event
outbox) commits or rolls back with the change itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Engine,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
    sessionmaker,
)

from sip_config.settings import Settings
from storage import sql
from storage.sqltypes import UtcDateTime
from tickets.callbacks import callback_done, request_callback
from tickets.duplicates import DuplicateMatch, address_key, find_duplicate, is_anonymous
from tickets.lifecycle import Action, transition
from tickets.model import (
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    AuditEntry,
    CallbackReason,
    Channel,
    ExtensionRequest,
    Rating,
    RequestType,
    Status,
    Ticket,
    TicketDraft,
    format_number,
)
from tickets.policy import TicketPolicy

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "tickets_alembic_version"
CANDIDATES_AT_MOST = 50  # the latest tickets of a caller or address a new one is compared with


class StoreError(Exception):
    """The ticket store cannot be used (bad URL, unreachable database)."""

    retryable = True


class UnknownTicket(LookupError):
    """No ticket has this number."""

    retryable = False


class ConcurrentChange(Exception):
    """Someone changed the ticket since it was read; read it again and redo the change."""

    retryable = True


class Base(DeclarativeBase):
    pass


class TicketRow(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    caller_number: Mapped[str] = mapped_column(String(40), index=True)
    caller_name: Mapped[str] = mapped_column(String(100))
    confidential: Mapped[bool] = mapped_column(Boolean)
    request_type: Mapped[str] = mapped_column(String(10), index=True)
    domain: Mapped[str] = mapped_column(String(40), index=True)
    category_code: Mapped[str] = mapped_column(String(20))
    lead_department: Mapped[str] = mapped_column(String(100))
    co_departments: Mapped[list[str]] = mapped_column(JSON)
    address: Mapped[str] = mapped_column(Text)
    # normalise_address(address): duplicate candidates are looked up by it
    address_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    content: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    transcript: Mapped[str] = mapped_column(Text)
    call_id: Mapped[str] = mapped_column(String(100), index=True)
    recording_dir: Mapped[str] = mapped_column(Text)
    emergency_number: Mapped[str] = mapped_column(String(10))
    needs_agent_review: Mapped[bool] = mapped_column(Boolean)
    owner: Mapped[str] = mapped_column(String(100))
    linked_to: Mapped[str] = mapped_column(String(40), index=True)
    reply: Mapped[str] = mapped_column(Text)
    rating: Mapped[str | None] = mapped_column(String(10))
    extension: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    callback_number: Mapped[str] = mapped_column(String(40), index=True, server_default="")
    callback_reason: Mapped[str] = mapped_column(String(20), server_default="")
    callback_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)

    audit: Mapped[list[AuditRow]] = relationship(
        back_populates="ticket", order_by="AuditRow.seq", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("number", name="uq_tickets_number"),)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declaration)


class AuditRow(Base):
    __tablename__ = "ticket_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_audit_ticket")
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, str]] = mapped_column(JSON)

    ticket: Mapped[TicketRow] = relationship(back_populates="audit")

    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_ticket_audit_seq"),)


class ExampleRow(Base):
    """An agent's correction of what the understanding made of a request
    (``tickets.examples``): the text, the model's labels (``predicted_*``, kept from
    the first correction), the labels the agent set, who and when."""

    __tablename__ = "ticket_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_examples_ticket"),
        index=True,
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    predicted_request_type: Mapped[str] = mapped_column(String(10))
    predicted_domain: Mapped[str] = mapped_column(String(100))
    predicted_category_code: Mapped[str] = mapped_column(String(50))
    predicted_department: Mapped[str] = mapped_column(String(100))
    request_type: Mapped[str] = mapped_column(String(10))
    domain: Mapped[str] = mapped_column(String(100))
    category_code: Mapped[str] = mapped_column(String(50))
    department: Mapped[str] = mapped_column(String(100))


class SequenceRow(Base):
    """The last number given out per prefix and day."""

    __tablename__ = "ticket_sequences"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


# Columns copied one to one between Ticket and TicketRow.
_PLAIN = (
    "number",
    "created_at",
    "updated_at",
    "due_date",
    "caller_number",
    "caller_name",
    "confidential",
    "domain",
    "category_code",
    "lead_department",
    "address",
    "content",
    "summary",
    "transcript",
    "call_id",
    "recording_dir",
    "emergency_number",
    "needs_agent_review",
    "owner",
    "linked_to",
    "reply",
    "closed_at",
    "callback_number",
    "callback_done_at",
)


def _to_row(ticket: Ticket, row: TicketRow) -> None:
    for name in _PLAIN:
        setattr(row, name, getattr(ticket, name))
    row.status = ticket.status.value
    row.channel = ticket.channel.value
    row.request_type = ticket.request_type.value
    row.co_departments = list(ticket.co_departments)
    row.rating = ticket.rating.value if ticket.rating else None
    row.callback_reason = str(ticket.callback_reason)
    row.address_key = address_key(ticket.address)
    ext = ticket.extension
    row.extension = (
        None
        if ext is None
        else {
            "requested_at": ext.requested_at.astimezone(UTC).isoformat(),
            "requested_by": ext.requested_by,
            "working_days": ext.working_days,
            "reason": ext.reason,
        }
    )


def _audit_row(entry: AuditEntry, seq: int) -> AuditRow:
    return AuditRow(
        seq=seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        from_status=entry.from_status.value if entry.from_status else None,
        to_status=entry.to_status.value,
        reason=entry.reason,
        details=dict(entry.details),
    )


def _to_ticket(row: TicketRow, with_audit: bool = True) -> Ticket:
    ext = row.extension
    audit = tuple(
        AuditEntry(
            at=a.at,
            actor=a.actor,
            action=a.action,
            from_status=Status(a.from_status) if a.from_status else None,
            to_status=Status(a.to_status),
            reason=a.reason,
            details=dict(a.details or {}),
        )
        for a in (row.audit if with_audit else ())
    )
    return Ticket(
        **{name: getattr(row, name) for name in _PLAIN},
        status=Status(row.status),
        channel=Channel(row.channel),
        request_type=RequestType(row.request_type),
        co_departments=tuple(row.co_departments or ()),
        rating=Rating(row.rating) if row.rating else None,
        callback_reason=CallbackReason(row.callback_reason) if row.callback_reason else "",
        extension=None
        if ext is None
        else ExtensionRequest(
            datetime.fromisoformat(ext["requested_at"]),
            ext["requested_by"],
            int(ext["working_days"]),
            ext["reason"],
        ),
        audit=audit,
    )


def _callback_due(statement: Select[tuple[TicketRow]]) -> Select[tuple[TicketRow]]:
    """Only tickets whose callback task is waiting (as :attr:`Ticket.callback_due`)."""
    return statement.where(
        TicketRow.callback_number != "",
        TicketRow.callback_done_at.is_(None),
        TicketRow.status.not_in([s.value for s in FINISHED_STATUSES]),
    )


@dataclass(frozen=True, slots=True)
class TicketQuery:
    """Filters for :meth:`TicketStore.find`; ``None`` or empty means any."""

    status: Status | None = None
    domain: str = ""
    request_type: RequestType | None = None
    caller_number: str = ""
    created_from: datetime | None = None
    created_before: datetime | None = None
    overdue_on: date | None = None  # open and due before this day
    callback_due: bool = False  # only tickets whose callback task is still waiting
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Intake:
    """A new ticket and, when it repeats an earlier one, the match it was linked to."""

    ticket: Ticket
    duplicate: DuplicateMatch | None


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see :func:`storage.sql.make_engine`); ``StoreError`` if unusable."""
    return sql.make_engine(url, StoreError)


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the ticket schema up to the newest migration (creates it when empty),
    or to ``revision``."""
    sql.upgrade_database(target, MIGRATIONS, revision, StoreError, "ticket database")


class ChangeListener(Protocol):
    """Hears ticket changes from inside the store's transactions."""

    def changed(self, session: Session, ticket: Ticket, entries: Sequence[AuditEntry]) -> None:
        """``ticket`` as written, with ``entries`` its audit entries new in this
        transaction (a new ticket: all of them).  Runs inside the transaction:
        write with ``session``; an exception rolls the change back."""

    def committed(self) -> None:
        """A transaction that called :meth:`changed` has committed."""


class TicketStore:
    """Tickets in one database; thread-safe (a session per operation).

    ``on_change`` (settable later) hears every change in its own transaction."""

    def __init__(
        self,
        url: str,
        policy: TicketPolicy | None = None,
        migrate: bool = True,
        on_change: ChangeListener | None = None,
    ) -> None:
        self.url = url
        self.policy = policy or TicketPolicy()
        self.on_change = on_change
        self.engine = make_engine(url)
        if migrate:
            upgrade_database(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketStore:
        """The node's store (``tickets.database_url``, SQLite under the data directory
        by default), migrated to the newest schema."""
        return cls(settings.tickets_database_url, TicketPolicy.from_settings(settings.tickets))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> TicketStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            with session.begin():
                yield session
            if session.info.pop("ticket_changed", False) and self.on_change is not None:
                self.on_change.committed()

    def _changed(self, session: Session, ticket: Ticket, entries: Sequence[AuditEntry]) -> None:
        if self.on_change is not None and entries:
            self.on_change.changed(session, ticket, entries)
            session.info["ticket_changed"] = True

    # -- numbers -----------------------------------------------------------------

    def next_number(self, session: Session, day: date) -> str:
        """Bump the day's sequence in the caller's transaction and format the number."""
        prefix = self.policy.number_prefix
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = (
            insert(SequenceRow)
            .values(prefix=prefix, day=day, last=1)
            .on_conflict_do_update(
                index_elements=["prefix", "day"], set_={"last": SequenceRow.last + 1}
            )
            .returning(SequenceRow.last)
        )
        return format_number(prefix, day, session.execute(statement).scalar_one())

    # -- writing -----------------------------------------------------------------

    def create(self, draft: TicketDraft, now: datetime) -> Ticket:
        """A new draft ticket with the next number of ``now``'s day."""
        with self._transaction() as session:
            return self._insert(session, draft, now)

    def _insert(self, session: Session, draft: TicketDraft, now: datetime) -> Ticket:
        deadlines = self.policy.deadlines
        number = self.next_number(session, deadlines.local_day(now))
        ticket = Ticket.from_draft(draft, number, now, deadlines.due_date(draft.request_type, now))
        row = TicketRow()
        _to_row(ticket, row)
        row.audit = [_audit_row(entry, seq) for seq, entry in enumerate(ticket.audit)]
        session.add(row)
        session.flush()
        self._changed(session, ticket, ticket.audit)
        return ticket

    def intake(self, draft: TicketDraft, now: datetime, link_duplicates: bool = True) -> Intake:
        """A new draft ticket from a call or form; when it repeats a recent ticket
        (same caller, or same address and similar content) it is linked to it at
        once instead of waiting to be dispatched again."""
        with self._transaction() as session:
            ticket = self._insert(session, draft, now)
            since = now - self.policy.duplicates.window
            candidates = self._candidates(session, ticket, since)
            match = find_duplicate(ticket, candidates, self.policy.duplicates)
            if match is None or not link_duplicates:
                return Intake(ticket, match)
            linked = transition(
                ticket,
                Action.LINK,
                "system",
                now,
                linked_to=match.number,
                reason=match.reason,
                note=f"similarity {match.similarity:.2f}",
                policy=self.policy.deadlines,
            )
            self._write(session, linked)
            return Intake(linked, match)

    def transition(
        self, number: str, action: Action | str, actor: str, now: datetime, **options: Any
    ) -> Ticket:
        """Apply :func:`tickets.lifecycle.transition` (same keyword options) and save the
        ticket with its new audit entry in one transaction; ``TransitionError`` if refused."""
        with self._transaction() as session:
            ticket = _to_ticket(self._row(session, number, lock=True))
            changed = transition(
                ticket, action, actor, now, policy=self.policy.deadlines, **options
            )
            self._write(session, changed)
            return changed

    # -- callback tasks ------------------------------------------------------------

    def request_callback(
        self,
        number: str,
        callback_number: str,
        reason: CallbackReason | str,
        at: datetime,
        by: str = "system",
    ) -> Ticket:
        """Give an existing ticket a callback task (the caller pressed 1 while queued
        after the draft was written), audited; asking again for the same task changes
        nothing.  ``UnknownTicket``, or ``CallbackError`` (bad number or reason, a
        finished ticket)."""
        with self._transaction() as session:
            ticket = _to_ticket(self._row(session, number, lock=True))
            changed = request_callback(ticket, callback_number, reason, by, at)
            if changed is not ticket:
                self._write(session, changed)
            return changed

    def callback_done(self, number: str, at: datetime, by: str, note: str = "") -> Ticket:
        """Mark the ticket's callback task done at ``at`` by ``by``, audited.
        ``UnknownTicket``, or ``CallbackError`` (no task, or already done)."""
        with self._transaction() as session:
            ticket = _to_ticket(self._row(session, number, lock=True))
            changed = callback_done(ticket, by, at, note)
            self._write(session, changed)
            return changed

    def callbacks_due(self, limit: int = 100, with_audit: bool = False) -> list[Ticket]:
        """Tickets whose callback task is waiting (a number, not yet called back, the
        ticket not finished), oldest first: the order to call them."""
        statement = (
            _callback_due(select(TicketRow))
            .order_by(TicketRow.created_at, TicketRow.id)
            .limit(limit)
        )
        if with_audit:
            statement = statement.options(selectinload(TicketRow.audit))
        with self._sessions() as session:
            return [_to_ticket(row, with_audit) for row in session.scalars(statement)]

    def save(
        self, ticket: Ticket, also: Callable[[Session, TicketRow], None] | None = None
    ) -> Ticket:
        """Store a ticket changed in memory (by :func:`transition`): its fields and the
        audit entries not yet stored.  ``ConcurrentChange`` if the stored ticket moved on.
        ``also`` writes more in the same transaction, after the ticket (with its row):
        an exception from it rolls the change back (``tickets.examples`` records an
        agent's correction this way)."""
        with self._transaction() as session:
            row = self._write(session, ticket)
            if also is not None:
                also(session, row)
        return ticket

    def _write(self, session: Session, ticket: Ticket) -> TicketRow:
        row = self._row(session, ticket.number, lock=True)
        stored = len(row.audit)
        new = ticket.audit[stored:]
        last = row.audit[-1] if row.audit else None
        known = ticket.audit[stored - 1] if 0 < stored <= len(ticket.audit) else None
        same_past = (last is None and stored == 0) or (
            last is not None
            and known is not None
            and (last.action, last.actor, last.at, last.to_status)
            == (known.action, known.actor, known.at, known.to_status.value)
        )
        if not same_past or (new and new[0].from_status != Status(row.status)):
            raise ConcurrentChange(
                f"{ticket.number} was changed by someone else; read it again and redo the change"
            )
        _to_row(ticket, row)
        row.audit.extend(_audit_row(entry, seq) for seq, entry in enumerate(new, start=stored))
        session.flush()
        self._changed(session, ticket, new)
        return row

    # -- reading -----------------------------------------------------------------

    def _row(self, session: Session, number: str, lock: bool = False) -> TicketRow:
        query = select(TicketRow).where(TicketRow.number == number.strip())
        if lock:
            query = query.with_for_update()
        row = session.scalars(query.options(selectinload(TicketRow.audit))).one_or_none()
        if row is None:
            raise UnknownTicket(f"there is no ticket {number}")
        return row

    def get(self, number: str) -> Ticket:
        """The ticket with its whole audit trail; ``UnknownTicket`` if there is none."""
        with self._sessions() as session:
            return _to_ticket(self._row(session, number))

    def find(self, query: TicketQuery | None = None, with_audit: bool = False) -> list[Ticket]:
        """Tickets matching ``query``, newest first."""
        query = query or TicketQuery()
        statement = select(TicketRow)
        if query.status is not None:
            statement = statement.where(TicketRow.status == query.status.value)
        if query.domain:
            statement = statement.where(TicketRow.domain == query.domain)
        if query.request_type is not None:
            statement = statement.where(TicketRow.request_type == query.request_type.value)
        if query.caller_number:
            statement = statement.where(TicketRow.caller_number == query.caller_number)
        if query.created_from is not None:
            statement = statement.where(TicketRow.created_at >= query.created_from)
        if query.created_before is not None:
            statement = statement.where(TicketRow.created_at < query.created_before)
        if query.overdue_on is not None:
            statement = statement.where(
                TicketRow.due_date < query.overdue_on,
                TicketRow.status.in_([s.value for s in RUNNING_STATUSES]),
            )
        if query.callback_due:
            statement = _callback_due(statement)
        statement = statement.order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        statement = statement.limit(query.limit).offset(query.offset)
        if with_audit:
            statement = statement.options(selectinload(TicketRow.audit))
        with self._sessions() as session:
            return [_to_ticket(row, with_audit) for row in session.scalars(statement)]

    def _recent(self, session: Session, since: datetime, exclude: str = "") -> Sequence[Ticket]:
        statement = select(TicketRow).where(
            TicketRow.created_at >= since, TicketRow.number != exclude
        )
        return [_to_ticket(row, with_audit=False) for row in session.scalars(statement)]

    def _candidates(self, session: Session, ticket: Ticket, since: datetime) -> Sequence[Ticket]:
        """The tickets of the window that ``ticket`` could repeat: only those with its
        caller or its address can (:func:`~tickets.duplicates.find_duplicate`), and
        both are indexed, so intake costs the same however many tickets the window holds."""
        alike = []
        caller = ticket.caller_number.strip()
        if not is_anonymous(caller):
            alike.append(TicketRow.caller_number == caller)
        if key := address_key(ticket.address):
            alike.append(TicketRow.address_key == key)
        if not alike:
            return []
        statement = (
            select(TicketRow)
            .where(TicketRow.created_at >= since, TicketRow.number != ticket.number, or_(*alike))
            .order_by(TicketRow.created_at.desc())
            .limit(CANDIDATES_AT_MOST)  # one number calling all day (a switchboard) stays cheap
        )
        return [_to_ticket(row, with_audit=False) for row in session.scalars(statement)]

    def recent(self, since: datetime) -> Sequence[Ticket]:
        """Tickets created since ``since`` (candidates for duplicate detection)."""
        with self._sessions() as session:
            return self._recent(session, since)
