"""What ``hotline tickets`` shares: the node's ticket store and department directory,
acting as a user (``--as``) with exactly the web's permissions, ``--now`` for
operators and tests, attachments, and the deadline sweep command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ivr.cli.common import ConfigOpt, DataDirOpt, console, err, node_settings


def fail(message: str) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(2)


def ticket_store(config: Path | None, data_dir: Path | None) -> Any:
    """The ticket store from the settings (migrated on open), or exit 2 saying why."""
    from events.outbox import Outbox, OutboxError
    from events.ticket_feed import TicketFeed
    from tickets.policy import TicketPolicy
    from tickets.store import StoreError, TicketStore

    settings = node_settings(config, **{"node.data_dir": data_dir})
    try:
        store = TicketStore(
            settings.tickets_database_url, TicketPolicy.from_settings(settings.tickets)
        )
        # Changes made here reach other systems too: a running hub publishes them.
        # The rows carry no node, so any hub on this database takes them, whatever
        # configuration this command was given.
        store.on_change = TicketFeed(Outbox(store.engine), settings.node.name)
    except (StoreError, OutboxError) as exc:
        raise fail(str(exc)) from None
    return store


def directory(config: Path | None, data_dir: Path | None) -> Any:
    """The node's department directory (``tickets.departments``), or exit 2 saying why."""
    from tickets.departments import DirectoryError, load_directory

    settings = node_settings(config, **{"node.data_dir": data_dir})
    try:
        return load_directory(settings.tickets.departments)
    except DirectoryError as exc:
        raise fail(f"tickets.departments: {exc}") from None


def parse_now(text: str | None) -> datetime:
    """``--now``: an ISO time (naive: the hotline's local time), or the clock."""
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise fail(f"--now {text}: give an ISO time, e.g. 2026-12-24T09:00+08:00") from None
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        from sip_config.settings import TicketsSection

        moment = moment.replace(tzinfo=ZoneInfo(TicketsSection().timezone))
    return moment


def acting_user(config: Path | None, data_dir: Path | None, username: str) -> Any:
    """The :class:`tickets.permissions.Actor` of the account ``username`` (role,
    department, agent id), or exit 2 when there is none or it is disabled."""
    from tickets.permissions import Actor
    from tickets.store import StoreError
    from web.accounts import Accounts, UnknownUser

    settings = node_settings(config, **{"node.data_dir": data_dir})
    try:
        with Accounts.from_settings(settings) as accounts:
            user = accounts.get_user(username.strip())
    except UnknownUser:
        raise fail(f"--as {username}: there is no such user (hotline users list)") from None
    except StoreError as exc:
        raise fail(str(exc)) from None
    if user.disabled:
        raise fail(f"--as {username}: the account is disabled")
    name = user.agent_id or user.username
    return Actor(name, user.role.value, user.department, user.agent_id)


def check_permission(actor: Any, ticket: Any, action: Any, rules: Any) -> None:
    """Exit 2 with the reason when ``actor`` may not take ``action`` (as the web
    refuses: another department's ticket does not exist for them)."""
    from tickets.permissions import refusal

    refused = refusal(actor, ticket, action, rules)
    if refused is not None:
        prefix = "" if refused.hidden else f"{ticket.number}: {actor.name} ({actor.role}): "
        raise fail(prefix + refused.reason)


def attachments_root(config: Path | None, data_dir: Path | None) -> Path:
    """Where attachments are kept: beside the recordings."""
    settings = node_settings(config, **{"node.data_dir": data_dir})
    return settings.recordings_dir / "attachments"


def attach(
    store: Any, root: Path, number: str, files: list[Path], actor: str, department: str
) -> tuple[str, ...]:
    """Store ``files`` as attachments of ticket ``number``; their ids (exit 2 if refused)."""
    from tickets.attachments import AttachmentError, store_attachment

    ids = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise fail(f"--attach {path}: {exc.strerror}") from None
        try:
            stored = store_attachment(root, number, path.name, data)
        except AttachmentError as exc:
            raise fail(f"--attach {path}: {exc}") from None
        ids.append(str(store.add_attachment(number, stored, actor, department, datetime.now(UTC))))
    return tuple(ids)


def tickets_sweep(
    now: Annotated[
        str | None, typer.Option("--now", help="Sweep as of this ISO time (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="What was done, as JSON.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The deadline sweep the hub runs by itself: mark 即将超期 and 超期, send 催办 and
    督办 on overdue tickets, escalate those still overdue, urge departments late to
    sign or report in.  Running it again at the same time changes nothing."""
    moment = parse_now(now)
    with ticket_store(config, data_dir) as store:
        report = store.sweep(moment)
    if as_json:
        print(json.dumps({"now": moment.isoformat(), **report.as_dict()}, ensure_ascii=False))
        return
    console.print(
        f"swept at {moment.isoformat()}: {len(report.due_soon)} due soon (即将超期), "
        f"{len(report.overdue)} overdue (超期, 催办 + 督办), {len(report.escalated)} escalated "
        f"(升级督办), {len(report.urged)} department(s) urged to sign or report in",
        highlight=False,
    )
    for number in report.overdue:
        console.print(f"  超期 {number}", highlight=False)
