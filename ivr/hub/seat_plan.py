"""Seat allocation built from the settings: the ACD (``call_routing.acd.plan``),
the agents' SIP URIs and the hub's :class:`~ivr.hub.seating.Seating` around them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from call_routing.acd import Acd
from call_routing.acd.plan import Plan, check_plan, plan_from_settings
from call_routing.taxonomy import load_taxonomy
from ivr.hub.flow import CallFlow
from ivr.hub.seating import Seating, SeatingOptions
from sip_config import Settings
from sip_config.sip_uris import front_address


def registrar_address(settings: Settings) -> str:
    """host:port of the node's Kamailio, where agents' phones register."""
    sip = settings.sip
    return front_address(sip.listen, sip.port, sip.advertised_address)


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


def build_plan(settings: Settings) -> tuple[Plan, str]:
    """Seat groups, agents and policies from the settings, and the general group."""
    groups, general = _groups(settings)
    plan = plan_from_settings(settings, groups, general, registered_uri=registrar_address(settings))
    return plan, general


def build_seating(
    settings: Settings,
    flows: dict[str, CallFlow],
    wall_clock: Callable[[], datetime] | None = None,
) -> Seating:
    plan, general = build_plan(settings)
    acd = Acd(
        plan.groups,
        plan.agents,
        offer_policy=plan.offer_policy,
        callback_policy=plan.callback_policy,
    )
    uris = {agent.id: agent.sip_uri for agent in plan.agents}
    config = settings.acd
    options = SeatingOptions(
        announce_every_s=config.announce_every_s,
        callback=config.callback,
        callback_offer_after_s=config.callback_offer_after_s,
        trunk_uri=config.trunk_uri,
        divert_wait_above_s=config.divert_wait_above_s,
        divert_calls_per_agent_above=config.divert_calls_per_agent_above,
        voicemail_max_s=config.voicemail_max_s,
    )
    zone = ZoneInfo(settings.tickets.timezone)  # opening hours are the hotline's local time
    return Seating(
        acd,
        uris,
        flows,
        general,
        options,
        schedule=plan.schedule,
        wall_clock=wall_clock or (lambda: datetime.now(zone)),
    )
