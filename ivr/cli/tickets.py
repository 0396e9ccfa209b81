"""``hotline tickets``: list, show and change work orders in the node's store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from ivr.cli.common import (
    ConfigOpt,
    DataDirOpt,
    console,
    err,
    node_settings,
)
from ivr.cli.ticket_work import (
    acting_user,
    attach,
    attachments_root,
    check_permission,
    directory,
    fail,
    parse_now,
    ticket_store,
    tickets_sweep,
)

tickets_app = typer.Typer(help="Work orders: list, show, change.", no_args_is_help=True)
tickets_app.command("sweep")(tickets_sweep)


def _rate_calls(config: Path | None, data_dir: Path | None, number: str, rating: str) -> None:
    """The citizen's rating onto the ticket's calls in the QA catalog."""
    from recordings.catalog import CallCatalog

    settings = node_settings(config, **{"node.data_dir": data_dir})
    try:
        with CallCatalog(settings.tickets_database_url) as catalog:
            catalog.set_rating(number, rating)
    except Exception as exc:  # the rating is on the ticket; QA can reindex
        err.print(f"warning: the call catalog was not updated: {exc}", highlight=False)


def _ticket_store(config: Path | None, data_dir: Path | None) -> Any:
    return ticket_store(config, data_dir)


def _ticket_json(ticket: Any, store: Any, detail: bool = True, now: Any = None) -> dict[str, Any]:
    """The ticket as the REST API gives it (one serialiser for the API and the CLI):
    everything it holds, and with ``detail`` its history too."""
    from datetime import UTC, datetime

    from tickets.lifecycle import allowed_actions
    from tickets.work import work_summary
    from web.schemas.tickets import TicketDetail

    now = now or datetime.now(UTC)
    today = store.policy.deadlines.local_day(now)
    found = TicketDetail.from_ticket(ticket, today, allowed_actions(ticket))
    data = found.model_dump(mode="json", exclude=None if detail else {"history"})
    if detail:
        for key, value in work_summary(ticket, now, store.policy.deadlines).items():
            if not data.get(key):
                data[key] = value
        answer = ticket.reply_draft.text if ticket.reply_draft else ticket.reply
        if answer and not data.get("assessment"):
            data["assessment"] = _assessment(ticket, answer, store)
    return data


def _assessment(ticket: Any, answer: str, store: Any) -> dict[str, Any]:
    """The 形式办结 check of the department's answer, as the centre's review shows it:
    relevance to the complaint, boilerplate, undated promises, and the repeats linked
    to the ticket since (the citizen complained again)."""
    from tickets.store import TicketQuery
    from verification import assess_reply

    since = next(
        (e.at for e in reversed(ticket.audit) if e.action in ("reply", "approve_reply")), None
    )
    again = (
        [
            t.content
            for t in store.find(TicketQuery(duplicates=True, created_from=since, limit=50))
            if t.linked_to == ticket.number and t.content
        ]
        if since is not None
        else []
    )
    complaint = ticket.content or ticket.summary
    return assess_reply(complaint, answer, later_complaints=again).as_dict()


def _status_option(value: str | None) -> Any:
    from tickets.model import Status

    if value is None:
        return None
    for status in Status:
        if value.strip().lower() in (status.value, status.label):
            return status
    choices = ", ".join(f"{s.value} ({s.label})" for s in Status)
    err.print(f"[red]error:[/red] --status {value}: choose one of {choices}", highlight=False)
    raise typer.Exit(2)


def _callback_cell(ticket: Any, zone: Any) -> str:
    from tickets.model import CallbackReason

    if ticket.callback_done_at is not None:
        return f"done {ticket.callback_done_at.astimezone(zone):%m-%d %H:%M}"
    if not ticket.callback_number:
        return ""
    number = "(confidential)" if ticket.confidential else ticket.callback_number
    reason = ticket.callback_reason
    callback = f"{CallbackReason(reason).label} {number}" if reason else number
    return f"[yellow]{callback}[/yellow]" if ticket.callback_due else callback


def _short_time(moment: Any, zone: Any, today: Any) -> str:
    """``14:05`` today, ``11-28`` earlier this year, ``2025-11`` before (as ``ls`` does)."""
    local = moment.astimezone(zone)
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%m-%d}" if local.year == today.year else f"{local:%Y-%m}"


def _tickets_table(found: list[Any], zone: Any, today: Any, callbacks: bool) -> Table:
    """The list for an 80-column terminal (rich measures Chinese as two columns): one
    line per ticket, the number whole, the created time short, callers masked, the
    summary taking what is left and cut with "…"; with ``--callbacks`` the callback
    task replaces the domain and caller.  ``--wide`` has everything else."""
    from rich import box
    from rich.markup import escape

    from call_routing.slots import mask_phones

    cell: dict[str, Any] = {"no_wrap": True, "overflow": "ellipsis"}
    widest = max((len(t.number) for t in found), default=0)
    columns = [
        Column("number", min_width=widest, **cell),
        Column("state", **cell),
        Column("created", **cell),
        Column("type", **cell),
    ]
    if callbacks:
        columns.append(Column("callback", max_width=24, **cell))
    else:
        columns += [Column("domain", max_width=8, **cell), Column("caller", max_width=14, **cell)]
    columns.append(Column("summary", ratio=1, min_width=6, **cell))
    table = Table(
        *columns, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0, expand=True
    )
    for ticket in found:
        state = ticket.status.label
        if ticket.is_overdue(today):
            state += " [red]超期[/red]"
        if callbacks:
            middle = [_callback_cell(ticket, zone)]
        else:
            caller = "保密" if ticket.confidential else mask_phones(ticket.caller_number)
            middle = [escape(ticket.domain), escape(caller)]
        summary = mask_phones(" ".join((ticket.summary or ticket.content).split()))
        table.add_row(
            ticket.number,
            state,
            _short_time(ticket.created_at, zone, today),
            ticket.request_type.value,
            *middle,
            escape(summary),
        )
    return table


def _tickets_wide_table(found: list[Any], zone: Any, today: Any) -> Table:
    """Every column, as wide as they come."""
    from rich.markup import escape

    table = Table("created", "state", "type", "domain", "caller", "lead", "due", "callback", "")
    table.columns.insert(0, Column("number", no_wrap=True))
    table.add_column("summary", overflow="fold", max_width=60)
    for ticket in found:
        table.add_row(
            ticket.number,
            f"{ticket.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{ticket.status.label} {ticket.status.value}",
            ticket.request_type.value,
            ticket.domain,
            "(confidential)" if ticket.confidential else ticket.caller_number,
            ticket.lead_department,
            str(ticket.due_date),
            _callback_cell(ticket, zone),
            "[red]overdue[/red]" if ticket.is_overdue(today) else ticket.linked_to,
            escape(ticket.summary or ticket.content),
        )
    return table


@tickets_app.command("list")
def tickets_list(
    status: Annotated[str | None, typer.Option(help="State, e.g. handling or 办理.")] = None,
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. 城乡建设.")] = None,
    request_type: Annotated[
        str | None, typer.Option("--type", help="咨询, 求助, 投诉, 举报, 建议 or 表扬.")
    ] = None,
    caller: Annotated[str | None, typer.Option(help="Caller number.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only tickets past due.")] = False,
    callbacks: Annotated[
        bool, typer.Option("--callbacks", help="Only tickets with a callback still to make.")
    ] = False,
    since: Annotated[str | None, typer.Option(help="Created on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Created before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Every column, callers in full (the default fits 80 columns)."),
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Tickets, newest first, filtered by state, domain, type, caller, dates, overdue
    or a callback still to make."""
    from datetime import UTC, date, datetime, time
    from zoneinfo import ZoneInfo

    from tickets.model import RequestType
    from tickets.store import TicketQuery

    kind = None
    if request_type is not None:
        try:
            kind = RequestType(request_type.strip())
        except ValueError:
            choices = ", ".join(t.value for t in RequestType)
            err.print(f"[red]error:[/red] --type {request_type}: choose one of {choices}")
            raise typer.Exit(2) from None
    wanted = _status_option(status)
    store = _ticket_store(config, data_dir)
    deadlines = store.policy.deadlines
    zone = ZoneInfo(deadlines.timezone)
    bounds: list[datetime | None] = []
    for name, value in (("--since", since), ("--until", until)):
        try:
            day = date.fromisoformat(value) if value else None
        except ValueError:
            err.print(f"[red]error:[/red] {name} {value}: give a date as YYYY-MM-DD")
            raise typer.Exit(2) from None
        bounds.append(datetime.combine(day, time(), zone) if day else None)
    now = datetime.now(UTC)
    query = TicketQuery(
        status=wanted,
        domain=domain or "",
        request_type=kind,
        caller_number=caller or "",
        created_from=bounds[0],
        created_before=bounds[1],
        overdue_on=deadlines.local_day(now) if overdue else None,
        callback_due=callbacks,
        limit=limit,
    )
    with store:
        found = store.find(query)
    if as_json:
        print(json.dumps([_ticket_json(t, store, detail=False) for t in found], ensure_ascii=False))
        return
    today = deadlines.local_day(now)
    if wide:
        from rich.measure import Measurement

        # Every column whole, however narrow the terminal (read it with less -S).
        table = _tickets_wide_table(found, zone, today)
        needed = Measurement.get(console, console.options.update_width(1000), table).maximum
        Console(width=max(console.width, needed)).print(table)
    else:
        console.print(_tickets_table(found, zone, today, callbacks))
    console.print(f"{len(found)} ticket(s)", highlight=False)


def _show_ticket(ticket: Any, zone: Any) -> None:
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    rows = [
        ("state", f"{ticket.status.label} {ticket.status.value}"),
        ("created", f"{ticket.created_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"),
        ("channel", ticket.channel.value),
        ("caller", f"{ticket.caller_number} {ticket.caller_name}".strip()),
        ("confidential", "yes" if ticket.confidential else "no"),
        ("type", ticket.request_type.value),
        ("domain", f"{ticket.domain} {ticket.category_code}".strip()),
        ("lead", ticket.lead_department),
        ("co-handling", ", ".join(ticket.co_departments)),
        ("address", ticket.address),
        ("summary", ticket.summary),
        ("content", ticket.content),
        ("owner", ticket.owner),
        ("due", str(ticket.due_date)),
        ("linked to", ticket.linked_to),
        ("emergency", ticket.emergency_number),
        ("call", f"{ticket.call_id} {ticket.recording_dir}".strip()),
        ("reply", ticket.reply),
        ("rating", ticket.rating.value if ticket.rating else ""),
        ("resolution", ticket.resolution.value if ticket.resolution else ""),
        (
            "回访复核",
            "awaiting the centre's review (重办 or 维持办结)" if ticket.verification_review else "",
        ),
        ("callback", ticket.callback_number),
        (
            "callback reason",
            f"{ticket.callback_reason.label} {ticket.callback_reason}"
            if ticket.callback_reason
            else "",
        ),
        (
            "callback done",
            f"{ticket.callback_done_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"
            if ticket.callback_done_at
            else ("waiting" if ticket.callback_due else ""),
        ),
    ]
    if ticket.extension:
        ext = ticket.extension
        rows.append(("extension", f"{ext.working_days} working days asked: {ext.reason}"))
    for part in ticket.assignments:
        state = "signed" if part.signed_at else "not signed"
        if part.due_at and not part.signed_at:
            state += f", due {part.due_at.astimezone(zone):%Y-%m-%d %H:%M}"
        if part.reported_at:
            state += f", reported: {part.report}"
        rows.append((part.role.label, f"{part.department} ({state})"))
    if ticket.reply_draft:
        draft = ticket.reply_draft
        rows.append(("draft reply", f"{draft.text} (by {draft.drafted_by}, awaiting review)"))
    if ticket.return_request:
        asked = ticket.return_request
        rows.append(("return asked", f"{asked.department} → {asked.suggested}: {asked.reason}"))
    flags = [
        label
        for label, on in (
            ("即将超期", ticket.due_soon_at),
            ("超期", ticket.overdue_at),
            ("升级督办", ticket.escalated_at),
            ("督办件", ticket.supervised),
        )
        if on
    ]
    rows.append(("flags", " ".join(flags)))
    if ticket.merged_callers:
        rows.append(("merged", ", ".join(m.ticket for m in ticket.merged_callers)))
    for name, value in rows:
        if value:
            fields.add_row(name, value)
    console.print(f"[bold]{ticket.number}[/bold]", highlight=False)
    console.print(fields)
    trail = Table("when", "who", "action", "from", "to", "reason", "details")
    for entry in ticket.audit:
        trail.add_row(
            f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M:%S}",
            entry.actor,
            entry.action,
            entry.from_status.value if entry.from_status else "",
            entry.to_status.value,
            entry.reason,
            "; ".join(f"{k}: {v}" for k, v in entry.details.items()),
        )
    console.print(trail)


@tickets_app.command("show")
def tickets_show(
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. GD12345-20261128-000123.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    now: Annotated[str | None, typer.Option("--now", help="Deadlines as of this ISO time.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """One ticket with its departments' parts, deadlines, flags and audit trail."""
    from zoneinfo import ZoneInfo

    from tickets.store import UnknownTicket

    with _ticket_store(config, data_dir) as store:
        try:
            ticket = store.get(number)
        except UnknownTicket as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        zone = ZoneInfo(store.policy.deadlines.timezone)
    if as_json:
        print(json.dumps(_ticket_json(ticket, store, now=parse_now(now)), ensure_ascii=False))
        return
    _show_ticket(ticket, zone)


@tickets_app.command("transition")
def tickets_transition(
    number: Annotated[str, typer.Argument(help="Ticket number.")],
    action: Annotated[
        str,
        typer.Argument(
            help="e.g. accept, dispatch, sign, note, request_return, request_extension, reply, "
            "approve_reply, return_reply, close, reject_reply, redispatch, whistle, report_in, "
            "report, or 受理, 派单, 签收, 退单, 改派, 答复, 审核通过, 办结, 重办 …"
        ),
    ],
    actor: Annotated[
        str, typer.Option(help="Who does it, recorded as given (the centre; no permission check).")
    ] = "",
    as_user: Annotated[
        str,
        typer.Option(
            "--as",
            help="Act as this user (hotline users): their role and department decide, "
            "refused exactly as the web would refuse them.",
        ),
    ] = "",
    reason: Annotated[str, typer.Option(help="Why (needed to return, re-dispatch …).")] = "",
    department: Annotated[
        str,
        typer.Option(
            help="Department (dispatch, 改派, redispatch; for request_return the one it should "
            "go to)."
        ),
    ] = "",
    co_department: Annotated[
        list[str] | None,
        typer.Option(help="Co-handling department (dispatch) or one called in (whistle)."),
    ] = None,
    rating: Annotated[
        str | None, typer.Option(help="非常满意, 满意, 基本满意, 不满意 or 非常不满意 (rate).")
    ] = None,
    resolution: Annotated[
        str | None, typer.Option(help="已解决, 部分解决 or 未解决, as the citizen said (rate).")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Working days (extension).")] = None,
    linked_to: Annotated[str, typer.Option(help="Earlier ticket (link).")] = "",
    note: Annotated[str, typer.Option(help="Reply text, a department's part or a remark.")] = "",
    attach_files: Annotated[
        list[Path] | None,
        typer.Option("--attach", help="A photo or document for a note or reply, repeatable."),
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="As of this ISO time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ticket as JSON.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Take ACTION on a ticket; refused actions name the ones allowed now (exit 2)."""
    from tickets.lifecycle import TransitionError, parse_action
    from tickets.permissions import acts_for
    from tickets.store import ConcurrentChange, UnknownTicket

    if bool(actor.strip()) == bool(as_user.strip()):
        raise fail("give --as USER (with their permissions) or --actor NAME (the centre)")
    try:
        wanted = parse_action(action)
    except ValueError as exc:
        raise fail(str(exc)) from None
    moment = parse_now(now)
    rules = directory(config, data_dir)
    with _ticket_store(config, data_dir) as store:
        by_department = ""
        try:
            if as_user.strip():
                user = acting_user(config, data_dir, as_user)
                check_permission(user, store.get(number), wanted, rules)
                actor, by_department = user.name, acts_for(user)
            files = attach_files or []
            ids = (
                attach(
                    store,
                    attachments_root(config, data_dir),
                    number,
                    files,
                    actor,
                    by_department,
                )
                if files
                else ()
            )
            ticket = store.transition(
                number,
                wanted,
                actor,
                moment,
                reason=reason,
                department=department,
                co_departments=tuple(co_department) if co_department else None,
                rating=rating,
                resolution=resolution,
                working_days=days,
                linked_to=linked_to,
                note=note,
                attachments=ids,
                by_department=by_department,
                rules=rules,
            )
        except (TransitionError, UnknownTicket, ConcurrentChange) as exc:
            raise fail(str(exc)) from None
    if ticket.rating is not None:
        _rate_calls(config, data_dir, ticket.number, str(ticket.rating))
    if as_json:
        print(json.dumps(_ticket_json(ticket, store, now=moment), ensure_ascii=False))
        return
    entry = ticket.audit[-1]
    console.print(
        f"{ticket.number}: {entry.action} by {entry.actor}: "
        f"{ticket.status.label} {ticket.status.value}, due {ticket.due_date}",
        highlight=False,
    )
