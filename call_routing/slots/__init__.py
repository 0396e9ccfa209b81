"""Slots (槽位) in a caller's words: addresses, phone and ID numbers, names, times,
businesses and organisations.

``extract_slots(text, now=...)`` is pure and total: any string (empty, fillers
only, thousands of characters, English, emoji) gives a valid :class:`Slots`.
Every slot keeps the text it was read from and its character span in the
input, so a desk can highlight it and a summary can mask it (:func:`mask_ids`,
:func:`mask_phones`).  Times are resolved against the ``now`` passed in; the
clock is never read.

Rules, not a model: in each module the tables of words come first, the small
functions that use them follow.  Every pattern is linear (no nested
quantifiers), so a 5,000-character rant costs a few milliseconds.

One module a concern: ``extraction`` (the entry points), ``results`` (the slot
types), ``phones`` (phone and ID numbers), ``addresses``, ``names``, ``times``,
``organisations``; ``numbers`` (spoken digits, Chinese numerals), ``spans`` and
``vocabulary`` serve them all.
"""

from __future__ import annotations

from call_routing.slots.extraction import extract_slots, mask_ids, mask_phones
from call_routing.slots.numbers import SPOKEN_DIGITS, cn_number
from call_routing.slots.phones import id_checksum_ok
from call_routing.slots.results import (
    Address,
    AddressPart,
    IdNumber,
    Name,
    Organisation,
    Phone,
    Slots,
    TimeMention,
)

__all__ = [
    "SPOKEN_DIGITS",
    "Address",
    "AddressPart",
    "IdNumber",
    "Name",
    "Organisation",
    "Phone",
    "Slots",
    "TimeMention",
    "cn_number",
    "extract_slots",
    "id_checksum_ok",
    "mask_ids",
    "mask_phones",
]
