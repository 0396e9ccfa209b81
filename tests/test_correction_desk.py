"""The desk's submit keeps an agent's corrections of the understanding as labelled
examples (``tickets.examples``): a real hub on the in-memory bus, its ticket store
and the web app through FastAPI's TestClient (``tests.support.desk``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.desk import Desk
from tickets.examples import CORRECTED, Labels, corrections, labelled_examples

# What tests.support.desk's scripted understanding makes of the call.
MODEL = Labels("投诉", "城乡建设", "CX05", "城市管理和综合执法局")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path)
    with made.client:
        yield made
    made.store.close()


def on_call(desk: Desk) -> str:
    desk.post("/api/desk/state", {"action": "login"})
    desk.spoken_call("c1")
    desk.answer("c1")
    return str(desk.get("/api/desk/ticket").json()["number"])


def test_the_agents_correction_is_kept_with_what_the_model_said(desk: Desk) -> None:
    number = on_call(desk)
    submitted = desk.post(
        "/api/desk/ticket",
        {"request_type": "求助", "domain": "交通运输", "category_code": "JT03", "action": "受理"},
    )
    assert submitted.status_code == 200, submitted.text
    (made,) = corrections(desk.store, number)
    assert made.predicted == MODEL
    assert made.labels == Labels("求助", "交通运输", "JT03", MODEL.department)
    assert made.changed == ("request_type", "domain", "category_code")
    assert made.agent == "1002" and made.ticket == number
    assert "路灯坏了" in made.text

    # A second correction (the ticket is accepted, still correctable): the model's
    # labels stay the predicted ones, not the agent's first guess.
    again = desk.post("/api/desk/ticket", {"lead_department": "天河区交通运输局"})
    assert again.status_code == 200, again.text
    first, second = corrections(desk.store, number)
    assert second.predicted == MODEL and second.labels.department == "天河区交通运输局"
    assert second.labels.domain == "交通运输" and second.at >= first.at

    (example,) = labelled_examples(desk.store, None)
    assert (example.ticket, example.source, example.domain) == (number, CORRECTED, "交通运输")
    assert example.department == "天河区交通运输局"


def test_other_changes_and_refused_submits_keep_no_example(desk: Desk) -> None:
    number = on_call(desk)
    address = desk.post("/api/desk/ticket", {"address": "天河区幸福小区东门", "domain": "城乡建设"})
    assert address.status_code == 200, address.text  # the same domain: not a correction
    refused = desk.post("/api/desk/ticket", {"domain": "交通运输", "action": "即时办结"})
    assert refused.status_code == 409  # a complaint is not closed at once, nor corrected
    assert desk.store.get(number).domain == "城乡建设"
    assert desk.post("/api/desk/ticket", {"action": "受理"}).status_code == 200
    assert corrections(desk.store, number) == []
