"""``hotline departments``: the department directory and dispatch catalogue (派单目录)
the node dispatches work orders by (``tickets.departments``; tickets/departments.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ivr.cli.common import ConfigOpt, console, err, node_settings

departments_app = typer.Typer(
    help="Departments (承办单位) and the dispatch catalogue: list, show, check, suggest.",
    no_args_is_help=True,
)

FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="A directory TOML file (default: tickets.departments, else the shipped example).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


def _fail(*problems: str) -> NoReturn:
    for problem in problems:
        err.print(f"[red]error:[/red] {escape(problem)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _tree_paths(config: Path | None) -> tuple[Any, frozenset[str]]:
    """The settings and the paths of the category tree calls are routed by."""
    from call_routing.category_tree import CategoryTree, CategoryTreeError
    from call_routing.taxonomy import load_taxonomy
    from tickets.departments import tree_paths

    settings = node_settings(config)
    routing = settings.routing
    try:
        tree = CategoryTree.load(routing.categories, load_taxonomy(routing.taxonomy).domains)
    except (CategoryTreeError, OSError, ValueError) as exc:
        _fail(f"routing.categories: {exc}")
    return settings, tree_paths(tree)


def _directory(config: Path | None, file: Path | None) -> tuple[Any, frozenset[str]]:
    """The directory (``--file``, else the configured one), checked against the tree;
    exit 2 with every problem when it cannot be used."""
    from tickets.departments import DirectoryError, load_directory

    settings, paths = _tree_paths(config)
    try:
        return load_directory(file or settings.tickets.departments, paths), paths
    except DirectoryError as exc:
        _fail(*exc.problems)


def _department(directory: Any, key: str) -> Any:
    from tickets.departments import UnknownDepartment

    try:
        return directory.get(key)
    except UnknownDepartment as exc:
        _fail(str(exc))


def _in_tree_order(directory: Any, under: str) -> list[tuple[int, Any]]:
    """(depth, department) depth first from ``under`` ("" for the whole directory)."""
    found: list[tuple[int, Any]] = []

    def walk(parent: str, depth: int) -> None:
        for child in directory.children(parent):
            found.append((depth, child))
            walk(child.id, depth + 1)

    walk(under, 0)
    return found


@departments_app.command("list")
def departments_list(
    level: Annotated[
        str | None,
        typer.Option(help="Only this level: city, district, street, community (or 区, 街道 …)."),
    ] = None,
    under: Annotated[
        str | None, typer.Option(help="Only the units below this one (id, name or alias).")
    ] = None,
    as_json: JsonOpt = False,
    file: FileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The departments as a tree: id, name, level, parent and duty phone (值班电话)."""
    from tickets.departments import DepartmentLevel

    directory, _ = _directory(config, file)
    wanted = None
    if level is not None:
        wanted = next((lv for lv in DepartmentLevel if level.strip() in (lv.value, lv.label)), None)
        if wanted is None:
            choices = ", ".join(f"{lv.value} ({lv.label})" for lv in DepartmentLevel)
            _fail(f"--level {level}: choose one of {choices}")
    root = _department(directory, under).id if under else ""
    rows = [(d, u) for d, u in _in_tree_order(directory, root) if wanted in (None, u.level)]
    if as_json:
        found = [unit.as_dict() | {"depth": depth} for depth, unit in rows]
        print(json.dumps(found, ensure_ascii=False))
        return
    table = Table("id", "名称", "层级", "上级", "值班电话", box=box.SIMPLE_HEAD, show_edge=False)
    for depth, unit in rows:
        indent = "  " * depth if wanted is None else ""
        table.add_row(
            indent + unit.id, escape(unit.name), unit.level.label, unit.parent, unit.duty_phone
        )
    console.print(table)
    console.print(f"{len(rows)} of {len(directory)} departments", highlight=False)


