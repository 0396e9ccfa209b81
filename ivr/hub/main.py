"""The hub process, assembled: the bus, the outbox, the stores, the understanding
model, seat allocation and the consoles, wired around one :class:`~ivr.hub.hub.Hub`.

This is the only module of the node that imports ``web``: the hub serves the
consoles from its own event loop, and the web app sees it only through the
console protocol ``web`` declares.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from events import messages as m
from events import topics
from events.broker_address import broker_address
from events.messages import Message
from events.mqtt import MqttBus
from ivr.hub.call_tickets import CallTickets
from ivr.hub.deadline_sweep import sweep_deadlines
from ivr.hub.flow import CallFlow, FlowOptions
from ivr.hub.hotspot_watch import HotspotWatch, watch_hotspots
from ivr.hub.hub import Hub
from ivr.hub.seating import Seating
from ivr.hub.survey_calls import SurveyCalls, run_surveys
from ivr.hub.survey_flow import SurveyTimeouts
from ivr.node.logs import configure, fields
from recordings.catalog import CallCatalog
from sip_config import Settings

if TYPE_CHECKING:
    from call_routing.understanding import Understanding
    from sip_config.settings import RoutingSection

log = logging.getLogger("hub")


def open_tickets(settings: Settings, durable: Durable | None = None) -> CallTickets | None:
    """The ticket store (migrated to the current schema); None (logged) if unreachable.
    With ``durable``, every ticket change writes its ``ticket.changed`` event into
    the outbox in the change's own transaction."""
    from events.ticket_feed import TicketFeed
    from tickets.policy import TicketPolicy
    from tickets.store import TicketStore

    try:
        store = TicketStore(
            settings.tickets_database_url, TicketPolicy.from_settings(settings.tickets)
        )
    except Exception as exc:  # calls are still answered and recorded
        log.error("no ticket store: %s", exc)
        return None
    if durable is not None:
        store.on_change = TicketFeed(durable.outbox, settings.node.name, durable.publisher.wake)
    return CallTickets(store, load_departments(settings))


class Durable:
    """Ticket and call-outcome events written to the outbox table first and
    published from there (at-least-once, across broker outages and restarts)."""

    def __init__(self, outbox: Any, publisher: Any, bus: Any) -> None:
        self.outbox, self.publisher, self.bus = outbox, publisher, bus
        self.task = asyncio.create_task(publisher.run())

    async def stop(self) -> None:
        with contextlib.suppress(Exception):  # the rest goes out on the next start
            await asyncio.wait_for(self.publisher.publish_pending(), 3)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await asyncio.to_thread(self.outbox.close)


def open_outbox(settings: Settings, bus: MqttBus) -> Durable | None:
    """The outbox and its publisher; None (logged: events then go out directly,
    not durably) when the database is unreachable."""
    from events.outbox import Outbox, OutboxBus, OutboxPublisher

    try:
        outbox = Outbox(settings.tickets_database_url, node=settings.node.name)
    except Exception as exc:
        log.error("no event outbox, events are not durable: %s", exc)
        return None
    publisher = OutboxPublisher(outbox, bus)
    durable = Durable(outbox, publisher, None)
    durable.bus = OutboxBus(bus, outbox, publisher)
    return durable


async def open_hotspot_watch(settings: Settings, store: Any, durable: Durable) -> HotspotWatch:
    """The hotspot watch over the ticket store, knowing the bursts it published
    before this start; problems without a category are told by the hub's domain
    model (loaded on the first look, on the watch's thread)."""
    import functools

    @functools.cache
    def domain() -> Any:
        from call_routing.nlu_model import load

        return load(settings.routing.model).domain

    def classify(titles: list[str]) -> list[Any]:
        return [p.scores for p in domain().predict_all(titles)]

    watch = HotspotWatch(store, settings.analytics, settings.node.name, classify)
    try:
        await asyncio.to_thread(watch.remember, durable.outbox, datetime.now(UTC))
    except Exception as exc:  # at worst a burst is announced twice
        log.warning("published hotspots not read back: %s", exc)
    return watch


async def restore_queue_log(hub: Hub, durable: Durable | None, now: datetime | None = None) -> int:
    """Refill the wallboard's figures (today, last 30 minutes) from the outcomes the
    outbox recorded before this start; returns how many were restored."""
    if hub.seating is None or durable is None:
        return 0
    from ivr.hub.queue_log import OUTCOME_EVENTS, entries_from_events

    queue_log = hub.seating.log
    try:
        rows = await asyncio.to_thread(
            durable.outbox.since, (now or datetime.now(UTC)) - queue_log.keep, OUTCOME_EVENTS
        )
        events = [(row.created_at, row.message) for row in rows]
    except Exception as exc:  # the figures start afresh; calls are not affected
        log.warning("queue figures not restored: %s", exc)
        return 0
    kept = queue_log.restore(entries_from_events(events))
    if kept:
        log.info("queue figures restored", extra=fields(outcomes=kept))
    return kept


