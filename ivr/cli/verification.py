"""``hotline verification``: the 回访 tasks — list them, call a citizen now,
pause and resume the node's survey calls (figures: ``hotline report verification``).

The running hub places the calls; these commands work on the ticket database
(and the pause file in the node's run directory), so they also work while the
hub is down: a task moved to now is called at the hub's next round.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from ivr.cli.common import ConfigOpt, DataDirOpt, console, node_settings
from ivr.cli.ticket_work import fail, parse_now, ticket_store

verification_app = typer.Typer(
    help="回访: calling citizens back about results.", no_args_is_help=True
)


def _task_dict(task: Any) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": task.id,
        "ticket": task.ticket,
        "number": task.number,
        "kind": task.kind.value,
        "state": task.state.value,
        "state_label": task.state.label,
        "reason": task.reason.value if task.reason else None,
        "reason_label": task.reason.label if task.reason else None,
        "round": task.round,
        "due_by": when(task.due_by),
        "next_at": when(task.next_at),
        "tries": task.tries,
        "attempts": [
            {
                "at": when(a.at),
                "outcome": a.outcome.value,
                "outcome_label": a.outcome.label,
                "call_id": a.call_id,
                "by": a.by,
                "detail": a.detail,
            }
            for a in task.attempts
        ],
        "resolution": task.resolution.value if task.resolution else None,
        "rating": task.rating.value if task.rating else None,
        "rating_source": task.rating_source.value if task.rating_source else None,
        "comment": task.comment,
        "recording_dir": task.recording_dir,
        "department": task.department,
        "assigned_to": task.assigned_to,
    }


@verification_app.command("list")
def list_tasks(
    due: Annotated[bool, typer.Option("--due", help="Only tasks waiting for a call now.")] = False,
    person: Annotated[
        bool, typer.Option("--person", help="Only tasks that need a verifier (待人工回访).")
    ] = False,
    ticket: Annotated[str, typer.Option(help="Only this ticket's tasks.")] = "",
    now: Annotated[str | None, typer.Option("--now", help="As of this ISO time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """回访 tasks, the soonest due first: their state, attempts and answers."""
    from zoneinfo import ZoneInfo

    from tickets.verification_store import TaskQuery, VerificationStore
    from tickets.verification_tasks import TaskState

    moment = parse_now(now)
    with ticket_store(config, data_dir) as store:
        zone = ZoneInfo(store.policy.deadlines.timezone)
        tasks = VerificationStore(store)
        if due:
            found = tasks.due(moment, limit=500)
        else:
            states = (TaskState.NEEDS_PERSON,) if person else ()
            found = tasks.find(TaskQuery(states=states, ticket=ticket))
    if as_json:
        print(json.dumps({"tasks": [_task_dict(t) for t in found]}, ensure_ascii=False))
        return
    table = Table("id", "工单", "号码", "状态", "原因", "尝试", "下次", "结果", title="回访任务")
    for task in found:
        answer = " ".join(part.value for part in (task.resolution, task.rating) if part is not None)
        table.add_row(
            str(task.id),
            task.ticket,
            task.number,
            task.state.label,
            task.reason.label if task.reason else "",
            str(task.tries),
            f"{task.next_at.astimezone(zone):%m-%d %H:%M}" if task.next_at else "",
            answer,
        )
    console.print(table)
    if not found:
        console.print("no 回访 task matches", highlight=False)


@verification_app.command("call")
def call_now(
    number: Annotated[str, typer.Argument(help="The ticket to call the citizen about.")],
    force: Annotated[
        bool, typer.Option("--force", help="Call even outside the calling hours.")
    ] = False,
    now: Annotated[str | None, typer.Option("--now", help="As of this ISO time.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Call the citizen(s) of a closed ticket at the hub's next round (within
    ``verification.every_s``), planning the round's tasks first if needed."""
    from tickets.store import UnknownTicket
    from tickets.verification_store import VerificationStore
    from tickets.verification_tasks import TaskKind, TaskReason, TaskState
    from verification.outcome import VERIFIABLE
    from verification.schedule import VerificationPolicy, load_do_not_call, plan_round

    settings = node_settings(config, **{"node.data_dir": data_dir})
    moment = parse_now(now)
    policy = VerificationPolicy.from_settings(settings)
    if not force and not policy.hours.is_open(moment):
        opens = policy.hours.next_open(moment)
        raise fail(
            f"outside the calling hours ({', '.join(settings.verification.calling_hours)}); "
            f"the next window opens {opens:%Y-%m-%d %H:%M}: wait, or add --force"
        )
    with ticket_store(config, data_dir) as store:
        tasks = VerificationStore(store)
        try:
            ticket = store.get(number)
        except UnknownTicket as exc:
            raise fail(str(exc)) from None
        if ticket.status not in VERIFIABLE:
            raise fail(
                f"{ticket.number} is {ticket.status.label} ({ticket.status}): a 回访 is made "
                "once the ticket is closed (办结)"
            )
        current = [t for t in tasks.for_ticket(ticket.number) if t.round == ticket.redo_count + 1]
        if not current:
            try:
                dnc = load_do_not_call(settings.verification.do_not_call)
            except ValueError as exc:
                raise fail(str(exc)) from None
            # Asked for by name: a 即时办结 ticket is called whatever the sample says.
            everyone = dataclasses.replace(policy, close_at_once=True)
            current = tasks.add(
                plan_round(ticket, everyone, moment, 0.0, ticket.redo_count + 1, dnc)
            )
        callable_states = (TaskState.SCHEDULED, TaskState.NEEDS_PERSON)
        moved = []
        for task in current:
            left_out = task.state is TaskState.SKIPPED and task.reason is TaskReason.NOT_SAMPLED
            if task.kind is not TaskKind.CALL or (
                task.state not in callable_states and not left_out
            ):
                continue
            changed = dataclasses.replace(
                task,
                state=TaskState.SCHEDULED,
                reason=None,
                next_at=moment,
                forced=force,
                updated_at=moment,
            )
            tasks.save(changed)
            moved.append(changed)
    if not moved:
        states = ", ".join(f"{t.number} {t.state.label}" for t in current) or "none"
        raise fail(f"{number}: no citizen to call now (tasks: {states})")
    for task in moved:
        console.print(f"{task.ticket}: {task.number} will be called now", highlight=False)
    if not settings.verification.enabled:
        console.print(
            "note: verification.enabled is off in node.toml; the hub will not place the call",
            highlight=False,
        )


@verification_app.command("pause")
def pause(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Stop placing survey calls (tasks keep their place; calls on the line finish)."""
    from ivr.hub.survey_calls import pause_file

    settings = node_settings(config, **{"node.data_dir": data_dir})
    path = pause_file(settings.run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"paused at {datetime.now().isoformat(timespec='seconds')}\n")
    console.print("回访 calls paused; `hotline verification resume` starts them again")


@verification_app.command("resume")
def resume(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Place survey calls again."""
    from ivr.hub.survey_calls import pause_file

    settings = node_settings(config, **{"node.data_dir": data_dir})
    pause_file(settings.run_dir).unlink(missing_ok=True)
    console.print("回访 calls resumed")
