"""``hotline route`` and ``hotline nlu``: understanding callers, for operators."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ivr.cli.common import ConfigOpt, node_settings
from ivr.cli.nlu_train import nlu_train

nlu_app = typer.Typer(
    help="The understanding model (request type, domain, emergency).", no_args_is_help=True
)
nlu_app.command("train")(nlu_train)
console = Console()

ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="A model directory made by `hotline nlu train --out` (default: routing.model, "
        "else the shipped model).",
    ),
]


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _understander(model: Path | None, config: Path | None):  # noqa: ANN202
    """The understanding as the hub builds it from the settings, ``--model`` first."""
    from call_routing.understanding import UnderstandingSetupError, build_understander

    routing = node_settings(config).routing
    directory = model or routing.model
    if directory is not None and not directory.is_dir():
        _fail(f"no such model directory: {directory}")
    try:
        return build_understander(
            routing.taxonomy, directory, routing.categories, routing.low_confidence
        )
    except UnderstandingSetupError as exc:
        _fail(str(exc).replace("routing.model", "--model", 1) if model else str(exc))


def route(
    text: Annotated[str, typer.Argument(help="What the caller said (Simplified Chinese).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    model: ModelOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Work out request type, domain, category, seat group, emergency, slots and a summary."""
    understanding = _understander(model, config).understand(text, datetime.now())
    data = understanding.as_dict()
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    table = Table(show_header=False, box=None)
    table.add_row("类型", f"{data['request_type']}  ({understanding.type_confidence:.2f})")
    table.add_row(
        "领域",
        f"{data['domain']} / {data['category']['name']} {data['category']['code']}"
        f"  ({understanding.domain_confidence:.2f})",
    )
    tree = data.get("categories") or {}
    if tree:
        table.add_row(
            "分类", " / ".join(x for x in (tree["level1"], tree["level2"], tree["level3"]) if x)
        )
    table.add_row("坐席组", data["seat_group"])
    table.add_row("主办部门", "、".join(data["departments"]))
    table.add_row("紧急", data["emergency"] or "否")
    table.add_row("摘要", data["summary"])
    table.add_row("要素", json.dumps(data["slots"], ensure_ascii=False))
    if understanding.low_confidence:
        table.add_row("提示", "置信度低：请坐席确认")
    console.print(table)


def _rows(file: Path, label: str) -> list[tuple[str, str]]:
    """(text, label) of a labelled CSV: text (or tokens, or title + text) and label (or
    a column named like ``--label``)."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        names = reader.fieldnames or ()
        column = "label" if "label" in names else label
        body = "text" if "text" in names else "tokens" if "tokens" in names else ""
        if not body or column not in names:
            _fail(f"{file}: needs the columns text (or tokens) and label (or {label})")
        rows = []
        for row in reader:
            text = (row.get(body) or "").strip()
            title = (row.get("title") or "").strip()
            if text or title:
                rows.append((f"{title}。{text}" if title else text, row.get(column) or ""))
    return rows


def _mapping(understander: Any, rows: list[tuple[str, str]], choice: bool | None) -> dict | None:
    """Domain → the tree's level1, when the file is labelled with level1s the model's
    domains map onto (``--map``), else None (``--no-map``; automatic by default)."""
    tree = understander.tree
    mapping = {d: tree.level1_for(d) for d in understander.taxonomy.domains}
    labels = {gold.strip() for _, gold in rows}
    if choice is None:
        known = {
            understander.taxonomy.canonical_domain(d) for d in understander.models.domain.labels
        }
        choice = labels <= set(tree.level1s) and any(
            d not in labels and mapping[d] in labels for d in known
        )
    if not choice:
        return None
    unknown = labels - set(tree.level1s)
    if unknown:
        _fail(
            f"--map: {', '.join(sorted(unknown))} are not first-level categories of {tree.source}"
        )
    return mapping


@nlu_app.command("eval")
def nlu_eval(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,label (others ignored).")],
    label: Annotated[
        str, typer.Option(help="What the label column holds: domain, type or emergency.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    model: ModelOpt = None,
    map_: Annotated[
        bool | None,
        typer.Option(
            "--map/--no-map",
            help="Compare at the category tree's first level (domains mapped onto it, the "
            "file's labels as the choices); default: when the labels are such categories.",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Accuracy, macro-F1, the confusion matrix, calibration and each row's prediction."""
    from call_routing.evaluation import evaluate, evaluate_emergency

    if label not in ("domain", "type", "emergency"):
        _fail("--label must be domain, type or emergency")
    if not file.is_file():
        _fail(f"no such file: {file}")
    rows = _rows(file, label)
    understander = _understander(model, config)
    if label == "emergency":
        found = evaluate_emergency(understander, rows)
        if as_json:
            print(json.dumps(found.summary(), ensure_ascii=False))
            return
        figures = found.summary()
        console.print(
            f"{found.n} texts, {found.emergencies} emergencies: recall {figures['recall']:.3f}, "
            f"right number {figures['right_number']:.3f}, precision {figures['precision']:.3f} "
            f"({found.false_alarms} false alarms)"
        )
        for text in found.missed:
            console.print(f"  missed: {text[:80]}", highlight=False)
        return
    mapping = _mapping(understander, rows, map_) if label == "domain" else None
    try:
        report = evaluate(understander, rows, label, mapping)
    except KeyError as exc:
        _fail(f"{file}: {exc.args[0]}")
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    console.print(
        f"{report.n} texts  accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}"
    )
    if mapping:
        moved = [f"{d}→{c}" for d, c in mapping.items() if d != c]
        console.print(
            f"domains mapped onto {understander.tree.source}'s first level: " + ", ".join(moved)
        )
    short = [name[:2] for name in report.labels]  # 城乡, 环境, … fit a terminal
    table = Table("gold \\ predicted", *short, title=f"confusion matrix ({label})")
    for gold, row in zip(report.labels, report.matrix, strict=True):
        table.add_row(gold, *[str(v) if v else "·" for v in row])
    Console(width=max(console.width, 120)).print(table)
    bands = Table("confidence", "texts", "accuracy", title="calibration")
    for band in report.reliability():
        accuracy = "-" if band["accuracy"] is None else f"{band['accuracy']:.2f}"
        bands.add_row(band["confidence"], str(band["n"]), accuracy)
    console.print(bands)
