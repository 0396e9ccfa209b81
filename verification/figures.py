"""回访 figures over a period, per department and per seat group.

- **应回访** (due): call tasks of the period that were owed a call (not skipped
  before any attempt: anonymous, declined callbacks, do-not-call);
- **回访率**: tasks with an answer (solved or not, or a rating) ÷ due;
- **联系成功率**: tasks whose citizen was reached at least once ÷ tasks tried;
- **解决率**: 已解决 ÷ tasks that answered whether it was solved;
- **满意率**: 非常满意 + 满意 + 基本满意 ÷ rated;
- **差评**: ratings 不满意 or 非常不满意;
- **回访后重办**: tasks whose ticket was reopened (重办) after this round;
- ratings given **by key** and **by voice** (and by a verifier).

Pure: tasks and each ticket's reopen count in, figures out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from tickets.model import Resolution
from tickets.verification_tasks import AnswerSource, TaskKind, TaskState, VerificationTask


@dataclass(slots=True)
class VerificationFigures:
    """The counts behind the rates, and the rates (None with nothing to divide by)."""

    due: int = 0
    answered: int = 0
    tried: int = 0
    reached: int = 0
    asked_solved: int = 0
    solved: int = 0
    rated: int = 0
    satisfied: int = 0
    bad: int = 0
    redone: int = 0
    needs_person: int = 0
    by_source: dict[str, int] = field(default_factory=dict)

    def add(self, task: VerificationTask, redo_count: int) -> None:
        skipped_unasked = task.state is TaskState.SKIPPED and not task.attempts
        if task.kind is not TaskKind.CALL or skipped_unasked or task.state is TaskState.CANCELLED:
            return
        self.due += 1
        if task.attempts:
            self.tried += 1
            self.reached += task.reached
        if task.resolution is not None or task.rating is not None:
            self.answered += 1
        if task.resolution is not None:
            self.asked_solved += 1
            self.solved += task.resolution is Resolution.SOLVED
        if task.rating is not None:
            self.rated += 1
            self.satisfied += task.rating.is_satisfied
            self.bad += task.rating.is_bad
            source = (task.rating_source or AnswerSource.PERSON).value
            self.by_source[source] = self.by_source.get(source, 0) + 1
        self.redone += redo_count >= task.round and task.disputed
        self.needs_person += task.state is TaskState.NEEDS_PERSON

    def as_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "answered": self.answered,
            "verification_rate": _rate(self.answered, self.due),
            "tried": self.tried,
            "reached": self.reached,
            "contact_rate": _rate(self.reached, self.tried),
            "asked_solved": self.asked_solved,
            "solved": self.solved,
            "solved_rate": _rate(self.solved, self.asked_solved),
            "rated": self.rated,
            "satisfied": self.satisfied,
            "satisfaction_rate": _rate(self.satisfied, self.rated),
            "bad_ratings": self.bad,
            "redone_after_verification": self.redone,
            "needs_person": self.needs_person,
            "ratings_by_key": self.by_source.get(AnswerSource.KEY.value, 0),
            "ratings_by_voice": self.by_source.get(AnswerSource.VOICE.value, 0),
            "ratings_by_person": self.by_source.get(AnswerSource.PERSON.value, 0),
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(slots=True)
class FiguresReport:
    total: VerificationFigures = field(default_factory=VerificationFigures)
    departments: dict[str, VerificationFigures] = field(default_factory=dict)
    seat_groups: dict[str, VerificationFigures] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total.as_dict(),
            "departments": {k: v.as_dict() for k, v in sorted(self.departments.items())},
            "seat_groups": {k: v.as_dict() for k, v in sorted(self.seat_groups.items())},
        }


def figures(
    tasks: Iterable[VerificationTask],
    redo_counts: Mapping[str, int],
    department_name: Callable[[str], str] = lambda department: department,
) -> FiguresReport:
    """Figures over ``tasks``; ``redo_counts`` gives each ticket's times reopened."""
    report = FiguresReport()
    for task in tasks:
        redo = redo_counts.get(task.ticket, 0)
        report.total.add(task, redo)
        department = department_name(task.department) if task.department else "（未派单）"
        report.departments.setdefault(department, VerificationFigures()).add(task, redo)
        group = task.seat_group or "（未知）"
        report.seat_groups.setdefault(group, VerificationFigures()).add(task, redo)
    return report
