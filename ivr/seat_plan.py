"""Seat allocation built from the settings: the ACD (``call_routing.acd.plan``),
the agents' SIP URIs and the hub's :class:`~ivr.seating.Seating` around them."""

from __future__ import annotations

from call_routing.acd import Acd
from call_routing.acd.plan import build_acd as plan_acd
from call_routing.acd.plan import check_plan
from call_routing.taxonomy import load_taxonomy
from ivr.flow import CallFlow
from ivr.seating import Seating, SeatingOptions
from sip_config import Settings


def registrar_address(settings: Settings) -> str:
    """host:port of the node's Kamailio, where agents' phones register."""
    host = settings.sip.advertised_address or settings.sip.listen
    if host == "0.0.0.0":
        host = "127.0.0.1"
    return f"{host}:{settings.sip.port}"


def _groups(settings: Settings) -> tuple[list[str], str]:
    taxonomy = load_taxonomy(settings.routing.taxonomy)
    groups = sorted({domain.seat_group for domain in taxonomy.domains.values()})
    return groups, taxonomy.general_seat_group


def seat_problems(settings: Settings) -> list[str]:
    """What is wrong with the agents and seat groups (checked before the node starts)."""
    if not settings.agents:
        return []
    groups, general = _groups(settings)
    return check_plan(settings, groups, general)


def build_acd(settings: Settings) -> tuple[Acd, str]:
    """The ACD for the settings' agents and seat groups, and the general group."""
    groups, general = _groups(settings)
    acd = plan_acd(settings, groups, general, registered_uri=registrar_address(settings))
    return acd, general


def build_seating(settings: Settings, flows: dict[str, CallFlow]) -> Seating:
    acd, general = build_acd(settings)
    uris = {state.id: state.agent.sip_uri for state in acd.agents()}
    options = SeatingOptions(
        announce_every_s=settings.acd.announce_every_s,
        callback=settings.acd.callback,
        callback_offer_after_s=settings.acd.callback_offer_after_s,
        trunk_uri=settings.acd.trunk_uri,
    )
    return Seating(acd, uris, flows, general, options)