def open_catalog(settings: Settings) -> CallCatalog | None:
    """The QA call catalog (migrated); None (logged) if the database is unreachable."""
    from recordings.catalog import CallCatalog

    try:
        return CallCatalog(settings.tickets_database_url)
    except Exception as exc:  # calls are still answered and recorded
        log.error("no call catalog: %s", exc)
        return None


def load_understanding(routing: RoutingSection) -> Callable[[str], Understanding] | None:
    """The understanding (``[routing]``: taxonomy, model, category tree), loaded once;
    None (logged) if it cannot be loaded."""
    from call_routing.understanding import build_understander

    try:
        understander = build_understander(
            routing.taxonomy, routing.model, routing.categories, routing.low_confidence
        )
    except Exception as exc:  # the node still answers and records; agents classify
        log.error("no understanding of callers: %s", exc)
        return None

    return lambda text: understander.understand(text, datetime.now())


def start_web(settings: Settings, hub: Hub, stop: asyncio.Event) -> asyncio.Task | None:
    """The consoles and REST API (``[web]``), served from the hub's event loop."""
    if not settings.web.enabled:
        return None
    from ivr.hub.console import Console
    from web.accounts import open_accounts
    from web.app import create_app
    from web.context import WebContext
    from web.fanout import Update
    from web.server import serve

    try:
        accounts = open_accounts(settings)
    except Exception as exc:  # calls go on; logins are refused with a reason
        log.error("no console accounts: %s", exc)
        accounts = None
    context = WebContext(
        settings,
        accounts=accounts,
        console=Console(hub),  # the node's health too; agents' routes check has_agents()
        catalog=hub.catalog,
        tickets=hub.tickets.store if hub.tickets is not None else None,
    )
    context.directory = load_departments(settings)
    hub.watchers.append(
        lambda topic, message: context.fanout.publish(
            Update(topic, message.type, message.data, message.ts)
        )
    )
    app = create_app(context)
    return asyncio.create_task(serve(app, settings.web.host, settings.web.port, stop))


def load_departments(settings: Settings) -> Any:
    """The department directory (``tickets.departments``, checked at start by the
    preflight); None (logged) if it cannot be read now: the consoles fall back to
    the shipped example."""
    from tickets.departments import DirectoryError, load_directory

    try:
        return load_directory(settings.tickets.departments)
    except DirectoryError as exc:
        log.error("tickets.departments unusable: %s", exc)
        return None


def prepare_accounts(settings: Settings) -> None:
    """Open the consoles' accounts once (migrated; a first start creates the admin and
    prints its one-time password); logged, not raised: the node still takes calls."""
    from web.accounts import open_accounts

    try:
        open_accounts(settings).close()
    except Exception as exc:  # the consoles say why at sign-in
        log.error("console accounts unavailable: %s", exc)


def seating_for(settings: Settings) -> Callable[[dict[str, CallFlow]], Seating] | None:
    """Seat allocation from the settings; None when no agents are configured."""
    if not settings.agents:
        return None
    from ivr.hub.seat_plan import build_seating

    return lambda flows: build_seating(settings, flows)


def open_surveys(settings: Settings, hub: Hub) -> SurveyCalls:
    """The 回访 survey calls of ``[verification]``, on the hub's ticket store."""
    from tickets.verification_store import VerificationStore
    from verification.schedule import VerificationPolicy, load_do_not_call
    from verification.survey_script import SurveyScript

    assert hub.tickets is not None
    section = settings.verification
    directory = hub.tickets.directory

    def department_name(department: str) -> str:
        found = directory.find(department) if directory is not None and department else None
        return str(getattr(found, "name", "") or department)

    groups = {agent.id: agent.seat_groups[0] for agent in settings.agents if agent.seat_groups}

    return SurveyCalls(
        VerificationStore(hub.tickets.store),
        VerificationPolicy.from_settings(settings),
        settings.survey_trunk_uri,
        settings.survey_caller_id,
        hub.render,
        hub.send_to_worker,
        hub.worker_with_room,
        hand_to_agent=hub.take_over_survey,
        clock=hub.clock,
        script_options=SurveyScript(comment=section.comment),
        timeouts=SurveyTimeouts(dial_s=section.ring_timeout_s),
        max_calls=section.max_calls,
        do_not_call=load_do_not_call(section.do_not_call),
        department_name=department_name,
        seat_group_of=lambda owner: groups.get(owner, ""),
    )


