"""Repeated requests: is a new ticket the same matter as an earlier one?

Pure functions over candidate tickets the caller has loaded (the store gives the
recent ones).  A match is linked to the earlier ticket instead of being
dispatched again.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tickets.model import Status, Ticket

# Words callers and ASR scatter through any request; they make unrelated texts look alike.
_FILLERS = re.compile(r"喂|嗯|啊|呃|哦|那个|就是|然后|这个|你好|您好|请问|我想|我要")
_NOT_TEXT = re.compile(r"[^\w]|_", re.UNICODE)
_ANONYMOUS = {"", "anonymous", "unknown", "0"}
ADDRESS_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class DuplicateRules:
    """When a new ticket repeats an earlier one.

    - same address and content similarity ≥ ``similarity``;
    - same caller number and either the same address, the same category code or
      content similarity ≥ ``caller_similarity`` (0 links every ticket of a caller);

    on an earlier ticket created within ``window`` that is not itself discarded.
    """

    window: timedelta = timedelta(days=7)
    similarity: float = 0.4
    caller_similarity: float = 0.25


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """The earlier ticket to link to, why, and how alike the contents are."""

    earlier: Ticket
    reason: str
    similarity: float

    @property
    def number(self) -> str:
        """The number to link to: the first ticket of a chain of repeats."""
        return self.earlier.linked_to or self.earlier.number


def normalise_text(text: str) -> str:
    """Half-width, lower-case, without punctuation, spaces or fillers."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NOT_TEXT.sub("", _FILLERS.sub("", text))


def normalise_address(address: str) -> str:
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", address).lower())


def address_key(address: str) -> str:
    """The address as duplicates compare it, cut to what the store indexes."""
    return normalise_address(address)[:ADDRESS_KEY_LENGTH]


def is_anonymous(caller: str) -> bool:
    """A number that says nothing about who called (withheld, unknown)."""
    return caller.strip().lower() in _ANONYMOUS


def bigrams(text: str) -> Counter[str]:
    """Character bigram counts of the normalised text (a lone character counts as one)."""
    text = normalise_text(text)
    if len(text) < 2:
        return Counter([text] if text else [])
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' character-bigram counts (0 … 1).

    Two wordings of one matter by different people (or one caller twice) score
    about 0.3–0.7; different matters on the same theme about 0.1–0.2.
    """
    first, second = bigrams(a), bigrams(b)
    if not first or not second:
        return 0.0
    dot = sum(count * second[gram] for gram, count in first.items())
    norm = math.sqrt(sum(c * c for c in first.values()) * sum(c * c for c in second.values()))
    return dot / norm


def _text(ticket: Ticket) -> str:
    return ticket.content or ticket.summary or ticket.transcript


def find_duplicate(
    ticket: Ticket, candidates: Iterable[Ticket], rules: DuplicateRules | None = None
) -> DuplicateMatch | None:
    """The best earlier ticket that ``ticket`` repeats, or ``None``.

    The window is counted back from ``ticket.created_at``; among several matches
    the most similar wins, then the most recent.
    """
    rules = rules or DuplicateRules()
    since: datetime = ticket.created_at - rules.window
    caller = ticket.caller_number.strip()
    address = address_key(ticket.address)
    text = _text(ticket)
    best: tuple[float, datetime, DuplicateMatch] | None = None
    for earlier in candidates:
        if earlier.number == ticket.number or earlier.status is Status.DISCARDED:
            continue
        if not since <= earlier.created_at <= ticket.created_at:
            continue
        score = similarity(text, _text(earlier))
        same_address = bool(address) and address == address_key(earlier.address)
        reason = ""
        if same_address and score >= rules.similarity:
            reason = "same address and similar content"
        elif not is_anonymous(caller) and caller == earlier.caller_number.strip():
            same_category = bool(ticket.category_code) and (
                ticket.category_code == earlier.category_code
            )
            if same_address:
                reason = "same caller and address"
            elif same_category:
                reason = "same caller and category"
            elif score >= rules.caller_similarity:
                reason = "same caller and similar content"
        if not reason:
            continue
        key = (score, earlier.created_at)
        if best is None or key > best[:2]:
            best = (score, earlier.created_at, DuplicateMatch(earlier, reason, round(score, 3)))
    return best[2] if best else None
