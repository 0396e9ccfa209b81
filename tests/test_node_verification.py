"""回访 end to end on loopback: a real node (Kamailio, Mosquitto, media workers,
the hub) calls citizens back through its trunk, here a local `hotline phone
--auto-answer` that presses keys; the answers land in the ticket, the call is
recorded with a verified manifest and hash chain, 2 + 2 leaves the ticket for
the centre's 重办 review, and a phone that never answers (or is busy) is tried
the configured number of times and then listed for a person.  Every survey call
reaches the citizen through the node's Kamailio."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recordings.chain import verify_chain
from recordings.manifest import verify
from tests.support.nodes import HOTLINE, Node, free_sip_port, start_node, wait_for
from tickets.lifecycle import Action
from tickets.model import Rating, Resolution, Status, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import AttemptOutcome, TaskReason, TaskState

pytestmark = pytest.mark.node

VERIFICATION_TOML = """
[tickets]
builtin_calendar = false

[verification]
enabled = true
trunk_uri = "sip:{{number}}@127.0.0.1:{citizen_port}"
calling_hours = ["00:00-24:00"]
attempts = 2
retry_after_min = 0.05
ring_timeout_s = 5
every_s = 1
comment = false
"""


@pytest.fixture(scope="module")
def surveying(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, int]]:
    citizen_port = free_sip_port()
    root = tmp_path_factory.mktemp("verification") / "node"
    node = start_node(
        root, workers=2, extra_toml=VERIFICATION_TOML.format(citizen_port=citizen_port)
    )
    try:
        yield node, citizen_port
    finally:
        node.stop()


def store_of(node: Node) -> TicketStore:
    return TicketStore(f"sqlite:///{node.data_dir / 'tickets.db'}")


def close_a_ticket(node: Node, caller: str) -> str:
    """A ticket answered by its department and closed by the centre, as the
    consoles would leave it."""
    at = datetime.now(UTC) - timedelta(hours=6)
    with store_of(node) as store:
        ticket = store.create(
            TicketDraft(
                caller_number=caller,
                content="小区门口的路灯坏了一个多星期",
                summary="小区门口路灯损坏",
                category_path="城乡建设/市政设施/路灯",
            ),
            at,
        )
        for action, options in [
            (Action.ACCEPT, {}),
            (Action.DISPATCH, {"department": "市城市管理和综合执法局"}),
            (Action.SIGN, {}),
            (Action.START, {}),
            (Action.REPLY, {"note": "已安排维修，路灯已恢复照明。"}),
            (Action.APPROVE_REPLY, {}),
            (Action.CLOSE, {}),
        ]:
            at += timedelta(minutes=10)
            store.transition(ticket.number, action, "tester", at, **options)
    return ticket.number


def citizen(port: int, directory: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    """The citizen's phone, auto-answering on ``port`` (the node's trunk), and the
    file its summary goes to."""
    out = directory / f"citizen-{port}.out"
    process = subprocess.Popen(
        [str(HOTLINE), "phone", "--auto-answer", "--port", str(port), "--timeout", "90", *args],
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )
    time.sleep(1.5)  # its SIP port is bound before the node dials
    return process, out


def phone_summary(phone: tuple[subprocess.Popen, Path]) -> dict:
    process, out = phone
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    lines = [line for line in out.read_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def tasks(node: Node, number: str) -> list:
    with store_of(node) as store:
        return VerificationStore(store).for_ticket(number)


def ticket(node: Node, number: str):  # noqa: ANN201
    with store_of(node) as store:
        return store.get(number)


def settled(node: Node, number: str) -> list:
    """The ticket's tasks once none waits for a call or is on one."""
    found = tasks(node, number)
    waiting = (TaskState.SCHEDULED, TaskState.CALLING)
    return found if found and all(t.state not in waiting for t in found) else []


def test_keys_one_then_four_rate_the_ticket_solved_and_satisfied(
    surveying: tuple[Node, int], tmp_path: Path
) -> None:
    node, port = surveying
    phone = citizen(
        port, tmp_path, "--dtmf", "1@4", "--dtmf", "4@7", "--record", str(tmp_path / "heard.wav")
    )
    try:
        number = close_a_ticket(node, "13800138001")
        wait_for(lambda: ticket(node, number).status is Status.RATED, 60, "the 回访 rating")
    finally:
        summary = phone_summary(phone)
    rated = ticket(node, number)
    assert (rated.resolution, rated.rating) == (Resolution.SOLVED, Rating.SATISFIED)
    assert not rated.verification_review
    assert [e.action for e in rated.audit[-2:]] == ["callback", "rate"]
    assert summary.get("answered"), summary
    assert summary["offered_from"] == [node.target]  # dialled out through the node's Kamailio
    [task] = wait_for(
        lambda: [t for t in tasks(node, number) if t.recording_dir], 30, "the recording"
    )
    assert task.state is TaskState.DONE
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.COMPLETED]
    directory = Path(task.recording_dir)
    assert verify(directory) == []  # every leg's SHA-256 matches the manifest
    assert verify_chain(node.recordings) == []
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["ticket"] == number and manifest["status"] == "complete"
    assert {leg["leg"] for leg in manifest["legs"]} >= {"caller", "played"}
    assert (tmp_path / "heard.wav").stat().st_size > 8000 * 2 * 3  # the citizen heard the survey


def test_two_then_two_leaves_the_ticket_waiting_for_review(
    surveying: tuple[Node, int], tmp_path: Path
) -> None:
    node, port = surveying
    phone = citizen(port, tmp_path, "--dtmf", "2@4", "--dtmf", "2@7")
    try:
        number = close_a_ticket(node, "13800138002")
        wait_for(lambda: ticket(node, number).status is Status.RATED, 60, "the 回访 rating")
    finally:
        phone_summary(phone)
    reviewed = ticket(node, number)
    assert (reviewed.resolution, reviewed.rating) == (Resolution.UNSOLVED, Rating.DISSATISFIED)
    assert reviewed.verification_review  # the centre decides 重办 or 维持办结
    call = [t for t in tasks(node, number) if t.kind.value == "call"][0]
    assert call.state is TaskState.NEEDS_PERSON and call.reason is TaskReason.BAD_RATING


def test_a_phone_that_never_answers_is_tried_twice_then_listed_for_a_person(
    surveying: tuple[Node, int], tmp_path: Path
) -> None:
    node, port = surveying
    phone = citizen(port, tmp_path, "--no-answer", "--calls", "2")
    try:
        number = close_a_ticket(node, "13800138003")
        [task] = wait_for(lambda: settled(node, number), 60, "both attempts")
    finally:
        summary = phone_summary(phone)
    assert summary.get("offered") == 2, summary
    assert summary["offered_from"] == [node.target] * 2
    assert task.state is TaskState.NEEDS_PERSON and task.reason is TaskReason.UNREACHED
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.NO_ANSWER] * 2
    assert ticket(node, number).status is Status.CLOSED  # nothing was rated


def test_a_busy_phone_is_tried_twice_then_listed_for_a_person(
    surveying: tuple[Node, int], tmp_path: Path
) -> None:
    node, port = surveying
    phone = citizen(port, tmp_path, "--busy", "--calls", "2")
    try:
        number = close_a_ticket(node, "13800138005")
        [task] = wait_for(lambda: settled(node, number), 60, "both attempts")
    finally:
        summary = phone_summary(phone)
    assert summary.get("offered") == 2 and summary.get("answered_calls") == 0, summary
    assert task.state is TaskState.NEEDS_PERSON and task.reason is TaskReason.UNREACHED
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.BUSY] * 2


def test_a_worker_killed_mid_survey_costs_only_that_attempt(
    surveying: tuple[Node, int], tmp_path: Path
) -> None:
    node, port = surveying
    phone = citizen(port, tmp_path, "--calls", "2", "--dtmf", "1@5", "--dtmf", "5@8")
    try:
        number = close_a_ticket(node, "13800138004")
        calling = wait_for(
            lambda: [t for t in tasks(node, number) if t.state is TaskState.CALLING], 30, "the call"
        )[0]

        def holder() -> str:
            """The worker the hub dialled the survey call on (its log says)."""
            for record in node.hub_events():
                if record.get("call_id") == calling.call_id and record.get("worker"):
                    return str(record["worker"])
            return ""

        worker = wait_for(holder, 15, "the worker holding the survey call")
        time.sleep(1.5)  # answered, the introduction playing
        os.kill(node.part(f"worker-{worker}")["pid"], signal.SIGKILL)
        wait_for(lambda: ticket(node, number).status is Status.RATED, 90, "the second attempt")
    finally:
        phone_summary(phone)
    [task] = [t for t in tasks(node, number) if t.kind.value == "call"]
    assert [a.outcome for a in task.attempts] == [AttemptOutcome.LOST, AttemptOutcome.COMPLETED]
    assert (ticket(node, number).resolution, ticket(node, number).rating) == (
        Resolution.SOLVED,
        Rating.VERY_SATISFIED,
    )
