"""``hotline nlu train``: the shipped model from the project's data, or a city's own
domain model from its labelled history and its agents' corrections.

A city's model is written only when it is at least as good as the model it would
replace (routing.model, or the shipped one) on the held-back part of the history;
``--force`` writes it anyway.  Nothing trains by itself: an operator runs this.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from ivr.cli.common import ConfigOpt, console, err, node_settings

REPO = Path(__file__).resolve().parents[2]
REPO_DATA = REPO / "call_routing" / "data"
REPO_MODELS = REPO / "call_routing" / "models"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def nlu_train(
    data: Annotated[
        Path, typer.Option(help="The project's training CSV (text,type,domain[,emergency]).")
    ] = REPO_DATA / "train.csv",
    out: Annotated[Path | None, typer.Option(help="Where the model goes.")] = None,
    history: Annotated[
        list[Path] | None,
        typer.Option(
            "--history",
            help="A city's labelled history: CSV with text,label or tokens,label "
            "(repeat for several files). Trains a domain model for routing.model.",
        ),
    ] = None,
    from_tickets: Annotated[
        bool,
        typer.Option(
            "--from-tickets",
            help="Add the agents' corrections and the accepted, closed tickets of this "
            "node's ticket store.",
        ),
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="With --from-tickets: labels from this day on."),
    ] = None,
    held_back: Annotated[
        float, typer.Option(min=0.02, max=0.5, help="The share of each label held back.")
    ] = 0.1,
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            help="Drop history rows that repeat a text of this CSV (one you will measure "
            "on), so it is never trained on."
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="The model to beat (default: routing.model, else the shipped one)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write the model even if it is worse.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Train the understanding: the shipped models (no --history), or a city's own
    domain model from its history (--history / --from-tickets, with --out)."""
    if not history and not from_tickets:
        if since is not None:
            _fail("--since goes with --from-tickets")
        _train_shipped(data, out or REPO_MODELS)
        return
    if out is None:
        _fail("--out DIR is needed: where the city's model goes (then set routing.model)")
    settings = node_settings(config)
    _train_history(settings, history or [], from_tickets, since, held_back, exclude or [],
                   against, force, out)  # fmt: skip


def _train_shipped(data: Path, out: Path) -> None:
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


def _train_history(
    settings: Any,
    files: list[Path],
    from_tickets: bool,
    since: datetime | None,
    fraction: float,
    exclude: list[Path],
    against: Path | None,
    force: bool,
    out: Path,
) -> None:
    from call_routing import nlu_model
    from call_routing.classifier import TextClassifier
    from call_routing.history import (
        HistoryError,
        Labelled,
        check_counts,
        drop_near_duplicates,
        held_back_split,
        read_history,
    )
    from call_routing.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(settings.routing.taxonomy)
    rows: list[Labelled] = []
    try:
        for path in files:
            if not path.is_file():
                _fail(f"no such history file: {path}")
            rows.extend(read_history(path.read_text(encoding="utf-8"), str(path), taxonomy))
        if from_tickets:
            rows.extend(_ticket_rows(settings, since, taxonomy))
    except HistoryError as exc:
        _fail(str(exc))
    except UnicodeDecodeError as exc:
        _fail(f"a history file is not UTF-8 ({exc.reason}): save it as UTF-8 CSV")
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        for path in exclude:
            others = _texts_of(path)
            task = progress.add_task(f"leaving out what repeats {path.name}", total=len(others))
            rows, dropped = drop_near_duplicates(
                rows, others, progress=lambda done, t=task: progress.update(t, completed=done)
            )
            console.print(f"left out {dropped} rows that repeat a text of {path}")
        try:
            counts = check_counts(rows)
        except HistoryError as exc:
            _fail(str(exc))
        train, held = held_back_split(rows, fraction)
        task = progress.add_task("training", total=None)
        domain = TextClassifier.fit(
            [r.text for r in train],
            [r.label for r in train],
            stage=lambda what: progress.update(task, description=f"training: {what}"),
        )
        progress.update(task, description="checking on the held-back rows")
        new, old, old_name = _held_back_figures(domain, held, against, settings, taxonomy)
    _print_counts(counts, train, held)
    console.print(
        f"held back {len(held)} rows: accuracy {new:.3f} for the new model, "
        f"{old:.3f} for {old_name}"
    )
    if new < old and not force:
        _fail(
            f"the new model is worse than {old_name} on the held-back rows ({new:.3f} < "
            f"{old:.3f}): nothing written; add history, or --force to write it anyway",
            code=1,
        )
    meta = nlu_model.history_meta(
        domain,
        examples=len(train),
        held_back={"rows": len(held), "accuracy": round(new, 4), "replaced": round(old, 4)},
        counts=dict(counts),
        sources=[str(p) for p in files] + (["tickets"] if from_tickets else []),
        trained_at=datetime.now().isoformat(timespec="seconds"),
    )
    path = nlu_model.save_history(domain, meta, out)
    _write_held_back(out / nlu_model.HELD_BACK_FILE, held)
    console.print(
        f"{path} ({path.stat().st_size / 1e6:.1f} MB); use it with routing.model = "
        f'"{out}" in node.toml, check it with `hotline nlu eval {out / nlu_model.HELD_BACK_FILE}'
        f" --label domain --model {out}`"
    )


