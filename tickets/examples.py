"""Agents' corrections teach the understanding: labelled examples from tickets.

When an agent corrects a ticket's request type, domain, category or lead
department on the desk, :func:`save_corrected` stores the change and, in the
same transaction, a correction (``ticket_examples``): the text the citizen
gave, what the model said, what the agent set, who and when.  "What the model
said" is taken from the ticket's first correction, so an agent correcting twice
never turns their own first guess into the model's.

:func:`labelled_examples` is what ``hotline nlu train --from-tickets`` trains on;
:func:`correction_rates` is the supervisor's view of how often agents corrected
each domain.  Both read; neither changes a ticket.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from tickets.model import Status, Ticket
from tickets.store import ExampleRow, TicketRow

if TYPE_CHECKING:
    from tickets.store import TicketStore

CORRECTED = "corrected"  # an agent set the labels on the desk
ACCEPTED = "accepted"  # accepted and closed as the model labelled it: confirmed
LABELS = ("request_type", "domain", "category_code", "department")
# Finished with the citizen's request handled: the labels it was handled under held.
CONFIRMED_STATUSES = frozenset({Status.CLOSED, Status.CALLED_BACK, Status.RATED})
_AGENT_PREFIX = "坐席："
_CALLER_PREFIX = "市民："


@dataclass(frozen=True, slots=True)
class Labels:
    """What the understanding labels a request with: 诉求类型, domain, category code
    and lead department (承办单位)."""

    request_type: str
    domain: str
    category_code: str
    department: str

    @classmethod
    def of(cls, ticket: Ticket) -> Labels:
        return cls(
            ticket.request_type.value, ticket.domain, ticket.category_code, ticket.lead_department
        )

    def differ(self, other: Labels) -> tuple[str, ...]:
        """The names of the labels (of :data:`LABELS`) that ``other`` sets otherwise."""
        return tuple(name for name in LABELS if getattr(self, name) != getattr(other, name))


@dataclass(frozen=True, slots=True)
class Correction:
    """One correction as stored: the model's labels and the agent's."""

    ticket: str
    at: datetime
    agent: str
    text: str
    predicted: Labels
    labels: Labels

    @property
    def changed(self) -> tuple[str, ...]:
        return self.predicted.differ(self.labels)


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """A text with the labels a person stood by: ``source`` is ``"corrected"`` (an
    agent set them, ``agent``) or ``"accepted"`` (the ticket was accepted and closed
    as the model labelled it); ``at`` is when (the correction, or the close)."""

    text: str
    request_type: str
    domain: str
    category_code: str
    department: str
    source: str
    at: datetime
    ticket: str
    agent: str = ""


@dataclass(frozen=True, slots=True)
class LabelChange:
    """ "The model said ``predicted`` → the agent set ``corrected``" for one label,
    ``count`` times."""

    label: str  # one of LABELS
    predicted: str
    corrected: str
    count: int


@dataclass(frozen=True, slots=True)
class DomainCorrections:
    """For the calls the model put in ``domain``: how many, how many an agent
    corrected (any label), and the most frequent changes."""

    domain: str
    understood: int
    corrected: int
    changes: tuple[LabelChange, ...]

    @property
    def rate(self) -> float:
        return self.corrected / self.understood if self.understood else 0.0


def ticket_text(content: str, transcript: str = "") -> str:
    """What the citizen said: the ticket's content, else the caller's lines of its
    transcript (without the agent's, and without the 市民： of each line)."""
    if content.strip():
        return content.strip()
    said = []
    for line in transcript.splitlines():
        line = line.strip()
        if not line or line.startswith(_AGENT_PREFIX):
            continue
        said.append(line.removeprefix(_CALLER_PREFIX).strip())
    return "，".join(part for part in said if part)


# ---- writing -----------------------------------------------------------------------
def save_corrected(
    store: TicketStore, before: Ticket, changed: Ticket, agent: str, at: datetime
) -> Ticket:
    """Save ``changed`` (as :meth:`TicketStore.save`, same errors); when its labels
    differ from ``before``'s (the ticket as read before the agent's changes), the
    correction is written in the same transaction: both or neither."""
    if Labels.of(changed) == Labels.of(before):
        return store.save(changed)

    def record(session: Session, row: TicketRow) -> None:
        first = session.scalars(
            select(ExampleRow)
            .where(ExampleRow.ticket_id == row.id)
            .order_by(ExampleRow.id)
            .limit(1)
        ).first()
        predicted = _predicted(first) if first is not None else Labels.of(before)
        labels = Labels.of(changed)
        session.add(
            ExampleRow(
                ticket_id=row.id,
                at=at,
                actor=agent,
                text=ticket_text(before.content, before.transcript)
                or ticket_text(changed.content, changed.transcript),
                **{f"predicted_{name}": getattr(predicted, name) for name in LABELS},
                **{name: getattr(labels, name) for name in LABELS},
            )
        )

    return store.save(changed, also=record)


# ---- reading -----------------------------------------------------------------------
def _predicted(row: ExampleRow) -> Labels:
    return Labels(
        row.predicted_request_type,
        row.predicted_domain,
        row.predicted_category_code,
        row.predicted_department,
    )


def _labels(row: ExampleRow) -> Labels:
    return Labels(row.request_type, row.domain, row.category_code, row.department)


def _correction(row: ExampleRow, number: str) -> Correction:
    return Correction(number, row.at, row.actor, row.text, _predicted(row), _labels(row))


def corrections(store: TicketStore, number: str = "") -> list[Correction]:
    """The corrections stored, oldest first; only ``number``'s when given."""
    statement = select(ExampleRow, TicketRow.number).join(
        TicketRow, TicketRow.id == ExampleRow.ticket_id
    )
    if number:
        statement = statement.where(TicketRow.number == number.strip())
    with Session(store.engine) as session:
        rows = session.execute(statement.order_by(ExampleRow.at, ExampleRow.id)).all()
        return [_correction(row, ticket) for row, ticket in rows]


def labelled_examples(store: TicketStore, since: datetime | None = None) -> list[LabelledExample]:
    """The examples to train the understanding on, oldest first, one per ticket:

    - ``"corrected"``: a ticket an agent corrected (type, domain, category or lead
      department), with the labels of the newest correction, if that correction
      was made at or after ``since``;
    - ``"accepted"``: a ticket accepted and closed (办结, 回访, 评价) without any
      correction, with its own labels, if closed at or after ``since`` and the
      model gave it a domain (there is nothing to confirm otherwise).

    A discarded ticket gives none; nor does one whose text (:func:`ticket_text`)
    is empty.  ``since`` ``None``: all of them."""
    newest = select(func.max(ExampleRow.id)).group_by(ExampleRow.ticket_id)
    corrected = (
        select(ExampleRow, TicketRow.number)
        .join(TicketRow, TicketRow.id == ExampleRow.ticket_id)
        .where(ExampleRow.id.in_(newest), TicketRow.status != Status.DISCARDED.value)
    )
    closed_at = func.coalesce(TicketRow.closed_at, TicketRow.updated_at)
    accepted = select(
        TicketRow.number,
        TicketRow.content,
        TicketRow.transcript,
        TicketRow.request_type,
        TicketRow.domain,
        TicketRow.category_code,
        TicketRow.lead_department,
        TicketRow.owner,
        TicketRow.closed_at,
        TicketRow.updated_at,
    ).where(
        TicketRow.status.in_([s.value for s in CONFIRMED_STATUSES]),
        TicketRow.domain != "",
        ~exists().where(ExampleRow.ticket_id == TicketRow.id),
    )
    if since is not None:
        corrected = corrected.where(ExampleRow.at >= since)
        accepted = accepted.where(closed_at >= since)
    found: list[LabelledExample] = []
    with Session(store.engine) as session:
        for row, number in session.execute(corrected):
            if row.text.strip():
                found.append(
                    LabelledExample(
                        row.text.strip(),
                        row.request_type,
                        row.domain,
                        row.category_code,
                        row.department,
                        CORRECTED,
                        row.at,
                        number,
                        row.actor,
                    )
                )
        for t in session.execute(accepted):
            text = ticket_text(t.content, t.transcript)
            if text:
                found.append(
                    LabelledExample(
                        text,
                        t.request_type,
                        t.domain,
                        t.category_code,
                        t.lead_department,
                        ACCEPTED,
                        t.closed_at or t.updated_at,
                        t.number,
                        t.owner,
                    )
                )
    return sorted(found, key=lambda e: (e.at, e.ticket))


def correction_rates(store: TicketStore, since: datetime, top: int = 3) -> list[DomainCorrections]:
    """Per domain the model gave, for the calls whose tickets were written at or
    after ``since``: how many, how many an agent corrected (the newest correction
    differs from the model in any label), and the ``top`` most frequent
    "model said → agent set" changes.  Most corrected first; calls the model gave
    no domain are left out (nothing of the model's to correct)."""
    window = (TicketRow.created_at >= since, TicketRow.call_id != "")
    plain = (
        select(TicketRow.domain, func.count())
        .where(*window, TicketRow.domain != "")
        .where(~exists().where(ExampleRow.ticket_id == TicketRow.id))
        .group_by(TicketRow.domain)
    )
    rows = (
        select(ExampleRow)
        .join(TicketRow, TicketRow.id == ExampleRow.ticket_id)
        .where(*window)
        .order_by(ExampleRow.ticket_id, ExampleRow.id)
    )
    understood: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    changes: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    with Session(store.engine) as session:
        for domain, count in session.execute(plain):
            understood[domain] += count
        for first, last in _first_and_last(session.scalars(rows)):
            predicted, labels = _predicted(first), _labels(last)
            if not predicted.domain:
                continue
            understood[predicted.domain] += 1
            changed = predicted.differ(labels)
            if changed:
                corrected[predicted.domain] += 1
            for name in changed:
                changes[predicted.domain][
                    (name, getattr(predicted, name), getattr(labels, name))
                ] += 1
    found = [
        DomainCorrections(
            domain,
            count,
            corrected[domain],
            tuple(
                LabelChange(name, said, set_to, n)
                for (name, said, set_to), n in sorted(
                    changes[domain].items(), key=lambda item: (-item[1], item[0])
                )[:top]
            ),
        )
        for domain, count in understood.items()
    ]
    return sorted(found, key=lambda d: (-d.corrected, -d.rate, -d.understood, d.domain))


def _first_and_last(rows: Iterable[ExampleRow]) -> list[tuple[ExampleRow, ExampleRow]]:
    """Each ticket's first and newest correction, of rows ordered by ticket and id."""
    pairs: dict[int, tuple[ExampleRow, ExampleRow]] = {}
    for row in rows:
        first = pairs.get(row.ticket_id, (row, row))[0]
        pairs[row.ticket_id] = (first, row)
    return list(pairs.values())
