"""``hotline report``: figures for supervisors, per department (承办单位考核) and
for 回访 (per department and seat group)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from ivr.cli.common import ConfigOpt, DataDirOpt, console
from ivr.cli.ticket_work import directory, fail, parse_now, ticket_store

report_app = typer.Typer(help="Figures for supervisors.", no_args_is_help=True)


def _day(name: str, value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{name} {value}: give a date as YYYY-MM-DD") from None


FromOpt = Annotated[
    str | None, typer.Option("--from", help="First day (YYYY-MM-DD; default: 30 days ago).")
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD; default: today).")
]
NowOpt = Annotated[str | None, typer.Option("--now", help="As of this ISO time.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object.")]


def _period(
    store: Any, start: str | None, end: str | None, moment: datetime
) -> tuple[date, date, datetime, datetime]:
    """The days asked for (default: the last 30 days) and the moments that bound them
    in the hotline's time zone; exit 2 for a bad or reversed period."""
    from zoneinfo import ZoneInfo

    policy = store.policy.deadlines
    zone = ZoneInfo(policy.timezone)
    today = policy.local_day(moment)
    first = _day("--from", start, today - timedelta(days=30))
    last = _day("--to", end, today)
    if last < first:
        raise fail(f"--to {last} is before --from {first}")
    begin = datetime.combine(first, time(), zone)
    return first, last, begin, datetime.combine(last + timedelta(days=1), time(), zone)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


@report_app.command("departments")
def report_departments(
    start: FromOpt = None,
    end: ToOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Per department, for tickets dispatched in the period: 按时签收率, 按时办结率,
    退单率 and how many returns were upheld, 重办率, average handling time, overdue now."""
    from tickets.figures import department_figures

    moment = parse_now(now)
    rules = directory(config, data_dir)
    with ticket_store(config, data_dir) as store:
        first, last, begin, finish = _period(store, start, end, moment)
        tickets = store.for_figures(begin, finish)
        figures = department_figures(
            tickets, begin, finish, moment, store.policy.deadlines, rules.sign_within_hours
        )

    def name(department: str) -> str:
        found = rules.find(department)
        return found.name if found is not None else department

    if as_json:
        rows = [f.as_dict() | {"name": name(f.department)} for f in figures]
        print(
            json.dumps(
                {"from": first.isoformat(), "to": last.isoformat(), "departments": rows},
                ensure_ascii=False,
            )
        )
        return
    table = Table(
        "承办单位",
        "派单",
        "按时签收率",
        "按时办结率",
        "退单率",
        "退单获准",
        "重办率",
        "平均办理(小时)",
        "当前超期",
        title=f"承办单位考核 {first} – {last}",
    )
    for f in figures:
        hours = f.average_handling_hours
        table.add_row(
            name(f.department),
            str(f.dispatched),
            _percent(f.signed_on_time_rate),
            _percent(f.closed_on_time_rate),
            _percent(f.return_rate),
            str(f.returns_upheld),
            _percent(f.redo_rate),
            "—" if hours is None else f"{hours:.1f}",
            str(f.overdue_now),
        )
    console.print(table)
    if not figures:
        console.print("no ticket was dispatched in this period", highlight=False)


@report_app.command("verification")
def report_verification(
    start: FromOpt = None,
    end: ToOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """回访 figures for tasks planned in the period, per department and seat group:
    回访率, 联系成功率, 解决率, 满意率, 差评, 回访后重办, ratings by key and by voice."""
    from tickets.verification_store import TaskQuery, VerificationStore
    from verification.figures import figures

    moment = parse_now(now)
    rules = directory(config, data_dir)
    with ticket_store(config, data_dir) as store:
        first, last, begin, finish = _period(store, start, end, moment)
        tasks = VerificationStore(store).find(
            TaskQuery(created_from=begin, created_to=finish, limit=1_000_000)
        )
        redo = {number: store.get(number).redo_count for number in {t.ticket for t in tasks}}

    def name(department: str) -> str:
        found = rules.find(department)
        return found.name if found is not None else department

    report = figures(tasks, redo, name)
    if as_json:
        body = {"from": first.isoformat(), "to": last.isoformat(), **report.as_dict()}
        print(json.dumps(body, ensure_ascii=False))
        return
    table = Table(
        "",
        "应回访",
        "回访率",
        "联系成功率",
        "解决率",
        "满意率",
        "差评",
        "回访后重办",
        "按键/语音",
        title=f"回访 {first} – {last}",
    )
    rows = [("合计", report.total), *report.departments.items()]
    for label, f in rows:
        table.add_row(
            label,
            str(f.due),
            _percent(_ratio(f.answered, f.due)),
            _percent(_ratio(f.reached, f.tried)),
            _percent(_ratio(f.solved, f.asked_solved)),
            _percent(_ratio(f.satisfied, f.rated)),
            str(f.bad),
            str(f.redone),
            f"{f.by_source.get('key', 0)}/{f.by_source.get('voice', 0)}",
        )
    console.print(table)
    if not tasks:
        console.print("no 回访 task in this period", highlight=False)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
