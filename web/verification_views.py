"""回访 tasks as the consoles show them: the 回访工作台's tabs, a task's row and its
page (attempts, answers, recordings), the tasks on a ticket's page, and the
figures (:mod:`verification.figures`) over a period.

Numbers are masked by ``web.masking``'s rule (in full for supervisors and admins;
masked for verifiers, who call through the node and need not read them): the
citizen's number as ``phone_number``, and the free text a citizen or verifier
gave (comments, notes, what was heard) searched for numbers.

A task's recordings are the legs its manifest lists in ``task.recording_dir``,
only inside the node's recordings directory (:func:`recording_file`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from recordings import manifest as manifests
from tickets.departments import Directory
from tickets.store import TicketStore
from tickets.verification_store import TaskQuery, VerificationStore
from tickets.verification_tasks import AnswerSource, TaskKind, TaskState, VerificationTask
from verification.figures import FiguresReport, figures
from web.masking import mask_for, mask_text, sees_full_numbers
from web.roles import Principal
from web.ticket_views import hours_countdown

TABS = {
    "person": "待人工回访",
    "on_site": "现场核查",
    "scheduled": "待回访",
    "done": "已回访",
    "skipped": "不回访",
}
RECENT_DAYS = 30  # 已回访 and 不回访 show the tasks made in the last 30 days
AT_MOST = 500  # tasks read per tab
SOURCE_LABELS = {
    AnswerSource.KEY: "按键",
    AnswerSource.VOICE: "语音",
    AnswerSource.PERSON: "人工录入",
    AnswerSource.WEB: "网上评价",
}
LEG_NAMES = {"qa": "双声道录音", "caller": "市民", "agent": "回访员", "played": "系统放音"}
_LEG_ORDER = {"qa": 0, "caller": 1, "agent": 2, "played": 3}
ENTERABLE = frozenset({TaskState.NEEDS_PERSON, TaskState.SCHEDULED})  # a verifier may answer
CALLABLE = frozenset({TaskState.NEEDS_PERSON, TaskState.SCHEDULED, TaskState.DONE})


def tab_query(tab: str, now: datetime) -> TaskQuery:
    """The store's query for one of :data:`TABS`."""
    since = now - timedelta(days=RECENT_DAYS)
    match tab:
        case "person":
            return TaskQuery(states=(TaskState.NEEDS_PERSON,), kind=TaskKind.CALL, limit=AT_MOST)
        case "on_site":
            return TaskQuery(states=(TaskState.NEEDS_PERSON,), kind=TaskKind.ON_SITE, limit=AT_MOST)
        case "scheduled":
            return TaskQuery(states=(TaskState.SCHEDULED, TaskState.CALLING), limit=AT_MOST)
        case "done":
            return TaskQuery(states=(TaskState.DONE,), created_from=since, limit=AT_MOST)
        case "skipped":
            return TaskQuery(states=(TaskState.SKIPPED,), created_from=since, limit=AT_MOST)
        case _:
            raise ValueError(f"no tab {tab!r}: one of {', '.join(TABS)}")


def tab_tasks(store: VerificationStore, tab: str, now: datetime) -> list[VerificationTask]:
    """One tab's tasks: the open ones soonest due first, finished ones latest first
    (blocking)."""
    found = store.find(tab_query(tab, now))
    if tab in ("done", "skipped"):
        found.sort(key=lambda t: t.updated_at or t.created_at, reverse=True)
    return found


def countdown(task: VerificationTask, now: datetime) -> str:
    """剩余… or 已超时… to the task's due date while it is open; "" once finished."""
    return "" if task.state.finished else hours_countdown(task.due_by, None, now)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class TaskViews:
    """Turns tasks into what the API and pages show to ``principal``."""

    principal: Principal
    directory: Directory
    now: datetime

    @property
    def full_numbers(self) -> bool:
        return sees_full_numbers(self.principal)

    def text(self, value: str) -> str:
        return value if self.full_numbers else mask_text(value)

    def department_name(self, key: str) -> str:
        found = self.directory.find(key) if key else None
        return found.name if found is not None else key

    def row(self, task: VerificationTask) -> dict[str, Any]:
        """A task as lists show it (``TaskOut``)."""
        body = {
            "id": task.id,
            "ticket": task.ticket,
            "phone_number": task.number,
            "kind": task.kind.value,
            "kind_label": task.kind.label,
            "state": task.state.value,
            "state_label": task.state.label,
            "reason": task.reason.value if task.reason else None,
            "reason_label": task.reason.label if task.reason else "",
            "round": task.round,
            "sampled": task.sampled,
            "tries": task.tries,
            "attempts_made": len(task.attempts),
            "created_at": _time(task.created_at),
            "updated_at": _time(task.updated_at),
            "due_by": _time(task.due_by),
            "countdown": countdown(task, self.now),
            "overdue": not task.state.finished and self.now > task.due_by,
            "next_at": _time(task.next_at),
            "resolution": task.resolution.value if task.resolution else None,
            "rating": task.rating.value if task.rating else None,
            "resolution_source": task.resolution_source.value if task.resolution_source else None,
            "rating_source": task.rating_source.value if task.rating_source else None,
            "answered_by": _answered_by(task),
            "comment": self.text(task.comment),
            "notes": self.text(task.notes),
            "assigned_to": task.assigned_to,
            "department": task.department,
            "department_name": self.department_name(task.department),
            "seat_group": task.seat_group,
            "call_id": task.call_id,
            "has_recording": bool(task.recording_dir),
        }
        return mask_for(body, self.principal)

    def detail(self, task: VerificationTask, root: Path) -> dict[str, Any]:
        """A task with its attempts and recordings (``TaskDetail``)."""
        attempts = [
            {
                "at": _time(a.at),
                "outcome": a.outcome.value,
                "outcome_label": a.outcome.label,
                "by": "自动回访" if a.by == "system" else a.by,
                "detail": self.text(a.detail),
                "call_id": a.call_id,
                "ended_at": _time(a.ended_at),
            }
            for a in task.attempts
        ]
        return {
            **self.row(task),
            "attempts": attempts,
            "recordings": recording_legs(task, root),
            "may_enter_result": task.kind is TaskKind.CALL and task.state in ENTERABLE,
            "may_enter_on_site": task.kind is TaskKind.ON_SITE and not task.state.finished,
            "may_call": task.kind is TaskKind.CALL and task.state in CALLABLE,
            "may_take": not task.state.finished and task.assigned_to != self.principal.username,
        }


