"""Scripted understandings: what a fake model says about the caller's words, as the
real :class:`~call_routing.understanding.Understanding` the hub and flows carry."""

from __future__ import annotations

from typing import Any

from call_routing.emergency import Emergency
from call_routing.slots import Address, Name, Slots
from call_routing.understanding import LOW_CONFIDENCE, Understanding

_SERVICES = {"110": "police", "119": "fire", "120": "medical"}


def scripted(
    *,
    request_type: str = "咨询",
    domain: str = "",
    category: dict[str, str] | None = None,
    seat_group: str = "",
    departments: list[str] | tuple[str, ...] = (),
    emergency: str | None = None,
    low_confidence: bool = False,
    summary: str = "",
    slots: dict[str, Any] | None = None,
    general_seat_group: str = "",
    emergency_adjacent: bool = False,
) -> Understanding:
    """An understanding with just these facts (keywords as in ``Understanding.as_dict``):
    ``emergency`` is the number to hand the call to, ``slots`` holds ``addresses``
    (``address``/``text``) and ``names`` (``value``) as dicts."""
    found = slots or {}
    confidence = 0.0 if low_confidence else 1.0
    service = _SERVICES.get(emergency or "", "police")
    return Understanding(
        request_type=request_type,
        type_confidence=confidence,
        domain=domain,
        domain_confidence=confidence,
        category_code=(category or {}).get("code", ""),
        category=(category or {}).get("name", ""),
        seat_group=seat_group,
        departments=tuple(departments),
        emergency=Emergency(service, service, emergency, "", (0, 0), 1.0) if emergency else None,
        slots=Slots(
            addresses=tuple(
                Address(address=a.get("address", ""), text=a.get("text", ""), span=(0, 0))
                for a in found.get("addresses", ())
            ),
            names=tuple(
                Name(value=n["value"], surname="", given="", title="", text=n["value"], span=(0, 0))
                for n in found.get("names", ())
            ),
        ),
        summary=summary,
        low_confidence_below=LOW_CONFIDENCE,
        danger=0.3 if emergency_adjacent else 0.0,
        general_seat_group=general_seat_group,
    )
