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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, Select, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from sip_config.settings import Settings
from storage import sql
from tickets.attachments import Attachment, StoredFile
from tickets.callbacks import callback_done, request_callback
from tickets.duplicates import DuplicateMatch, address_key, find_duplicate, is_anonymous
from tickets.lifecycle import Action, transition
from tickets.model import (
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    AuditEntry,
    CallbackReason,
    Channel,
    RequestType,
    Status,
    Ticket,
    TicketDraft,
    format_number,
)
from tickets.policy import TicketPolicy
from tickets.rows import (
    AttachmentRow,
    AuditRow,
    Base,
    DepartmentRow,
    ExampleRow,
    SequenceRow,
    TicketRow,
    audit_row,
    to_row,
    to_ticket,
)
from tickets.sweep import SweepReport, sweep_ticket

__all__ = [
    "Attachment",
    "AttachmentRow",
    "AuditRow",
    "Base",
    "ChangeListener",
    "ConcurrentChange",
    "DepartmentRow",
    "ExampleRow",
    "Intake",
    "SequenceRow",
    "StoreError",
    "TicketQuery",
    "TicketRow",
    "TicketStore",
    "UnknownTicket",
]

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
    statuses: tuple[Status, ...] = ()  # any of these
    departments: tuple[str, ...] = ()  # one of them has a part in it (主办, 协办, 吹哨)
    lead_only: bool = False  # … as its lead department
    category_code: str = ""  # this code or one below it (CX01 under CX)
    category_path: str = ""  # this path of the tree or one below it (城乡建设/物业管理)
    channel: Channel | None = None
    due_by: date | None = None  # still running and due on or before this day (即将超期)
    supervised: bool = False  # only 督办件
    duplicates: bool = False  # only repeats linked to another ticket, or tickets merged into
    verification_review: bool = False  # only those awaiting the centre's 回访复核
    text: str = ""  # in the number, summary, content or address
    limit: int = 100
    offset: int = 0


