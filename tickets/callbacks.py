"""The callback task on a ticket (回电): asked for, then done.

A caller who cannot be served at once leaves a number to be called back: a voice
message after hours (留言回电) or key 1 pressed while queued (预约回电).
``request_callback`` and ``callback_done`` return a new :class:`Ticket` with the
task changed and one audit entry appended; the ticket's state does not change
(the audit entry goes from the state to itself).  Anything refused raises
:class:`CallbackError`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from tickets.model import FINISHED_STATUSES, AuditEntry, CallbackReason, Ticket

# Audit actions (not lifecycle actions: the ticket's state stays as it is).
REQUEST_CALLBACK = "request_callback"
CALLBACK_DONE = "callback_done"

_NUMBER = re.compile(r"^\+?\d{3,32}$")


class CallbackError(Exception):
    """The callback task cannot be set or marked done as asked (no number, an
    unknown reason, a finished ticket, no task or one already done).  Retrying the
    same call cannot help."""

    retryable = False


def callback_number(text: str) -> str:
    """A number to call back, spaces and dashes removed (``138 0013-8000`` →
    ``13800138000``); :class:`CallbackError` when it is not a dialable number
    (empty, ``anonymous``)."""
    number = re.sub(r"[\s-]", "", text)
    if not _NUMBER.match(number):
        raise CallbackError(f"{text!r} is not a number to call back (digits, + in front)")
    return number


def request_callback(
    ticket: Ticket, number: str, reason: CallbackReason | str, actor: str, now: datetime
) -> Ticket:
    """The ticket with a callback task to ``number`` for ``reason``; a new request
    replaces an earlier task (done or not).  The same task asked again is no change
    and returns ``ticket`` itself."""
    number = callback_number(number)
    try:
        why = reason if isinstance(reason, CallbackReason) else CallbackReason.parse(reason)
    except ValueError as exc:
        raise CallbackError(f"{ticket.number}: {exc}") from None
    if ticket.status in FINISHED_STATUSES:
        raise CallbackError(
            f"{ticket.number} is finished ({ticket.status.label} {ticket.status}); "
            "a callback is owed only on a ticket still worked: open a new ticket"
        )
    if not actor.strip():
        raise CallbackError(f"{ticket.number}: a callback request needs an actor")
    if ticket.callback_due and (ticket.callback_number, ticket.callback_reason) == (number, why):
        return ticket
    details = {"callback_number": number, "callback_reason": why.value}
    if ticket.callback_number and ticket.callback_number != number:
        details["previous_number"] = ticket.callback_number
    entry = AuditEntry(now, actor, REQUEST_CALLBACK, ticket.status, ticket.status, "", details)
    return dataclasses.replace(
        ticket,
        callback_number=number,
        callback_reason=why,
        callback_done_at=None,
        updated_at=now,
        audit=(*ticket.audit, entry),
    )


def callback_done(ticket: Ticket, actor: str, now: datetime, note: str = "") -> Ticket:
    """The ticket with its callback task done at ``now`` by ``actor`` (allowed on a
    finished ticket too: it records that the call was made)."""
    if not ticket.callback_number:
        raise CallbackError(f"{ticket.number} has no callback task")
    if ticket.callback_done_at is not None:
        raise CallbackError(
            f"{ticket.number}: the callback was already done at {ticket.callback_done_at}"
        )
    if not actor.strip():
        raise CallbackError(f"{ticket.number}: a done callback needs an actor (who called)")
    details = {"callback_number": ticket.callback_number}
    if note.strip():
        details["note"] = note.strip()
    entry = AuditEntry(now, actor, CALLBACK_DONE, ticket.status, ticket.status, "", details)
    return dataclasses.replace(
        ticket, callback_done_at=now, updated_at=now, audit=(*ticket.audit, entry)
    )
