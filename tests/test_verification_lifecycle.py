"""The 回访 part of tickets.lifecycle: a closed ticket called back (回访), rated on
five levels and asked whether it was solved (评价); 未解决, 部分解决 and 差评 put it
before the centre (回访复核), which upholds the result (维持办结) or has it handled
again (重办), each refusal naming its reason."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import DeadlinePolicy, WorkCalendar
from tickets.lifecycle import (
    SYSTEM_ACTIONS,
    Action,
    TransitionError,
    allowed_actions,
    disputed,
    parse_action,
    transition,
)
from tickets.model import Rating, RequestType, Resolution, Status, Ticket, TicketDraft
from tickets.verification_tasks import TaskKind, TaskState, VerificationTask

TZ = ZoneInfo("Asia/Shanghai")
POLICY = DeadlinePolicy(calendar=WorkCalendar.china_2026())
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
CLOSED_AT = datetime(2026, 12, 4, 16, 0, tzinfo=TZ)
CALLED_AT = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")


def act(ticket: Ticket, action: Action | str, at: datetime, **options: object) -> Ticket:
    return transition(ticket, action, "someone", at, policy=POLICY, **options)  # type: ignore[arg-type]


def closed(closed_at: datetime = CLOSED_AT) -> Ticket:
    """A complaint handled by the ecology bureau and closed (on Friday 4 December)."""
    draft = TicketDraft(
        caller_number="13800138000",
        request_type=RequestType.COMPLAINT,
        content="小区楼下工地晚上施工，噪音很大",
    )
    start = closed_at - timedelta(days=3)
    ticket = Ticket.from_draft(draft, "GD12345-20261201-000001", start, date(2026, 12, 22))
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "city.ecology"}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": "已责令工地停止夜间施工"}),
        (Action.APPROVE_REPLY, {}),
    ]:
        ticket = act(ticket, action, start, **options)
    return act(ticket, Action.CLOSE, closed_at)


def called_back(closed_at: datetime = CLOSED_AT, called_at: datetime = CALLED_AT) -> Ticket:
    return act(closed(closed_at), Action.CALLBACK, called_at, note="电话回访")


def rated(
    rating: str | None,
    resolution: str | None = None,
    closed_at: datetime = CLOSED_AT,
    called_at: datetime = CALLED_AT,
) -> Ticket:
    ticket = called_back(closed_at, called_at)
    return act(ticket, Action.RATE, called_at, rating=rating, resolution=resolution)


def refused(ticket: Ticket, action: Action | str, **options: object) -> str:
    with pytest.raises(TransitionError) as caught:
        act(ticket, action, MONDAY, **options)
    return str(caught.value)


# -- 回访 -----------------------------------------------------------------------------------


def test_a_closed_ticket_is_called_back() -> None:
    ticket = called_back()
    assert ticket.status is Status.CALLED_BACK
    entry = ticket.audit[-1]
    assert (entry.action, entry.from_status, entry.to_status) == (
        "callback",
        Status.CLOSED,
        Status.CALLED_BACK,
    )
    assert entry.details == {"note": "电话回访"} and entry.at == CALLED_AT
    assert parse_action("回访") is Action.CALLBACK and Action.CALLBACK.label == "回访"


def test_only_a_closed_ticket_is_called_back() -> None:
    handling = act(closed(), Action.FLAG_REVIEW, MONDAY)
    handling = act(handling, Action.REOPEN, MONDAY, reason="复核")
    message = refused(handling, Action.CALLBACK)
    assert "cannot callback: not allowed in state handling (办理)" in message
    assert "cannot callback" in refused(called_back(), Action.CALLBACK)


# -- 评价 ------------------------------------------------------------------------------------


def test_ratings_are_five_levels_the_last_two_bad() -> None:
    assert [r.value for r in Rating] == list(RATINGS)
    assert [r.score for r in Rating] == [5, 4, 3, 2, 1]
    assert [r.is_bad for r in Rating] == [False, False, False, True, True]
    assert [r.is_satisfied for r in Rating] == [True, True, True, False, False]
    assert [r.value for r in Resolution] == ["已解决", "部分解决", "未解决"]


@pytest.mark.parametrize("rating", RATINGS)
def test_each_of_the_five_ratings_is_recorded(rating: str) -> None:
    ticket = rated(rating)
    assert ticket.status is Status.RATED and ticket.rating is Rating(rating)
    assert ticket.resolution is None
    assert ticket.audit[-1].details == {"rating": rating}


def test_the_rating_and_whether_it_was_solved_are_recorded_together() -> None:
    ticket = act(
        called_back(),
        "评价",
        CALLED_AT,
        rating=Rating.SATISFIED,
        resolution=Resolution.SOLVED,
        note="工地已停工",
    )
    assert (ticket.rating, ticket.resolution) == (Rating.SATISFIED, Resolution.SOLVED)
    assert ticket.audit[-1].details == {
        "rating": "满意",
        "resolution": "已解决",
        "note": "工地已停工",
    }
    assert not ticket.verification_review


def test_whether_it_was_solved_is_recorded_without_a_rating() -> None:
    ticket = rated(None, "已解决")
    assert (ticket.status, ticket.rating, ticket.resolution) == (
        Status.RATED,
        None,
        Resolution.SOLVED,
    )
    assert ticket.audit[-1].details == {"resolution": "已解决"}


def test_a_rate_without_an_answer_names_what_it_needs() -> None:
    for empty in (None, ""):
        message = refused(called_back(), Action.RATE, rating=empty, resolution=empty)
        assert "needs a rating (非常满意, 满意, 基本满意, 不满意, 非常不满意)" in message
        assert "or whether it was solved" in message


def test_an_unknown_rating_or_resolution_names_the_choices() -> None:
    message = refused(called_back(), Action.RATE, rating="很好")
    assert "'很好' is not a rating: one of 非常满意, 满意, 基本满意, 不满意, 非常不满意" in message
    message = refused(called_back(), Action.RATE, rating="满意", resolution="差不多")
    assert "'差不多' is not a resolution: one of 已解决, 部分解决, 未解决" in message


def test_a_ticket_is_rated_only_once_called_back() -> None:
    assert "not allowed in state closed (办结)" in refused(closed(), Action.RATE, rating="满意")
    assert "not allowed in state rated" in refused(rated("满意"), Action.RATE, rating="满意")


@pytest.mark.parametrize(
    ("rating", "resolution", "review"),
    [
        ("非常满意", "已解决", False),
        ("满意", None, False),
        ("基本满意", "已解决", False),
        ("不满意", None, True),  # 差评
        ("非常不满意", "已解决", True),  # 差评 even though solved
        ("满意", "部分解决", True),
        ("非常满意", "未解决", True),
        (None, "未解决", True),
        (None, "部分解决", True),
        (None, "已解决", False),
    ],
)
def test_unsolved_partly_solved_and_bad_ratings_await_the_centres_review(
    rating: str | None, resolution: str | None, review: bool
) -> None:
    ticket = rated(rating, resolution)
    assert ticket.verification_review is review
    assert disputed(ticket) is review
    assert (Action.UPHOLD in allowed_actions(ticket)) is review
    assert (Action.REOPEN in allowed_actions(ticket)) is review


def test_a_task_and_the_ticket_agree_on_what_is_disputed() -> None:
    task = VerificationTask(
        ticket="GD12345-20261201-000001",
        number="13800138000",
        kind=TaskKind.CALL,
        state=TaskState.DONE,
        created_at=CALLED_AT,
        due_by=CALLED_AT,
    )
    ticket = closed()
    for rating, resolution in itertools.product((None, *Rating), (None, *Resolution)):
        answered = dataclasses.replace(task, rating=rating, resolution=resolution)
        said = dataclasses.replace(ticket, rating=rating, resolution=resolution)
        assert answered.disputed is disputed(said), (rating, resolution)
    assert not task.disputed


# -- 回访复核 ----------------------------------------------------------------------------------


def test_the_review_flag_is_the_nodes_own_action() -> None:
    ticket = rated("满意", "已解决")
    assert Action.FLAG_REVIEW in SYSTEM_ACTIONS
    assert Action.FLAG_REVIEW not in allowed_actions(ticket)
    assert Action.FLAG_REVIEW in allowed_actions(ticket, with_system=True)
    flagged = transition(
        ticket, Action.FLAG_REVIEW, "system", MONDAY, reason="回访意见表示问题未解决"
    )
    assert flagged.verification_review and flagged.status is Status.RATED
    assert flagged.audit[-1].reason == "回访意见表示问题未解决"
    assert "already awaiting review" in refused(flagged, Action.FLAG_REVIEW)
    assert Action.FLAG_REVIEW not in allowed_actions(flagged, with_system=True)


def test_the_review_flag_is_raised_only_on_a_closed_ticket() -> None:
    reopened = act(act(closed(), Action.FLAG_REVIEW, MONDAY), Action.REOPEN, MONDAY, reason="x")
    assert "not allowed in state handling" in refused(reopened, Action.FLAG_REVIEW)
    assert act(closed(), Action.FLAG_REVIEW, MONDAY).verification_review  # before any call
    assert act(called_back(), Action.FLAG_REVIEW, MONDAY).verification_review


def test_upholding_the_result_needs_a_reason_and_clears_the_review() -> None:
    ticket = rated("不满意", "未解决")
    message = refused(ticket, Action.UPHOLD)
    assert "cannot uphold: needs a reason" in message
    assert "allowed now: uphold, reopen" in message
    kept = act(ticket, "维持办结", MONDAY, reason="已现场核实，工地夜间未施工")
    assert kept.status is Status.RATED and not kept.verification_review
    assert (kept.rating, kept.resolution) == (Rating.DISSATISFIED, Resolution.UNSOLVED)
    entry = kept.audit[-1]
    assert (entry.action, entry.reason) == ("uphold", "已现场核实，工地夜间未施工")
    assert "no 回访 result of this ticket awaits review" in refused(kept, Action.UPHOLD, reason="x")


def test_there_is_nothing_to_uphold_without_a_review() -> None:
    for ticket in (closed(), called_back(), rated("满意", "已解决")):
        assert "no 回访 result of this ticket awaits review" in refused(
            ticket, Action.UPHOLD, reason="结果属实"
        )


# -- 重办 ---------------------------------------------------------------------------------------


def test_a_disputed_ticket_is_handled_again_with_a_fresh_due_date() -> None:
    ticket = dataclasses.replace(
        rated("非常不满意", "未解决"),
        due_soon_at=CLOSED_AT,
        overdue_at=CLOSED_AT,
        escalated_at=CLOSED_AT,
    )
    again = act(ticket, "重办", MONDAY, reason="市民反映工地仍在夜间施工")
    assert again.status is Status.HANDLING and again.redo_count == 1
    assert (again.rating, again.resolution, again.verification_review) == (None, None, False)
    assert (again.reply, again.closed_at) == ("", None)
    assert again.due_date == date(2026, 12, 28)  # 投诉: 15 working days from Monday 7 December
    assert (again.due_soon_at, again.overdue_at, again.escalated_at) == (None, None, None)
    assert again.lead_department == "city.ecology"
    entry = again.audit[-1]
    assert (entry.action, entry.from_status, entry.to_status) == (
        "reopen",
        Status.RATED,
        Status.HANDLING,
    )
    assert entry.reason == "市民反映工地仍在夜间施工"
    assert entry.details["redo"] == "1" and entry.details["department"] == "city.ecology"
    assert entry.details["due_date"] == f"{ticket.due_date} → 2026-12-28"


def test_a_fresh_due_date_skips_the_holidays() -> None:
    eve = datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    ticket = rated("不满意", closed_at=eve - timedelta(days=2), called_at=eve - timedelta(hours=1))
    again = act(ticket, Action.REOPEN, eve, reason="未解决")
    # 8 and 9 October, the make-up Saturday 10 October, then 12 more working days
    assert again.due_date == date(2026, 10, 27)


def test_a_satisfied_citizens_ticket_is_not_handled_again() -> None:
    for ticket in (rated("满意", "已解决"), rated("基本满意"), closed(), called_back()):
        message = refused(ticket, Action.REOPEN, reason="再查一次")
        assert (
            "only a ticket the citizen said is unsolved, or rated 差评, is handled again" in message
        )


def test_reopening_needs_a_reason() -> None:
    assert "cannot reopen: needs a reason" in refused(rated("不满意"), Action.REOPEN, reason="  ")


def test_a_ticket_flagged_without_a_rating_may_be_reopened() -> None:
    flagged = act(closed(), Action.FLAG_REVIEW, MONDAY, reason="另一位市民反映未解决")
    again = act(flagged, Action.REOPEN, MONDAY, reason="核实")
    assert again.status is Status.HANDLING and again.redo_count == 1


def test_a_disputed_result_may_still_be_reopened_after_it_was_upheld() -> None:
    kept = act(rated("不满意"), Action.UPHOLD, MONDAY, reason="先维持")
    assert not kept.verification_review and disputed(kept)
    assert Action.REOPEN in allowed_actions(kept) and Action.UPHOLD not in allowed_actions(kept)
    assert act(kept, Action.REOPEN, MONDAY, reason="市民再次来电").status is Status.HANDLING


def test_a_reopened_ticket_goes_round_again_and_counts_each_redo() -> None:
    ticket = act(rated("不满意", "未解决"), Action.REOPEN, MONDAY, reason="仍有噪音")
    later = MONDAY + timedelta(days=2)
    for action, options in [
        (Action.REPLY, {"note": "已对工地立案处罚"}),
        (Action.APPROVE_REPLY, {}),
        (Action.CLOSE, {}),
        (Action.CALLBACK, {}),
        (Action.RATE, {"rating": "不满意", "resolution": "部分解决"}),
    ]:
        ticket = act(ticket, action, later, **options)
    assert (ticket.status, ticket.redo_count, ticket.verification_review) == (
        Status.RATED,
        1,
        True,
    )
    assert ticket.closed_at == later and ticket.reply == "已对工地立案处罚"
    twice = act(ticket, Action.REOPEN, later, reason="仍未解决")
    assert twice.redo_count == 2
    assert [e.details.get("redo") for e in twice.audit if e.action == "reopen"] == ["1", "1"]


def test_refusals_list_what_is_allowed_now() -> None:
    with pytest.raises(TransitionError) as caught:
        act(rated("满意", "已解决"), Action.UPHOLD, MONDAY, reason="x")
    assert caught.value.allowed == ()
    assert "allowed now: none (the ticket is finished)" in str(caught.value)
    with pytest.raises(TransitionError) as caught:
        act(rated("不满意"), Action.CALLBACK, MONDAY)
    assert caught.value.allowed == (Action.UPHOLD, Action.REOPEN)