def prompt_renderer(settings: Settings) -> Callable[[str], str]:
    from tts.prompts import render_text

    prompts = settings.prompts

    def render(text: str) -> str:
        return render_text(
            text,
            settings.prompts_dir,
            settings.workers.clock_rate,
            prompts.voice,
            prompts.words_per_minute,
        )

    return render


async def run_hub(settings: Settings, stop: asyncio.Event) -> None:
    hub: Hub | None = None

    async def announce() -> None:
        assert hub is not None
        await bus.publish(topics.hub_status(), hub.status("up"), retain=True)

    bus = MqttBus(
        broker_address(settings),
        client_id=f"{settings.node.name}-hub-{os.getpid()}",
        will=(
            topics.hub_status(),
            Message(m.HUB_STATUS, {"state": "down"}, node=settings.node.name),
        ),
        on_connect=announce,
        urgent=topics.is_call_offer,  # a worker waits for the answer with a deadline
    )
    listen = settings.listen
    durable = open_outbox(settings, bus)
    hub = Hub(
        durable.bus if durable is not None else bus,
        settings.node.name,
        options=FlowOptions(
            listen.barge_in,
            listen.asks,
            seats=bool(settings.agents),
            priority_key=settings.acd.priority_key,
        ),
        understand=load_understanding(settings.routing),
        tickets=open_tickets(settings, durable),
        catalog=open_catalog(settings),
        recordings_root=settings.recordings_dir,
        concurrent_calls=True,
        seating=seating_for(settings),
        render=prompt_renderer(settings),
        priority_numbers=settings.acd.priority_numbers,
        answer_within_s=settings.workers.hub_answer_timeout_s,
    )
    await restore_queue_log(hub, durable)
    task = asyncio.create_task(
        bus.run(
            [
                topics.ALL_CALL_EVENTS,
                topics.ALL_WORKER_STATUS,
                topics.ALL_WORKER_REPLIES,
                topics.ALL_AGENT_COMMANDS,
                topics.ALL_AGENT_UPDATES,
                topics.ALL_TICKET_EVENTS,
                topics.ALL_ASR_STATUS,
            ],
            hub.on_message,
        )
    )
    web_task = start_web(settings, hub, stop)
    sweeping = None
    if hub.tickets is not None and settings.tickets.sweep_every_s > 0:
        sweeping = asyncio.create_task(
            sweep_deadlines(hub.tickets.store, settings.tickets.sweep_every_s, stop)
        )
    surveying = None
    if settings.verification.enabled and hub.tickets is not None:
        hub.surveys = open_surveys(settings, hub)
        surveying = asyncio.create_task(
            run_surveys(hub.surveys, settings.verification.every_s, stop, settings.run_dir)
        )
    watching = None
    if hub.tickets is not None and durable is not None and settings.analytics.hotspot_watch:
        hub.hotspots = await open_hotspot_watch(settings, hub.tickets.store, durable)
        watching = asyncio.create_task(watch_hotspots(hub.hotspots, durable.bus.publish, stop))
    await hub.publish_seat_states()
    reindexing = None
    if hub.catalog is not None:  # calls recorded while the hub was down
        reindexing = asyncio.create_task(
            asyncio.to_thread(hub.catalog.reindex, settings.recordings_dir, True)
        )
    log.info("hub up", extra=fields(node=settings.node.name))
    last_status = last_load = 0.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        await hub.tick()
        if time.monotonic() - last_load >= 1:
            last_load = time.monotonic()
            await bus.publish(
                topics.hub_load(), Message(m.HUB_LOAD, hub.load(), node=settings.node.name)
            )
        if time.monotonic() - last_status > 5:
            last_status = time.monotonic()
            await announce()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(hub.settle(), 5)
    if web_task is not None:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(web_task, 10)
    for background in (sweeping, surveying, watching):
        if background is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(background, 5)
    if durable is not None:
        await durable.stop()
    if reindexing is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reindexing, 5)
    await bus.publish(topics.hub_status(), hub.status("down"), retain=True)
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description="hotline hub (started by hotline serve)")
    parser.add_argument("--settings", type=Path, required=True)
    args = parser.parse_args()
    faulthandler.enable()
    settings = Settings.model_validate_json(args.settings.read_text(encoding="utf-8"))
    configure("hub", settings.node.log_level)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_hub(settings, stop)

    asyncio.run(go())


if __name__ == "__main__":
    main()
