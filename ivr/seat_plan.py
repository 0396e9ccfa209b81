"""Seat allocation built from the settings: the ACD, the agents' SIP URIs and the
hub's :class:`~ivr.seating.Seating` around them."""

from __future__ import annotations

from call_routing.acd import Acd, Agent, OfferPolicy, SeatGroup, Strategy
from call_routing.acd.dispatcher import CallbackPolicy
from call_routing.taxonomy import load_taxonomy
from ivr.flow import CallFlow
from ivr.seating import Seating, SeatingOptions, agent_uri
from sip_config import Settings


def registrar_address(settings: Settings) -> str:
    """host:port of the node's Kamailio, where agents' phones register."""
    host = settings.sip.advertised_address or settings.sip.listen
    if host == "0.0.0.0":
        host = "127.0.0.1"
    return f"{host}:{settings.sip.port}"


def build_acd(settings: Settings) -> tuple[Acd, str]:
    """The ACD for the settings' agents and seat groups, and the general group."""
    taxonomy = load_taxonomy(settings.routing.taxonomy)
    general = taxonomy.general_seat_group
    names = {domain.seat_group for domain in taxonomy.domains.values()} | {general}
    names |= set(settings.seat_groups)
    names |= {group for agent in settings.agents for group in agent.seat_groups}
    groups = []
    for name in sorted(names):
        tuned = settings.seat_groups.get(name)
        if tuned is None:
            groups.append(SeatGroup(name))
            continue
        groups.append(
            SeatGroup(
                name,
                strategy=Strategy(tuned.strategy),
                max_wait_s=tuned.max_wait_s,
                max_length=tuned.max_length,
                wrap_up_s=tuned.wrap_up_s,
                ring_timeout_s=tuned.ring_timeout_s,
                required_skill=tuned.required_skill or None,
                required_level=tuned.required_level,
            )
        )
    registrar = registrar_address(settings)
    agents = [
        Agent(
            a.id,
            a.name or a.id,
            agent_uri(a.id, a.sip_uri, registrar),
            tuple(a.seat_groups),
            dict(a.skills),
        )
        for a in settings.agents
    ]
    acd = Acd(
        groups,
        agents,
        offer_policy=OfferPolicy(settings.acd.max_missed),
        callback_policy=CallbackPolicy(
            settings.acd.callback_retries, settings.acd.callback_retry_s
        ),
    )
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
