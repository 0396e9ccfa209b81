"""``hotline report``: figures for supervisors: per department (承办单位考核), for
回访 (per department and seat group), and the centre's 考核指标 (``kpi``: calls,
tickets, departments and 回访 per day, week or month, also as an Excel workbook)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
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


ByOpt = Annotated[str, typer.Option("--by", help="Periods: day, week (ISO) or month.")]
# The columns of the terminal's tables (every figure is in --json and --xlsx).
_PERIOD_KEYS = (
    "offered", "answer_rate", "service_level", "abandon_rate", "average_wait_s", "p90_wait_s",
    "average_handling_s", "tickets", "first_contact_rate", "repeat_rate",
    "signed_on_time_rate", "closed_on_time_rate", "verification_rate", "satisfaction_rate",
)  # fmt: skip
_GROUP_KEYS = (
    "offered", "answered", "answer_rate", "service_level", "abandon_rate", "average_wait_s",
    "p90_wait_s", "average_handling_s", "tickets", "first_contact_rate",
    "verification_rate", "satisfaction_rate",
)  # fmt: skip
_DEPARTMENT_KEYS = (
    "tickets", "dispatched", "signed_on_time_rate", "replied", "closed_on_time_rate",
    "verification_due", "verification_rate", "satisfaction_rate",
)  # fmt: skip


def _cell(kind: Any, value: object) -> str:
    from analytics.kpi import Kind

    if value is None:
        return "—"
    if kind is Kind.RATE:
        return f"{value:.1%}"
    if kind is Kind.SECONDS:
        return f"{value:.1f}"
    return str(value)


def _kpi_table(title: str, first: str, rows: list[tuple[str, dict]], keys: tuple[str, ...]) -> Any:
    from analytics.kpi import COLUMNS

    columns = {key: (label, kind) for part in COLUMNS.values() for key, label, kind in part}
    table = Table(first, *(columns[k][0] for k in keys), title=title)
    for label, row in rows:
        table.add_row(label, *(_cell(columns[k][1], row.get(k)) for k in keys))
    return table


@report_app.command("kpi")
def report_kpi(
    start: FromOpt = None,
    end: ToOpt = None,
    group: Annotated[str, typer.Option("--group", help="Only this seat group.")] = "",
    department: Annotated[
        str, typer.Option("--department", help="Only this department (id, name or alias).")
    ] = "",
    category: Annotated[
        str, typer.Option("--category", help="Only this category (a path or its first levels).")
    ] = "",
    by: ByOpt = "day",
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the report as an Excel workbook here.")
    ] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """考核指标 per day, week or month, per seat group and per department: 接通率,
    15秒接通率, waits, 放弃率, 通话时长; 一次办结率, 重复来电率, 按时签收率, 按时办结率;
    回访率, 满意率; the top categories and places (see README, "KPI reports")."""
    from analytics.kpi import Bucketing
    from ivr.cli.common import node_settings
    from web.kpi_sources import KpiQuery, KpiRefused, agents_seat_group, read_kpi, workbook

    try:
        bucketing = Bucketing(by.strip().lower())
    except ValueError:
        raise fail(f"--by {by}: give day, week or month") from None
    moment = parse_now(now)
    settings = node_settings(config, **{"node.data_dir": data_dir})
    rules = directory(config, data_dir)
    with ticket_store(config, data_dir) as store:
        first, last, _, _ = _period(store, start, end, moment)
        query = KpiQuery(first, last, bucketing, group.strip(), department.strip(), category)
        try:
            report = read_kpi(store, query, moment, rules, agents_seat_group(settings.agents))
        except KpiRefused as exc:
            raise fail(str(exc)) from None
    if xlsx is not None:
        try:
            xlsx.write_bytes(workbook(report))
        except OSError as exc:
            raise fail(f"--xlsx {xlsx}: {exc.strerror or exc}") from None
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    if xlsx is not None:
        console.print(f"已写入 {xlsx}", highlight=False)
        return
    _print_kpi(report)


def _print_kpi(report: dict[str, Any]) -> None:
    from web.kpi_sources import BY_LABELS

    span = f"{report['from']} – {report['to']}"
    console.print(_kpi_table(f"考核指标 {span}", "", [("合计", report["total"])], _PERIOD_KEYS))
    periods = [(p["period"], p) for p in report["periods"]]
    console.print(_kpi_table(f"{BY_LABELS[report['by']]} {span}", "时段", periods, _PERIOD_KEYS))
    groups = [(g["group"], g) for g in report["seat_groups"]]
    if groups:
        console.print(_kpi_table("坐席组", "坐席组", groups, _GROUP_KEYS))
    departments = [(d["department"], d) for d in report["departments"]]
    if departments:
        console.print(_kpi_table("承办单位", "承办单位", departments, _DEPARTMENT_KEYS))
    for title, key, rows in (
        ("类别", "category", report["categories"]),
        ("地点", "place", report["places"]),
    ):
        if rows:
            table = Table(title, "工单", "占比", title=f"{title} 前{len(rows)}")
            for row in rows:
                table.add_row(row[key], str(row["tickets"]), _percent(row["share"]))
            console.print(table)
    calls_from = report["calls_from"]
    if calls_from is None or calls_from[:10] > report["from"]:
        known = (
            "尚无来电记录" if calls_from is None else f"只保存了 {calls_from[:10]} 以来的来电记录"
        )
        console.print(f"注意：事件库{known}（已发布的事件保留一周）", highlight=False)
