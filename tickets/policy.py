"""The rules a node applies to its tickets, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sip_config.settings import TicketsSection
from tickets.deadlines import DeadlinePolicy, WorkCalendar
from tickets.duplicates import DuplicateRules
from tickets.model import RequestType


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    """Number prefix, deadlines and duplicate rules."""

    number_prefix: str = "GD12345"
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    duplicates: DuplicateRules = field(default_factory=DuplicateRules)

    @classmethod
    def from_settings(cls, section: TicketsSection) -> TicketPolicy:
        holidays, working = frozenset(section.holidays), frozenset(section.working_days)
        if section.builtin_calendar:
            calendar = WorkCalendar.china_2026(holidays, working)
        else:
            calendar = WorkCalendar(holidays, working)
        return cls(
            number_prefix=section.number_prefix,
            deadlines=DeadlinePolicy(
                {RequestType(key): days for key, days in section.deadlines.items()},
                calendar,
                section.timezone,
                category_days=dict(section.category_deadlines),
                due_soon_days=section.due_soon_days,
                escalate_after_days=section.escalate_after_days,
            ),
            duplicates=DuplicateRules(
                window=timedelta(days=section.duplicate_window_days),
                similarity=section.duplicate_similarity,
                caller_similarity=section.duplicate_caller_similarity,
            ),
        )
