"""Attachments of a ticket (附件): photos of the site and documents a department (or
the centre) adds while handling it, and their download.

Files are checked before anything is written (size against
``tickets.attachment_max_mb``, type by the file's own first bytes:
``tickets.attachments``), stored beside the recordings
(``<recordings>/attachments/<ticket number>/``), hashed, recorded in the ticket
store and audited (``ticket.attachment``).  Whoever may see the ticket may download
its attachments; adding one is for those who may take a note on it
(:mod:`tickets.permissions`: not QA, not a sub-unit's ticket for a department),
and for a verifier (回访员) the photos of a ticket's 现场核查.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from tickets.attachments import KINDS, AttachmentError, store_attachment
from tickets.lifecycle import Action
from tickets.model import Ticket
from tickets.permissions import Refusal
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import TaskKind, TaskState
from web import audit
from web.csrf import require_csrf
from web.deps import ContextDep, ticket_store
from web.roles import Role
from web.routers.tickets import Attacher, Reader, TicketNumber, visible_ticket
from web.schemas.errors import invalid, refusals
from web.schemas.ticket_work import AttachmentOut
from web.ticket_access import TicketAccess, actor_name
from web.ticket_views import attachment_json

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

AttachmentId = Annotated[int, Path(ge=1, le=2**62, description="The attachment's id.")]
_ENVELOPE = 64 * 1024  # room for the multipart framing around the file
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A photo (JPEG, PNG) or document (PDF, DOCX, XLSX).",
                    }
                },
            }
        }
    },
}


def attachments_root(request: Request) -> FilePath:
    """Where attachments are kept: beside the recordings."""
    return request.app.state.context.settings.recordings_dir / "attachments"


def _attach_refusal(store: TicketStore, access: TicketAccess, ticket: Ticket) -> Refusal | None:
    """Why the principal may not attach to ``ticket`` (blocking: a verifier's 现场核查
    is read from the store)."""
    if access.principal.role is not Role.VERIFIER:
        return access.refusal(ticket, Action.NOTE)
    tasks = VerificationStore(store).for_ticket(ticket.number)
    if any(t.kind is TaskKind.ON_SITE and t.state is not TaskState.CANCELLED for t in tasks):
        return None
    return Refusal(f"a verifier attaches the photos of a 现场核查; {ticket.number} has none")


def _max_bytes(request: Request) -> int:
    return int(request.app.state.context.settings.tickets.attachment_max_mb * 1024 * 1024)


def _too_big(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"附件不能超过 {limit / 1048576:g} MiB (the file is larger than this node takes)",
    )


async def _upload(request: Request, limit: int) -> tuple[str, bytes]:
    """The uploaded file's name and bytes; 413 beyond ``limit``, 422 without a file."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + _ENVELOPE:
        raise _too_big(limit)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:  # a malformed multipart body (starlette's MultiPartException)
        raise invalid(
            ("body", "file"), "请选择要上传的文件 (a multipart form with a file)"
        ) from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise invalid(("body", "file"), "请选择要上传的文件 (the form has no file)", None)
    data = await upload.read(limit + 1)
    await form.close()
    if len(data) > limit:
        raise _too_big(limit)
    if not data:
        raise invalid(("body", "file"), f"文件 {upload.filename!r} 是空的 (the file is empty)")
    return upload.filename or "attachment", data


@router.post(
    "/{number}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentOut,
    summary="Attach a photo or document to a ticket",
    openapi_extra={"requestBody": _UPLOAD},
    responses=refusals(
        401,
        403,
        404,
        413,
        415,
        503,
        _403="The role may not add to this ticket (QA; a sub-unit's ticket; a verifier "
        "without a 现场核查 of it), or no CSRF token.",
        _404="No such ticket (or not one the caller may see).",
        _503="No ticket store on this node.",
    ),
    dependencies=[Depends(require_csrf)],
)
async def upload_attachment(
    number: TicketNumber, request: Request, context: ContextDep, principal: Attacher
) -> dict[str, Any]:
    """A multipart form with `file`: a JPEG, PNG, PDF, DOCX or XLSX (its contents must be
    what its name says), at most `tickets.attachment_max_mb`.  Refer to it by its id in
    a later note (`attachments` of a transition)."""
    store = ticket_store(context)
    sink = audit.audit_log(request)  # no audit log, no write
    access = TicketAccess(context, principal)
    ticket = await visible_ticket(store, access, number)
    refused = await asyncio.to_thread(_attach_refusal, store, access, ticket)
    if refused is not None:
        if refused.hidden:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"there is no ticket {number}")
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused.reason)
    limit = _max_bytes(request)
    name, data = await _upload(request, limit)
    try:
        stored = await asyncio.to_thread(
            store_attachment, attachments_root(request), ticket.number, name, data, limit
        )
    except AttachmentError as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    now = datetime.now(UTC)
    who = actor_name(principal)
    found = await asyncio.to_thread(
        store.add_attachment, ticket.number, stored, who, access.by_department, now
    )
    await asyncio.to_thread(
        sink.add,
        audit.Actor.from_request(request),
        "ticket.attachment",
        ticket.number,
        {"id": found, "name": stored.name, "size": stored.size, "sha256": stored.sha256},
    )
    attached = next(
        a for a in await asyncio.to_thread(store.attachments, ticket.number) if a.id == found
    )
    return attachment_json(ticket.number, attached)


@router.get(
    "/{number}/attachments/{attachment_id}",
    response_class=FileResponse,
    summary="Download an attachment of a ticket",
    responses={
        200: {
            "description": "The file, as it was attached.",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in KINDS
            },
        },
        **refusals(401, 403, 503, json=True),
        **refusals(
            404,
            json=True,
            _404="No such ticket (or not the caller's), or no such attachment of it.",
        ),
    },
)
async def download_attachment(
    number: TicketNumber,
    attachment_id: AttachmentId,
    request: Request,
    context: ContextDep,
    principal: Reader,
) -> FileResponse:
    """The attachment's file, for whoever may see the ticket (others: 404)."""
    store = ticket_store(context)
    access = TicketAccess(context, principal)
    ticket = await visible_ticket(store, access, number)
    listed = await asyncio.to_thread(store.attachments, ticket.number)
    found = next((a for a in listed if a.id == attachment_id), None)
    root = attachments_root(request).resolve()
    path = found.path.resolve() if found is not None else None
    if found is None or path is None or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个附件 (no such attachment)")
    return FileResponse(
        path,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )
