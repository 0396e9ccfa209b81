"""Supervision (值班长督导): how often agents corrected what the understanding made of
the calls, per domain the model gave — the calls it understood, how many an agent
corrected on the desk (request type, domain, category or lead department), the
rate, and the most frequent "model said X → agent set Y" changes
(``tickets.examples``).  Supervisors and admins, as the wallboard.

Store calls block (SQL), so they run in a thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tickets.examples import DomainCorrections, correction_rates
from web.deps import ContextDep, SupervisorDep, ticket_store
from web.schemas.errors import refusals

router = APIRouter(prefix="/api/supervision", tags=["supervision"])

DAYS_AT_MOST = 92
TOP_CHANGES = 3


class LabelChangeOut(BaseModel):
    """The model said ``predicted``, the agent set ``corrected``, ``count`` times."""

    label: str = Field(
        description="request_type, domain, category_code or department.", examples=["domain"]
    )
    predicted: str = Field(examples=["交通运输"])
    corrected: str = Field(examples=["城乡建设"])
    count: int = Field(ge=1)


class DomainCorrectionsOut(BaseModel):
    """The calls the model put in ``domain``, and the agents' corrections of them."""

    domain: str = Field(examples=["城乡建设"])
    understood: int = Field(ge=0, description="Calls the model gave this domain.")
    corrected: int = Field(ge=0, description="Of them, corrected by an agent (any label).")
    rate: float = Field(ge=0, le=1, description="corrected / understood.")
    changes: list[LabelChangeOut] = Field(description="The most frequent changes, most first.")

    @classmethod
    def of(cls, found: DomainCorrections) -> DomainCorrectionsOut:
        return cls(
            domain=found.domain,
            understood=found.understood,
            corrected=found.corrected,
            rate=round(found.rate, 4),
            changes=[
                LabelChangeOut(
                    label=c.label, predicted=c.predicted, corrected=c.corrected, count=c.count
                )
                for c in found.changes
            ],
        )


class CorrectionReport(BaseModel):
    """The agents' corrections of the calls of the last ``days`` days."""

    days: int
    since: datetime = Field(description="Calls whose tickets were written from then on.")
    understood: int = Field(ge=0)
    corrected: int = Field(ge=0)
    domains: list[DomainCorrectionsOut] = Field(description="Most corrected first.")


@router.get(
    "/corrections",
    response_model=CorrectionReport,
    responses=refusals(401, 403, 503, _503="This node has no ticket store."),
)
async def corrections(
    principal: SupervisorDep,
    context: ContextDep,
    days: Annotated[
        int, Query(ge=1, le=DAYS_AT_MOST, description="The last so many days (7: this week).")
    ] = 7,
) -> CorrectionReport:
    """本周坐席更正: per domain the model gave, the calls understood, those an agent
    corrected, the rate and the most frequent "model said → agent set" changes."""
    store = ticket_store(context)
    since = datetime.now(UTC) - timedelta(days=days)
    found = await asyncio.to_thread(correction_rates, store, since, TOP_CHANGES)
    return CorrectionReport(
        days=days,
        since=since,
        understood=sum(d.understood for d in found),
        corrected=sum(d.corrected for d in found),
        domains=[DomainCorrectionsOut.of(d) for d in found],
    )