def _answered_by(task: VerificationTask) -> str:
    """How the answers came: 按键, 语音, 人工录入 (both the same) or 按键/语音 (mixed)."""
    sources = [s for s in (task.resolution_source, task.rating_source) if s is not None]
    return "/".join(dict.fromkeys(SOURCE_LABELS[s] for s in sources))


# -- recordings --------------------------------------------------------------------------


class RecordingMissing(LookupError):
    """The task has no recording, or none of this leg."""


class RecordingRefused(PermissionError):
    """The task's recording directory, or a file its manifest names, lies outside the
    node's recordings directory."""


def recording_folder(task: VerificationTask, root: Path) -> Path:
    """The task's recording directory (relative to ``root``, or absolute), only inside
    ``root``."""
    if not task.recording_dir:
        raise RecordingMissing(f"task {task.id} has no recording")
    base = root.resolve()
    folder = (base / task.recording_dir).resolve()
    if folder == base or not folder.is_relative_to(base):
        raise RecordingRefused(f"task {task.id}: its recording is outside the recordings directory")
    return folder


def recording_file(task: VerificationTask, leg: str, root: Path) -> Path:
    """The WAV of ``leg`` as the manifest in the task's recording directory names it."""
    folder = recording_folder(task, root)
    try:
        listed = {g.leg: g.file for g in manifests.read(folder).legs}
    except (OSError, ValueError, TypeError, KeyError):
        raise RecordingMissing(f"task {task.id}: no readable manifest") from None
    if leg not in listed:
        raise RecordingMissing(f"task {task.id}: no leg {leg!r} in the manifest")
    name = listed[leg]
    path = (folder / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(folder):
        raise RecordingRefused(f"task {task.id}: {name!r} is not a file of its recording")
    if not path.is_file():
        raise RecordingMissing(f"task {task.id}: {name!r} is missing")
    return path


def recording_legs(task: VerificationTask, root: Path) -> list[dict[str, str]]:
    """The legs to play (``leg``, ``name``, ``url``), the stereo QA file first; none
    when the task has no readable recording inside ``root``."""
    try:
        legs = manifests.read(recording_folder(task, root)).legs
    except (RecordingMissing, RecordingRefused, OSError, ValueError, TypeError, KeyError):
        return []
    return [
        {
            "leg": leg.leg,
            "name": LEG_NAMES.get(leg.leg, leg.leg),
            "url": f"/api/verification/tasks/{task.id}/recording/{leg.leg}",
        }
        for leg in sorted(legs, key=lambda leg: _LEG_ORDER.get(leg.leg, 9))
    ]


# -- figures -----------------------------------------------------------------------------


def report(
    tickets: TicketStore, begin: datetime, finish: datetime
) -> tuple[list[VerificationTask], Mapping[str, int]]:
    """The tasks made in [``begin``, ``finish``) and their tickets' reopen counts
    (blocking)."""
    tasks = VerificationStore(tickets).find(
        TaskQuery(created_from=begin, created_to=finish, limit=1_000_000)
    )
    redo = {number: tickets.get(number).redo_count for number in {t.ticket for t in tasks}}
    return tasks, redo


def figures_of(
    tasks: Iterable[VerificationTask],
    redo: Mapping[str, int],
    directory: Directory,
    begin: datetime | None = None,
    finish: datetime | None = None,
) -> FiguresReport:
    """:func:`verification.figures.figures` over the tasks made in [``begin``,
    ``finish``), departments by name."""

    def name(key: str) -> str:
        found = directory.find(key)
        return found.name if found is not None else key

    within = [
        t
        for t in tasks
        if (begin is None or t.created_at >= begin) and (finish is None or t.created_at < finish)
    ]
    return figures(within, redo, name)
