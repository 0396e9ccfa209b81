"""Rows of a message-board export as requests: the columns found by their
English or Chinese names, times in the formats Chinese systems write, and every
row that cannot be read named with its number and what is wrong with it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from analytics.requests import Request

# column → the names it goes by in exports (TipDM's 附件3 headers among them)
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "msg_id", "留言编号", "编号", "工单编号"),
    "time": ("time", "留言时间", "时间", "来电时间", "受理时间"),
    "title": ("title", "留言主题", "主题", "标题"),
    "text": ("text", "留言详情", "详情", "内容", "诉求内容"),
    "likes": ("likes", "点赞数", "点赞"),
    "dislikes": ("dislikes", "反对数", "反对"),
    "person": ("user", "person", "留言用户", "用户", "来电号码"),
    "category": ("category", "label", "一级标签", "一级分类", "类别"),
}
REQUIRED = ("id", "time", "title", "text")
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
_FRACTION = re.compile(r"\.\d+$")
EXAMPLE_TIMES = "2019/8/7 19:52:14 or 2019-07-11 00:00:00"


class MessageFileError(ValueError):
    """What is wrong with an export, one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Columns:
    names: dict[str, str]  # our column → the header it has in this file


def find_columns(header: Sequence[str]) -> Columns:
    """Which header is which column; :class:`MessageFileError` names the missing ones."""
    cleaned = {h.strip().lstrip("\ufeff"): h for h in header if h is not None}
    names = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in cleaned:
                names[column] = cleaned[alias]
                break
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        wanted = ", ".join(f"{c} ({'/'.join(COLUMNS[c][1:3])})" for c in missing)
        raise MessageFileError(
            [f"missing column: {wanted}; the file has {', '.join(cleaned) or 'no header'}"]
        )
    return Columns(names)


def parse_time(value: str) -> datetime:
    text = _FRACTION.sub("", " ".join(value.strip().split()))
    for layout in TIME_FORMATS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(
        f"time {value!r} is not a time (e.g. 2019/8/7 19:52:14 or 2019-07-11 00:00:00)"
    )


def requests_from_rows(
    header: Sequence[str], rows: Iterable[Mapping[str, str | None]], max_problems: int = 20
) -> list[Request]:
    """Every row as a :class:`Request`; rows that cannot be read are all reported
    (the first ``max_problems``) in one :class:`MessageFileError`."""
    columns = find_columns(header).names
    found: list[Request] = []
    problems: list[str] = []
    for number, row in enumerate(rows, 1):

        def cell(column: str, row: Mapping[str, str | None] = row) -> str:
            name = columns.get(column)
            return (row.get(name) or "").strip() if name else ""

        try:
            found.append(
                Request(
                    id=cell("id") or _missing("id"),
                    at=parse_time(cell("time") or _missing("time")),
                    title=cell("title"),
                    text=cell("text"),
                    person=cell("person"),
                    category=cell("category"),
                    likes=_count(cell("likes"), "likes"),
                    dislikes=_count(cell("dislikes"), "dislikes"),
                )
            )
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
            if len(problems) >= max_problems:
                problems.append("(further rows not checked)")
                break
    if problems:
        raise MessageFileError(problems)
    return found


def _missing(column: str) -> str:
    raise ValueError(f"{column} is empty")


def _count(value: str, column: str) -> int:
    if not value:
        return 0
    try:
        number = int(float(value))
    except ValueError:
        raise ValueError(f"{column} {value!r} is not a number") from None
    if number < 0:
        raise ValueError(f"{column} {value!r} is negative")
    return number