def _ticket_rows(settings: Any, since: datetime | None, taxonomy: Any) -> list[Any]:
    """The agents' corrections and accepted tickets, as history rows."""
    from call_routing.history import Labelled
    from tickets.examples import labelled_examples
    from tickets.store import TicketStore

    with TicketStore.from_settings(settings) as store:
        found = labelled_examples(store, since)
    rows = []
    for example in found:
        try:
            domain = taxonomy.canonical_domain(example.domain)
        except KeyError:
            continue  # a domain the taxonomy no longer has
        rows.append(Labelled(example.text, domain, f"ticket {example.ticket}"))
    sources = Counter(example.source for example in found)
    console.print(
        f"from the tickets: {sources.get('corrected', 0)} corrected by agents, "
        f"{sources.get('accepted', 0)} accepted as understood"
    )
    return rows


def _held_back_figures(
    domain: Any, held: list[Any], against: Path | None, settings: Any, taxonomy: Any
) -> tuple[float, float, str]:
    """Accuracy of the new and of the current model on the held-back rows, both through
    the whole understanding (as the hub would use them)."""
    from call_routing import nlu_model
    from call_routing.evaluation import evaluate
    from call_routing.understanding import Understander

    current_dir = against or settings.routing.model
    try:
        current = nlu_model.load(current_dir)
    except nlu_model.ModelError as exc:
        _fail(f"the model to compare with: {exc}")
    name = str(current_dir) if current_dir else "the shipped model"
    candidate = nlu_model.NluModels(current.request_type, domain, current.emergency, {})
    pairs = [(r.text, r.label) for r in held]
    new = evaluate(Understander(taxonomy, candidate), pairs, "domain").accuracy
    old = evaluate(Understander(taxonomy, current), pairs, "domain").accuracy
    return new, old, name


def _texts_of(path: Path) -> list[str]:
    """The texts of a CSV (text, tokens, or title + text)."""
    import csv

    if not path.is_file():
        _fail(f"no such file to leave out: {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        return [_row_text(row) for row in csv.DictReader(handle)]


def _row_text(row: dict[str, str]) -> str:
    body = row.get("text") or row.get("tokens") or ""
    title = (row.get("title") or "").strip()
    return f"{title}。{body}" if title else body


def _print_counts(counts: Counter[str], train: list[Any], held: list[Any]) -> None:
    kept = Counter(r.label for r in held)
    table = Table("label", "rows", "trained on", "held back", title="history")
    for label, n in counts.most_common():
        table.add_row(label, str(n), str(n - kept[label]), str(kept[label]))
    table.add_row("all", str(sum(counts.values())), str(len(train)), str(len(held)))
    console.print(table)


def _write_held_back(path: Path, held: list[Any]) -> None:
    import csv

    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows((r.text, r.label) for r in held)
    tmp.replace(path)
