"""The ticket store's tables and the mapping between a :class:`Ticket` and its rows.

The schema itself is made by the migrations in ``tickets/migrations``; these
declarations must match them (a test compares the two).  Departments' parts,
the drafted reply, the return request and merged callers are JSON on the ticket
row; ``ticket_departments`` repeats the parts for lookups by department.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.sqltypes import UtcDateTime
from tickets.duplicates import address_key
from tickets.model import (
    Assignment,
    AuditEntry,
    CallbackReason,
    Channel,
    ExtensionRequest,
    MergedCaller,
    Rating,
    ReplyDraft,
    RequestType,
    Resolution,
    ReturnRequest,
    Status,
    Ticket,
)


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
    category_path: Mapped[str] = mapped_column(String(200), server_default="")
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
    assignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    reply_draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    return_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    merged_callers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    due_soon_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    supervised: Mapped[bool] = mapped_column(Boolean, server_default="0")
    declined_callback: Mapped[bool] = mapped_column(Boolean, server_default="0")
    resolution: Mapped[str | None] = mapped_column(String(10))
    verification_review: Mapped[bool] = mapped_column(Boolean, server_default="0", index=True)
    redo_count: Mapped[int] = mapped_column(Integer, server_default="0")
    version: Mapped[int] = mapped_column(Integer)

    audit: Mapped[list[AuditRow]] = relationship(
        back_populates="ticket", order_by="AuditRow.seq", cascade="all, delete-orphan"
    )
    parts: Mapped[list[DepartmentRow]] = relationship(cascade="all, delete-orphan")

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


class DepartmentRow(Base):
    """A department's part in a ticket (``tickets.assignments`` repeated for lookups)."""

    __tablename__ = "ticket_departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_departments_ticket"),
        index=True,
    )
    department: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(10))


class AttachmentRow(Base):
    """A file a department attached to a ticket (a photo of the site, a document)."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_attachments_ticket"),
        index=True,
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)


class VerificationTaskRow(Base):
    """A 回访 task (``tickets.verification_tasks``): attempts as JSON, the answers
    as columns (figures count them)."""

    __tablename__ = "verification_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(30), server_default="")
    sampled: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_by: Mapped[datetime] = mapped_column(UtcDateTime)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    resolution: Mapped[str] = mapped_column(String(10), server_default="")
    rating: Mapped[str] = mapped_column(String(10), server_default="")
    resolution_source: Mapped[str] = mapped_column(String(10), server_default="")
    rating_source: Mapped[str] = mapped_column(String(10), server_default="")
    comment: Mapped[str] = mapped_column(Text, server_default="")
    call_id: Mapped[str] = mapped_column(String(100), server_default="")
    recording_dir: Mapped[str] = mapped_column(Text, server_default="")
    assigned_to: Mapped[str] = mapped_column(String(100), server_default="")
    notes: Mapped[str] = mapped_column(Text, server_default="")
    department: Mapped[str] = mapped_column(String(100), index=True, server_default="")
    seat_group: Mapped[str] = mapped_column(String(100), server_default="")
    forced: Mapped[bool] = mapped_column(Boolean, server_default="0")

    __table_args__ = (
        UniqueConstraint("ticket", "number", "round", "kind", name="uq_verification_tasks_round"),
    )


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
    "category_path",
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
    "due_soon_at",
    "overdue_at",
    "escalated_at",
    "supervised",
    "declined_callback",
    "verification_review",
    "redo_count",
)


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _assignment_json(part: Assignment) -> dict[str, Any]:
    return {
        "department": part.department,
        "role": part.role.value,
        "assigned_at": _time(part.assigned_at),
        "assigned_by": part.assigned_by,
        "due_at": _time(part.due_at),
        "signed_at": _time(part.signed_at),
        "reported_at": _time(part.reported_at),
        "report": part.report,
        "urged_at": _time(part.urged_at),
    }


def _assignment(data: dict[str, Any]) -> Assignment:
    assigned = _parse_time(data.get("assigned_at")) or datetime.now(UTC)
    return Assignment(
        department=str(data["department"]),
        role=data.get("role", "lead"),
        assigned_at=assigned,
        assigned_by=str(data.get("assigned_by", "")),
        due_at=_parse_time(data.get("due_at")),
        signed_at=_parse_time(data.get("signed_at")),
        reported_at=_parse_time(data.get("reported_at")),
        report=str(data.get("report", "")),
        urged_at=_parse_time(data.get("urged_at")),
    )


def _draft_json(draft: ReplyDraft | None) -> dict[str, Any] | None:
    if draft is None:
        return None
    return {
        "text": draft.text,
        "drafted_at": _time(draft.drafted_at),
        "drafted_by": draft.drafted_by,
        "department": draft.department,
    }


def _draft(data: dict[str, Any] | None) -> ReplyDraft | None:
    if not data:
        return None
    drafted = _parse_time(data.get("drafted_at")) or datetime.now(UTC)
    return ReplyDraft(data["text"], drafted, data["drafted_by"], data.get("department", ""))


def _return_json(asked: ReturnRequest | None) -> dict[str, Any] | None:
    if asked is None:
        return None
    return {
        "requested_at": _time(asked.requested_at),
        "requested_by": asked.requested_by,
        "department": asked.department,
        "reason": asked.reason,
        "suggested": asked.suggested,
        "previous_status": asked.previous_status.value,
    }


def _return(data: dict[str, Any] | None) -> ReturnRequest | None:
    if not data:
        return None
    return ReturnRequest(
        _parse_time(data.get("requested_at")) or datetime.now(UTC),
        data["requested_by"],
        data["department"],
        data["reason"],
        data.get("suggested", ""),
        data.get("previous_status", "dispatched"),
    )


def to_row(ticket: Ticket, row: TicketRow) -> None:
    """Copy ``ticket`` onto ``row`` (its parts too; not its audit entries)."""
    for name in _PLAIN:
        setattr(row, name, getattr(ticket, name))
    row.status = ticket.status.value
    row.channel = ticket.channel.value
    row.request_type = ticket.request_type.value
    row.co_departments = list(ticket.co_departments)
    row.rating = ticket.rating.value if ticket.rating else None
    row.resolution = ticket.resolution.value if ticket.resolution else None
    row.callback_reason = str(ticket.callback_reason)
    row.address_key = address_key(ticket.address)
    row.assignments = [_assignment_json(a) for a in ticket.assignments]
    row.reply_draft = _draft_json(ticket.reply_draft)
    row.return_request = _return_json(ticket.return_request)
    row.merged_callers = [
        {"number": m.number, "ticket": m.ticket, "at": _time(m.at)} for m in ticket.merged_callers
    ]
    wanted = [(a.department, a.role.value) for a in ticket.assignments]
    if [(p.department, p.role) for p in row.parts] != wanted:
        row.parts = [DepartmentRow(department=d, role=r) for d, r in wanted]
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


def audit_row(entry: AuditEntry, seq: int) -> AuditRow:
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


def to_ticket(row: TicketRow, with_audit: bool = True) -> Ticket:
    """The ticket of ``row`` (with its audit trail unless ``with_audit`` is false)."""
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
        resolution=Resolution(row.resolution) if row.resolution else None,
        callback_reason=CallbackReason(row.callback_reason) if row.callback_reason else "",
        extension=None
        if ext is None
        else ExtensionRequest(
            datetime.fromisoformat(ext["requested_at"]),
            ext["requested_by"],
            int(ext["working_days"]),
            ext["reason"],
        ),
        assignments=tuple(_assignment(a) for a in row.assignments or ()),
        reply_draft=_draft(row.reply_draft),
        return_request=_return(row.return_request),
        merged_callers=tuple(
            MergedCaller(
                m.get("number", ""), m["ticket"], _parse_time(m.get("at")) or row.created_at
            )
            for m in row.merged_callers or ()
        ),
        audit=audit,
    )
