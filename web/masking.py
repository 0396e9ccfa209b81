"""Masking of ID-card and phone numbers for roles that do not need them in full.

The rule (:func:`sees_full_numbers`):

- supervisor and admin see every number in full;
- an agent sees the numbers of the call they are on (or were offered) in full,
  and every other call's or ticket's numbers masked — the router says which is
  the agent's own call (``on_call=True``);
- QA staff see numbers masked (they judge the service, not the caller);
- nobody signed in sees them masked.

How a number is masked: an ID-card number (身份证号) keeps its first 6 and
last 4 characters (``440106********1234``), a phone number its first 3 and last 4
digits (``138****8000``, ``020****4321``); separators stay where they are.
Free text (transcripts, ticket content, summaries) is searched for numbers,
also those read out digit by digit (幺三八…), with ``call_routing.slots``.

Routers mask API payloads with :func:`mask_for` (a plain JSON-like value in,
a masked copy out)::

    return mask_for(ticket_json, principal, on_call=ticket.call_id == my_call_id)

Which keys hold what is in :data:`PHONE_FIELDS`, :data:`ID_FIELDS` and
:data:`TEXT_FIELDS`; strings under other keys are left alone (ticket numbers,
call ids and hashes must not be touched), except inside :data:`NESTED_FIELDS`
(understanding slots), where every string is searched like free text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from call_routing.slots import SPOKEN_DIGITS, extract_slots
from web.roles import Principal, Role

PHONE_FIELDS = frozenset(
    {
        "caller_number",
        "callback_number",
        "caller",
        "phone",
        "phone_number",
        "mobile",
        "contact_number",
        "from_number",
        "remote_number",
    }
)
ID_FIELDS = frozenset({"id_card", "id_card_number", "id_number", "identity_number"})
TEXT_FIELDS = frozenset(
    {"transcript", "content", "summary", "reply", "text", "address", "note", "partial", "final"}
)
NESTED_FIELDS = frozenset({"slots", "phones", "id_numbers", "transcript_lines", "lines"})

_FULL_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
_COUNTRY = re.compile(r"(?:\+86|0086)[\s-]?")  # China's country code, kept as written


def _is_digit(char: str) -> bool:
    return char in SPOKEN_DIGITS or "０" <= char <= "９"


def _mask_digits(value: str, keep_head: int, keep_tail: int) -> str:
    """``value`` with its digits (written or spoken) starred, but for the first
    ``keep_head`` and the last ``keep_tail``; other characters stay."""
    positions = [i for i, char in enumerate(value) if _is_digit(char)]
    hidden = positions[keep_head : len(positions) - keep_tail if keep_tail else None]
    if not hidden:
        return value
    chars = list(value)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


def mask_id_card(value: str) -> str:
    """``440106199001011234`` → ``440106********1234`` (first 6 and last 4 kept);
    a shorter value keeps only its last 4 (or nothing, up to 4 characters)."""
    digits = sum(1 for char in value if _is_digit(char) or char in "Xx")
    if digits > 10:
        head, tail = 6, 4
    elif digits > 4:
        head, tail = 0, 4
    else:
        head, tail = 0, 0
    positions = [i for i, char in enumerate(value) if _is_digit(char) or char in "Xx"]
    hidden = positions[head : len(positions) - tail]
    chars = list(value)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


def mask_phone(value: str) -> str:
    """``13800138000`` → ``138****8000``, ``020-87654321`` → ``020-****4321``: first 3
    and last 4 digits kept (after a +86 country code); a number of 5 to 7 digits
    keeps its last 2, shorter ones stay (service numbers such as 110 are nobody's)."""
    prefix = _COUNTRY.match(value)
    if prefix:
        return prefix.group() + mask_phone(value[prefix.end() :])
    digits = sum(1 for char in value if _is_digit(char))
    if digits >= 8:
        return _mask_digits(value, 3, 4)
    if digits >= 5:
        return _mask_digits(value, 0, 2)
    return value


def mask_text(text: str) -> str:
    """Free text with every mobile, landline and ID-card number in it masked
    (written with digits or read out: 幺三八零零…); service numbers stay."""
    if not text:
        return text
    slots = extract_slots(text)
    edits: list[tuple[int, int, str]] = []
    for phone in slots.phones:
        if phone.kind in ("mobile", "landline"):
            start, end = phone.span
            said = text[start:end]
            extra = sum(1 for c in said if _is_digit(c)) - sum(c.isdigit() for c in phone.value)
            edits.append((start, end, _mask_digits(said, 3 + max(extra, 0), 4)))
    for number in slots.id_numbers:
        start, end = number.span
        edits.append((start, end, mask_id_card(text[start:end])))
    for start, end, masked in sorted(edits, reverse=True):
        text = text[:start] + masked + text[end:]
    return text


def sees_full_numbers(principal: Principal | None, *, on_call: bool = False) -> bool:
    """Whether ``principal`` may see phone and ID-card numbers in full (see the
    module's rule); ``on_call``: the data belongs to the call the agent is on."""
    if principal is None:
        return False
    if principal.role in _FULL_ROLES:
        return True
    return principal.role is Role.AGENT and on_call


def _mask_all_text(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _mask_all_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_all_text(v) for v in value]
    return value


def mask_fields(value: Any) -> Any:
    """A masked copy of a JSON-like value (dicts, lists, strings, numbers): phone,
    ID-card and free-text fields by key, and everything inside nested slots."""
    if isinstance(value, Mapping):
        masked: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and key in PHONE_FIELDS:
                masked[key] = mask_phone(item)
            elif isinstance(item, str) and key in ID_FIELDS:
                masked[key] = mask_id_card(item)
            elif isinstance(item, str) and key in TEXT_FIELDS:
                masked[key] = mask_text(item)
            elif key in NESTED_FIELDS | PHONE_FIELDS | ID_FIELDS | TEXT_FIELDS:
                masked[key] = _mask_all_text(item)
            else:
                masked[key] = mask_fields(item)
        return masked
    if isinstance(value, list | tuple):
        return [mask_fields(item) for item in value]
    return value


def mask_for(value: Any, principal: Principal | None, *, on_call: bool = False) -> Any:
    """``value`` as ``principal`` may see it: unchanged for those who see numbers
    in full (:func:`sees_full_numbers`), else :func:`mask_fields`'s copy."""
    if sees_full_numbers(principal, on_call=on_call):
        return value
    return mask_fields(value)
