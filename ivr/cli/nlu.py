"""``hotline route`` and ``hotline nlu``: understanding callers, for operators."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

nlu_app = typer.Typer(help="The understanding model (request type, domain).", no_args_is_help=True)
console = Console()
REPO_DATA = Path(__file__).resolve().parents[2] / "call_routing" / "data"
REPO_MODELS = Path(__file__).resolve().parents[2] / "call_routing" / "models"


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _understander():  # noqa: ANN202 (heavy imports only when used)
    from call_routing import nlu_model
    from call_routing.taxonomy import default_taxonomy
    from call_routing.understanding import Understander

    try:
        return Understander(default_taxonomy(), nlu_model.load())
    except FileNotFoundError as exc:
        _fail(str(exc))


def route(
    text: Annotated[str, typer.Argument(help="What the caller said (Simplified Chinese).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Work out request type, domain, seat group, emergency, slots and a summary."""
    understanding = _understander().understand(text, datetime.now())
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
    table.add_row("坐席组", data["seat_group"])
    table.add_row("主办部门", "、".join(data["departments"]))
    table.add_row("紧急", data["emergency"] or "否")
    table.add_row("摘要", data["summary"])
    table.add_row("要素", json.dumps(data["slots"], ensure_ascii=False))
    if understanding.low_confidence:
        table.add_row("提示", "置信度低：请坐席确认")
    console.print(table)


@nlu_app.command("train")
def nlu_train(
    data: Annotated[Path, typer.Option(help="Training CSV (text,type,domain).")] = (
        REPO_DATA / "train.csv"
    ),
    out: Annotated[Path, typer.Option(help="Where the model goes.")] = REPO_MODELS,
) -> None:
    """Train the request-type and domain models from labelled texts (reproducible)."""
    from call_routing import nlu_model
    from call_routing.classifier import read_examples

    if not data.exists():
        _fail(f"no training data at {data}")
    text = data.read_text(encoding="utf-8")
    try:
        examples = read_examples(text)
    except ValueError as exc:
        _fail(f"{data}: {exc}")
    with console.status(f"training on {len(examples)} examples"):
        models = nlu_model.train(examples, text)
        path = nlu_model.save(models, out)
    size = path.stat().st_size / 1e6
    console.print(
        f"{path} ({size:.1f} MB): {len(examples)} examples, data {models.meta['data_sha']}"
    )


@nlu_app.command("eval")
def nlu_eval(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,label (others ignored).")],
    label: Annotated[
        str, typer.Option(help="What the label column holds: domain, type or emergency.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Accuracy, macro-F1 and the confusion matrix on a labelled file."""
    import csv

    from call_routing.evaluation import evaluate, evaluate_emergency

    if label not in ("domain", "type", "emergency"):
        _fail("--label must be domain, type or emergency")
    if not file.exists():
        _fail(f"no such file: {file}")
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        column = "label" if "label" in (reader.fieldnames or ()) else label
        if "text" not in (reader.fieldnames or ()) or column not in (reader.fieldnames or ()):
            _fail(f"{file}: needs the columns text and label (or {label})")
        rows = [(r["text"], r[column]) for r in reader if (r.get("text") or "").strip()]
    understander = _understander()
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
    try:
        report = evaluate(understander, rows, label)
    except KeyError as exc:
        _fail(f"{file}: {exc.args[0]}")
    if as_json:
        print(json.dumps(report.summary(), ensure_ascii=False))
        return
    console.print(
        f"{report.n} texts  accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}"
    )
    short = [name[:2] for name in report.labels]  # 城乡, 环境, … fit a terminal
    table = Table("gold \\ predicted", *short, title=f"confusion matrix ({label})")
    for gold, row in zip(report.labels, report.matrix, strict=True):
        table.add_row(gold, *[str(v) if v else "·" for v in row])
    Console(width=max(console.width, 120)).print(table)