@departments_app.command("show")
def departments_show(
    key: Annotated[str, typer.Argument(help="Id, name or alias, e.g. 住建局 or district.tianhe.")],
    as_json: JsonOpt = False,
    file: FileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """One department: its parent chain, children, contacts, working hours and the
    catalogue entries naming it as lead (主办) or co-handler (协办)."""
    directory, _ = _directory(config, file)
    unit = _department(directory, key)
    ancestors = directory.ancestors(unit.id)
    children = directory.children(unit.id)
    rules = directory.rules_for(unit.id)
    if as_json:
        data = unit.as_dict() | {
            "ancestors": [a.as_dict() for a in ancestors],
            "children": [c.as_dict() for c in children],
            "rules": [r.as_dict() for r in rules],
        }
        print(json.dumps(data, ensure_ascii=False))
        return
    table = Table(show_header=False, box=None)
    table.add_row("id", unit.id)
    table.add_row("名称", escape(unit.name))
    table.add_row("层级", f"{unit.level.label} ({unit.level.value})")
    if ancestors:
        table.add_row("上级", escape(" ← ".join(f"{a.name} ({a.id})" for a in ancestors)))
    if unit.aliases:
        table.add_row("别名", escape("、".join(unit.aliases)))
    if unit.places:
        table.add_row("辖区地名", escape("、".join(unit.places)))
    for contact in unit.contacts:
        label = contact.role or "联系人"
        table.add_row(escape(label), escape(f"{contact.name} {contact.phone}".strip()))
    hours = ", ".join(_hours(unit))
    table.add_row("工作时间", hours + ("（每天）" if unit.every_day else "（工作日）"))
    if children:
        table.add_row("下级", escape("、".join(f"{c.name} ({c.id})" for c in children)))
    console.print(table)
    if rules:
        console.print(_rules_table(rules, unit.id))
    else:
        console.print("no dispatch rule names it", highlight=False)


def _hours(unit: Any) -> list[str]:
    from tickets.departments import format_working_hours

    return format_working_hours(unit.working_hours)


def _rules_table(rules: Any, unit_id: str) -> Table:
    table = Table("#", "分类", "地点", "主办", "协办", "说明", box=box.SIMPLE_HEAD)
    for rule in rules:
        lead = f"[bold]{rule.lead}[/bold]" if rule.lead == unit_id else rule.lead
        co = ", ".join(f"[bold]{c}[/bold]" if c == unit_id else c for c in rule.co)
        table.add_row(
            str(rule.number),
            escape(rule.category),
            escape(rule.place or "不限"),
            lead,
            co,
            escape(rule.note),
        )
    return table


@departments_app.command("check")
def departments_check(
    file: Annotated[
        Path | None,
        typer.Argument(help="The file to check (default: tickets.departments, else the shipped)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Check a directory file against the category tree: exit 0 with a summary, or 2
    with every problem (file:line: key path: problem: fix)."""
    directory, paths = _directory(config, file)
    level1s = sorted(p for p in paths if "/" not in p)
    for level1 in directory.uncovered(level1s):
        err.print(
            f"warning: no dispatch rule for {level1}: its tickets get no suggestion; add "
            f'[[dispatch]] category = "{level1}"',
            highlight=False,
            markup=False,
        )
    console.print(
        f"{len(directory)} departments, {len(directory.rules)} dispatch rules ({directory.source})",
        highlight=False,
    )


@departments_app.command("suggest")
def departments_suggest(
    category: Annotated[
        str,
        typer.Option(
            help='The ticket\'s category path, e.g. "城乡建设/住房保障与房地产/物业服务".'
        ),
    ],
    address: Annotated[str, typer.Option(help="The ticket's address.")] = "",
    as_json: JsonOpt = False,
    file: FileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """What dispatch would suggest for a ticket: lead (主办), co-handlers (协办), why."""
    directory, paths = _directory(config, file)
    parts = [part.strip() for part in category.split("/") if part.strip()]
    if not parts or len(parts) > 3:
        _fail(f"--category {category!r}: give level1, level1/level2 or level1/level2/level3")
    asked = "/".join(parts)
    prefixes = ("/".join(parts[:n]) for n in range(len(parts), 0, -1))
    known = next((prefix for prefix in prefixes if prefix in paths), "")
    if known != asked:
        from tickets.departments import near_categories

        near = near_categories(asked, paths)
        matched = f"matched on {known}" if known else "no entry can match"
        if near:
            matched += f" (did you mean {', '.join(near)}?)"
        err.print(
            f"note: {asked} is not a category of the tree; {matched}", highlight=False, markup=False
        )
    suggestion = directory.suggest(*parts, address=address)
    where = directory.locate(address)
    if as_json:
        located = {
            level: unit.id if unit else None
            for level, unit in (
                ("district", where.district),
                ("street", where.street),
                ("community", where.community),
            )
        }
        print(json.dumps(suggestion.as_dict() | {"location": located}, ensure_ascii=False))
        return
    table = Table(show_header=False, box=None)
    lead = suggestion.lead
    table.add_row("主办", escape(f"{lead.name} ({lead.id})") if lead else "[yellow]无[/yellow]")
    table.add_row("协办", escape("、".join(f"{c.name} ({c.id})" for c in suggestion.co)) or "无")
    if address:
        units = [u.name for u in (where.district, where.street, where.community) if u]
        table.add_row("地址定位", escape(" / ".join(units)) or "未识别")
    table.add_row("依据", escape(suggestion.rule))
    console.print(table)