def _more_filters(
    statement: Select[tuple[TicketRow]], query: TicketQuery
) -> Select[tuple[TicketRow]]:
    """The 工单管理 console's filters of ``query`` (see :class:`TicketQuery`)."""
    if query.statuses:
        statement = statement.where(TicketRow.status.in_([s.value for s in query.statuses]))
    if query.departments:
        parts = select(DepartmentRow.ticket_id).where(
            DepartmentRow.department.in_(query.departments)
        )
        if query.lead_only:
            parts = parts.where(DepartmentRow.role == "lead")
        statement = statement.where(TicketRow.id.in_(parts))
    if query.category_code:
        statement = statement.where(TicketRow.category_code.startswith(query.category_code))
    if query.category_path:
        statement = statement.where(TicketRow.category_path.startswith(query.category_path))
    if query.channel is not None:
        statement = statement.where(TicketRow.channel == query.channel.value)
    if query.due_by is not None:
        statement = statement.where(
            TicketRow.due_date <= query.due_by,
            TicketRow.status.in_([s.value for s in RUNNING_STATUSES]),
        )
    if query.supervised:
        statement = statement.where(TicketRow.supervised.is_(True))
    if query.duplicates:
        statement = statement.where(TicketRow.linked_to != "")
    if query.verification_review:
        statement = statement.where(TicketRow.verification_review.is_(True))
    if text := query.text.strip():
        like = f"%{text}%"
        statement = statement.where(
            or_(
                TicketRow.number.like(like),
                TicketRow.summary.like(like),
                TicketRow.content.like(like),
                TicketRow.address.like(like),
            )
        )
    return statement


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
        to_row(ticket, row)
        row.audit = [audit_row(entry, seq) for seq, entry in enumerate(ticket.audit)]
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
            self._merge(session, linked, match.number, now)
            return Intake(linked, match)

    def _merge(self, session: Session, repeat: Ticket, into: str, now: datetime) -> None:
        """并单: the repeat's caller joins the earlier ticket while it is still being
        handled, to be called back too (a finished ticket is only linked to)."""
        try:
            earlier = to_ticket(self._row(session, into, lock=True))
        except UnknownTicket:
            return
        if earlier.status in FINISHED_STATUSES or earlier.status in (
            Status.LINKED,
            Status.DISCARDED,
        ):
            return
        merged = transition(
            earlier,
            Action.MERGE,
            "system",
            now,
            linked_to=repeat.number,
            caller_number=repeat.callback_number or repeat.caller_number,
            policy=self.policy.deadlines,
        )
        self._write(session, merged)

    def transition(
        self, number: str, action: Action | str, actor: str, now: datetime, **options: Any
    ) -> Ticket:
        """Apply :func:`tickets.lifecycle.transition` (same keyword options) and save the
        ticket with its new audit entry in one transaction; ``TransitionError`` if refused."""
        with self._transaction() as session:
            ticket = to_ticket(self._row(session, number, lock=True))
            changed = transition(
                ticket, action, actor, now, policy=self.policy.deadlines, **options
            )
            self._write(session, changed)
            return changed

    # -- the deadline sweep ----------------------------------------------------------

    def sweep(self, now: datetime, batch: int = 200) -> SweepReport:
        """Mark due-soon and overdue tickets, urge and supervise them, escalate those
        long overdue and urge departments late to sign or report in
        (:func:`tickets.sweep.sweep_ticket`).  Only candidates are read (due within a
        few weeks, or with a part that may be late to sign), in batches without locks;
        a ticket the sweep changes is read again under a lock and written in its own
        transaction, so a sweep never holds up the desk."""
        report = SweepReport()
        policy = self.policy.deadlines
        # Working days ahead never reach further than this many calendar days.
        horizon = policy.local_day(now) + timedelta(days=policy.due_soon_days * 2 + 21)
        parts = select(DepartmentRow.ticket_id).where(DepartmentRow.role != "lead")
        candidates = TicketRow.status.in_([s.value for s in RUNNING_STATUSES]) & or_(
            TicketRow.due_date <= horizon,
            TicketRow.status == Status.DISPATCHED.value,
            TicketRow.id.in_(parts),
        )
        last_id = 0
        while True:
            with self._sessions() as session:
                rows = list(
                    session.scalars(
                        select(TicketRow)
                        .where(candidates, TicketRow.id > last_id)
                        .order_by(TicketRow.id)
                        .limit(batch)
                        .options(selectinload(TicketRow.audit))
                    )
                )
                due = [
                    row.id
                    for row in rows
                    if sweep_ticket(ticket := to_ticket(row), now, policy) is not ticket
                ]
            if not rows:
                return report
            last_id = rows[-1].id
            for ticket_id in due:
                self._sweep_one(ticket_id, now, report)

    def _sweep_one(self, ticket_id: int, now: datetime, report: SweepReport) -> None:
        with self._transaction() as session:
            row = session.scalars(
                select(TicketRow)
                .where(TicketRow.id == ticket_id)
                .with_for_update()
                .options(selectinload(TicketRow.audit))
            ).one_or_none()
            if row is None:
                return
            ticket = to_ticket(row)
            swept = sweep_ticket(ticket, now, self.policy.deadlines, report)
            if swept is not ticket:
                self._write(session, swept)

    def for_figures(self, start: datetime, end: datetime) -> list[Ticket]:
        """With their audit trails: the tickets changed in ``[start, end)`` and every
        ticket still running (for the departments' figures, :mod:`tickets.figures`)."""
        touched = select(AuditRow.ticket_id).where(AuditRow.at >= start, AuditRow.at < end)
        running = [s.value for s in RUNNING_STATUSES]
        statement = (
            select(TicketRow)
            .where(or_(TicketRow.id.in_(touched), TicketRow.status.in_(running)))
            .order_by(TicketRow.id)
            .options(selectinload(TicketRow.audit))
        )
        with self._sessions() as session:
            return [to_ticket(row) for row in session.scalars(statement)]

    # -- attachments ---------------------------------------------------------------

    def add_attachment(
        self, number: str, attachment: StoredFile, actor: str, department: str, at: datetime
    ) -> int:
        """Record a stored attachment of ticket ``number``; its id."""
        with self._transaction() as session:
            row = self._row(session, number)
            found = AttachmentRow(
                ticket_id=row.id,
                at=at,
                actor=actor,
                department=department,
                name=attachment.name,
                media_type=attachment.media_type,
                size=attachment.size,
                sha256=attachment.sha256,
                path=str(attachment.path),
            )
            session.add(found)
            session.flush()
            return found.id

    def attachments(self, number: str) -> list[Attachment]:
        """The attachments of ticket ``number``, oldest first."""
        with self._sessions() as session:
            row = self._row(session, number)
            rows = session.scalars(
                select(AttachmentRow)
                .where(AttachmentRow.ticket_id == row.id)
                .order_by(AttachmentRow.id)
            )
            return [
                Attachment(
                    a.id,
                    a.at,
                    a.actor,
                    a.department,
                    a.name,
                    a.media_type,
                    a.size,
                    a.sha256,
                    Path(a.path),
                )
                for a in rows
            ]

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
            ticket = to_ticket(self._row(session, number, lock=True))
            changed = request_callback(ticket, callback_number, reason, by, at)
            if changed is not ticket:
                self._write(session, changed)
            return changed

    def callback_done(self, number: str, at: datetime, by: str, note: str = "") -> Ticket:
        """Mark the ticket's callback task done at ``at`` by ``by``, audited.
        ``UnknownTicket``, or ``CallbackError`` (no task, or already done)."""
        with self._transaction() as session:
            ticket = to_ticket(self._row(session, number, lock=True))
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
            return [to_ticket(row, with_audit) for row in session.scalars(statement)]

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
        to_row(ticket, row)
        row.audit.extend(audit_row(entry, seq) for seq, entry in enumerate(new, start=stored))
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
            return to_ticket(self._row(session, number))

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
        statement = _more_filters(statement, query)
        statement = statement.order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        statement = statement.limit(query.limit).offset(query.offset)
        if with_audit:
            statement = statement.options(selectinload(TicketRow.audit))
        with self._sessions() as session:
            return [to_ticket(row, with_audit) for row in session.scalars(statement)]

    def _recent(self, session: Session, since: datetime, exclude: str = "") -> Sequence[Ticket]:
        statement = select(TicketRow).where(
            TicketRow.created_at >= since, TicketRow.number != exclude
        )
        return [to_ticket(row, with_audit=False) for row in session.scalars(statement)]

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
        return [to_ticket(row, with_audit=False) for row in session.scalars(statement)]

    def recent(self, since: datetime) -> Sequence[Ticket]:
        """Tickets created since ``since`` (candidates for duplicate detection)."""
        with self._sessions() as session:
            return self._recent(session, since)
