"""``hotline replies``: departments' replies (答复) as the centre reviews them —
``assess`` scores a CSV of complaint/reply pairs for 形式办结."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

replies_app = typer.Typer(
    help="Departments' replies (答复): automatic assessment for the centre's review.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)
FIELD_LIMIT = 16 * 1024 * 1024  # a letter of a few megabytes is still one field


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _pairs(file: Path, complaint: str, reply: str, title: str | None) -> list[tuple[str, str]]:
    """(complaint, reply) of each row in file order; the title, when asked for, is
    put before the complaint (title。text).  Exit 2 naming a missing column."""
    if not file.is_file():
        _fail(f"no such file: {file}")
    csv.field_size_limit(FIELD_LIMIT)
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            names = list(reader.fieldnames or ())
            wanted = [complaint, reply] + ([title] if title else [])
            missing = [c for c in wanted if c not in names]
            if missing:
                present = ", ".join(names) if names else "none (empty file)"
                _fail(f"{file}: no column {', '.join(missing)} (columns: {present})")
            rows = []
            for row in reader:
                text = (row.get(complaint) or "").strip()
                head = (row.get(title) or "").strip() if title else ""
                rows.append(
                    (f"{head}。{text}" if head and text else head or text, row.get(reply) or "")
                )
    except UnicodeDecodeError as exc:
        _fail(f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})")
    except csv.Error as exc:
        _fail(f"{file}: not a readable CSV ({exc})")
    return rows


@replies_app.command("assess")
def replies_assess(
    file: Annotated[
        Path,
        typer.Argument(help="CSV (UTF-8, with or without BOM), one complaint/reply pair a row."),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='A JSON list in file order, one {"score": 0..1, "flag": true|false, '
            '"reasons": [{"code": ..., "text": ...}]} per row: score is how well the reply '
            "answers the complaint, flag says the reviewer should look (likely 形式办结), "
            "each reason has a stable code and a Chinese text for reviewers.",
        ),
    ] = False,
    complaint_column: Annotated[
        str, typer.Option("--complaint-column", help="The column with the complaint.")
    ] = "complaint",
    reply_column: Annotated[
        str, typer.Option("--reply-column", help="The column with the department's reply.")
    ] = "reply",
    title_column: Annotated[
        str | None,
        typer.Option(
            "--title-column",
            help="A column put before the complaint (a web message's title; for the TipDM "
            "file: --complaint-column text --title-column title).",
        ),
    ] = None,
    idf_from_file: Annotated[
        bool,
        typer.Option(
            "--idf-from-file",
            help="Weigh words by how rare they are in this file's own complaints and replies "
            "(a city's history of a few hundred rows or more) instead of jieba's general table.",
        ),
    ] = False,
    signals: Annotated[
        bool, typer.Option("--signals", help="With --json: each row's measures too.")
    ] = False,
) -> None:
    """Score each department reply against its complaint, flag likely 形式办结 and say why."""
    from verification import IdfTable, ReplyAssessor

    pairs = _pairs(file, complaint_column, reply_column, title_column)
    idf = IdfTable.from_texts(t for pair in pairs for t in pair) if idf_from_file else None
    assessor = ReplyAssessor(idf)
    results = []
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("评估答复", total=len(pairs))
        for complaint, reply in pairs:
            results.append(assessor.assess(complaint, reply))
            progress.advance(task)
    if as_json:
        json.dump([r.as_dict(signals) for r in results], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    table = Table(title=f"答复评估：{file.name}")
    table.add_column("行", justify="right")
    table.add_column("得分", justify="right")
    table.add_column("标记", no_wrap=True)
    table.add_column("原因", overflow="fold")
    for number, result in enumerate(results, start=1):
        table.add_row(
            str(number),
            f"{result.score:.2f}",
            "[red]需复核[/red]" if result.flag else "",
            "\n".join(r.text for r in result.reasons) or "—",
        )
    console.print(table)
    flagged = sum(r.flag for r in results)
    share = flagged / len(results) if results else 0.0
    console.print(f"共 {len(results)} 条答复，标记需复核 {flagged} 条（{share:.0%}）")
    counts = Counter(code for r in results for code in dict.fromkeys(r.codes))
    if counts:
        console.print(
            "原因：" + "，".join(f"{code} {n}" for code, n in counts.most_common()),
            highlight=False,
        )
