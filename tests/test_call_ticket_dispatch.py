"""A call's draft ticket carries its place in the city's tree and the dispatch
catalogue's suggestion of lead and co-handlers (the agent confirms or changes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from call_routing.understanding import build_understander
from ivr.hub.call_tickets import draft_for_call
from tickets.departments import default_directory


@dataclass
class Flow:
    understanding: Any
    text: str
    caller: str = "13800138000"
    call_id: str = "c-1"
    emergency: str = ""
    transcript: list[dict[str, str]] = field(default_factory=list)

    def said(self) -> str:
        return self.text


@pytest.fixture(scope="module")
def understand() -> Any:
    understander = build_understander(None, None, None)
    return lambda text: understander.understand(text, datetime(2026, 12, 7, tzinfo=UTC))


def test_the_catalogue_suggests_the_departments_of_the_draft(understand: Any) -> None:
    text = "我住在天河区石牌街道华师小区，小区物业乱收停车费，还不给发票"
    understanding = understand(text)
    plain = draft_for_call(Flow(understanding, text))
    suggested = draft_for_call(Flow(understanding, text), default_directory())
    assert plain.category_path.count("/") >= 1 and plain.category_path.startswith("城乡建设")
    assert suggested.category_path == plain.category_path
    city = default_directory()
    lead = city.find(suggested.lead_department)
    assert lead is not None and lead.id == suggested.lead_department  # a directory id
    expected = city.suggest(*plain.category_path.split("/"), address=plain.address)
    assert expected.lead is not None and suggested.lead_department == expected.lead.id
    assert plain.lead_department == understanding.departments[0]  # the taxonomy's, unchanged
