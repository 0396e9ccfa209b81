"""The entry points: every slot in a text (each slot's ``text`` as the caller
said it, full-width characters kept), and a text with its ID or phone numbers
masked."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from call_routing.slots.addresses import _LEVEL_SUFFIX, _addresses
from call_routing.slots.names import _names
from call_routing.slots.organisations import _organisations
from call_routing.slots.phones import _numbers
from call_routing.slots.results import Address, Slots, _Slot
from call_routing.slots.spans import _fold, _replace
from call_routing.slots.times import _times


def extract_slots(text: str, now: datetime | None = None) -> Slots:
    """All slots in ``text``; times are resolved against ``now`` (left unresolved without it)."""
    original = text if isinstance(text, str) else ""
    return _as_said(_extract(_fold(original), now), original)


def _extract(text: str, now: datetime | None) -> Slots:
    phones, ids = _numbers(text)
    taken = [p.span for p in phones] + [i.span for i in ids]
    times = _times(text, now, taken)
    names = _names(text)
    taken += [t.span for t in times] + [n.span for n in names]
    organisations = _organisations(text, taken)
    companies = [o.span for o in organisations if not _LEVEL_SUFFIX["landmark"].search(o.kind)]
    return Slots(
        addresses=_addresses(text, taken + companies),
        phones=tuple(phones),
        id_numbers=tuple(ids),
        names=names,
        times=times,
        organisations=organisations,
    )


def mask_ids(text: str) -> str:
    """``text`` with every ID number (valid or not) replaced by its masked form."""
    if not isinstance(text, str):
        return ""
    folded = _fold(text)
    return _replace(text, [(i.span, i.masked) for i in _numbers(folded)[1]])


def mask_phones(text: str) -> str:
    """``text`` with every phone number replaced by its masked form (138****8000)."""
    if not isinstance(text, str):
        return ""
    folded = _fold(text)
    return _replace(text, [(p.span, p.masked) for p in _numbers(folded)[0]])


def _as_said(slots: Slots, original: str) -> Slots:
    """Each slot's ``text`` as in the input (full-width digits and commas kept)."""

    def said(slot: _Slot) -> _Slot:
        return replace(slot, text=original[slot.span[0] : slot.span[1]])

    def address(found: Address) -> Address:
        return replace(said(found), parts=tuple(said(p) for p in found.parts))

    return Slots(
        addresses=tuple(address(a) for a in slots.addresses),
        phones=tuple(said(p) for p in slots.phones),
        id_numbers=tuple(said(i) for i in slots.id_numbers),
        names=tuple(said(n) for n in slots.names),
        times=tuple(said(t) for t in slots.times),
        organisations=tuple(said(o) for o in slots.organisations),
    )
