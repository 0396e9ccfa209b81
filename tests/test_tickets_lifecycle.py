"""tickets.lifecycle: every action in every state, allowed or refused."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import DeadlinePolicy
from tickets.lifecycle import (
    SYSTEM_ACTIONS,
    Action,
    TransitionError,
    allowed_actions,
    parse_action,
    transition,
)
from tickets.model import (
    ExtensionRequest,
    Rating,
    ReplyDraft,
    RequestType,
    Status,
    Ticket,
    TicketDraft,
    format_number,
    parse_number,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)  # a Friday
POLICY = DeadlinePolicy()

# The process as written down independently of tickets.lifecycle's table, for a
# consultation with no extension pending (rated 不满意 where rated).
_CLOCK = {Action.DUE_SOON: None, Action.OVERDUE: None}  # the sweep's marks, state kept
_WITH_DEPARTMENT = {Action.SUPERVISE: None, Action.URGE: None, **_CLOCK, Action.MERGE: None}
_VERIFYING = {Action.FLAG_REVIEW: None, Action.VERIFICATION_ATTEMPT: None}

EXPECTED: dict[Status, dict[Action, Status | None]] = {
    Status.DRAFT: {
        Action.ACCEPT: Status.ACCEPTED,
        Action.DISCARD: Status.DISCARDED,
        Action.LINK: Status.LINKED,
        Action.MERGE: None,
    },
    Status.ACCEPTED: {
        Action.LINK: Status.LINKED,
        Action.CLOSE_AT_ONCE: Status.CLOSED,
        Action.DISPATCH: Status.DISPATCHED,
        Action.MERGE: None,
        **_CLOCK,
    },
    Status.DISPATCHED: {
        Action.SIGN: Status.SIGNED,
        Action.RETURN: Status.RETURNED,
        **_WITH_DEPARTMENT,
    },
    Status.SIGNED: {
        Action.RETURN: Status.RETURNED,
        Action.START: Status.HANDLING,
        Action.NOTE: None,
        Action.REQUEST_EXTENSION: None,
        Action.REPLY: Status.REVIEWING,
        **_WITH_DEPARTMENT,
    },
    Status.HANDLING: {
        Action.RETURN: Status.RETURNED,
        Action.NOTE: None,
        Action.REQUEST_EXTENSION: None,
        Action.REPLY: Status.REVIEWING,
        **_WITH_DEPARTMENT,
    },
    Status.REVIEWING: {
        Action.NOTE: None,
        Action.APPROVE_REPLY: Status.REPLIED,
        Action.RETURN_REPLY: Status.HANDLING,
        Action.REQUEST_EXTENSION: None,
        **_WITH_DEPARTMENT,
    },
    Status.REPLIED: {
        Action.REJECT_REPLY: Status.HANDLING,
        Action.CLOSE: Status.CLOSED,
        Action.MERGE: None,
    },
    # 回访: the survey may flag any verified state for the centre's review (回访复核).
    # and note each try that rated nothing (回访记录).
    Status.CLOSED: {Action.CALLBACK: Status.CALLED_BACK, **_VERIFYING},
    Status.CALLED_BACK: {Action.RATE: Status.RATED, **_VERIFYING},
    Status.RATED: {Action.REOPEN: Status.HANDLING, **_VERIFYING},
    Status.RETURNED: {
        Action.APPROVE_RETURN: Status.DISPATCHED,
        Action.REJECT_RETURN: Status.DISPATCHED,
        **_WITH_DEPARTMENT,
    },
    Status.LINKED: {Action.UNLINK: Status.DRAFT},
    Status.DISCARDED: {},
}

# Everything any action may need; each takes what it uses.
KIT = {
    "reason": "不属于本单位职责",
    "department": "城市管理和综合执法局",
    "rating": "不满意",
    "working_days": 3,
    "linked_to": "GD12345-20261120-000007",
    "note": "已答复市民",
}


def make(status: Status = Status.DRAFT, **changes: object) -> Ticket:
    draft = TicketDraft(
        caller_number="13800138000",
        request_type=RequestType.CONSULTATION,
        content="小区门口路灯不亮",
        address="广州市天河区体育西路1号",
    )
    ticket = Ticket.from_draft(draft, "GD12345-20261127-000001", NOW, date(2026, 12, 1))
    values: dict[str, object] = {"status": status, "lead_department": "住房和城乡建设局"}
    if status is Status.RATED:
        values["rating"] = Rating.DISSATISFIED
    if status is Status.LINKED:
        values["linked_to"] = KIT["linked_to"]
    if status is Status.REVIEWING:
        values["reply_draft"] = ReplyDraft("已处理", NOW, "handler", "住房和城乡建设局")
    return dataclasses.replace(ticket, **(values | changes))


def test_the_table_covers_every_state() -> None:
    assert set(EXPECTED) == set(Status)


@pytest.mark.parametrize(
    ("status", "action"), [(s, a) for s in Status for a in Action], ids=lambda v: v.value
)
def test_every_action_in_every_state(status: Status, action: Action) -> None:
    ticket = make(status)
    people = set(EXPECTED[status]) - SYSTEM_ACTIONS
    assert set(allowed_actions(ticket)) == people
    assert set(allowed_actions(ticket, with_system=True)) == set(EXPECTED[status])
    if action in EXPECTED[status]:
        after = transition(ticket, action, "agent-007", NOW, policy=POLICY, **KIT)
        assert after.status is (EXPECTED[status][action] or status)
        entry = after.audit[-1]
        assert (entry.action, entry.actor, entry.at) == (action.value, "agent-007", NOW)
        assert (entry.from_status, entry.to_status) == (status, after.status)
        assert len(after.audit) == len(ticket.audit) + 1
        assert ticket.status is status  # the original is untouched
    else:
        with pytest.raises(TransitionError) as refused:
            transition(ticket, action, "agent-007", NOW, policy=POLICY, **KIT)
        assert set(refused.value.allowed) == people
        message = str(refused.value)
        assert action.value in message and "allowed now:" in message
        for allowed in people:
            assert allowed.value in message


@pytest.mark.parametrize("status", [Status.SIGNED, Status.HANDLING])
def test_a_pending_extension_is_decided_not_asked_again(status: Status) -> None:
    pending = ExtensionRequest(NOW, "住房和城乡建设局", 5, "需要现场勘查")
    ticket = make(status, extension=pending)
    allowed = set(allowed_actions(ticket))
    assert {Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION} <= allowed
    assert Action.REQUEST_EXTENSION not in allowed
    with pytest.raises(TransitionError, match="already waiting"):
        transition(ticket, Action.REQUEST_EXTENSION, "dept", NOW, reason="x", working_days=2)


@pytest.mark.parametrize("status", [Status.SIGNED, Status.HANDLING])
def test_no_extension_to_decide(status: Status) -> None:
    for action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION):
        with pytest.raises(TransitionError, match="no extension request"):
            transition(make(status), action, "hotline", NOW, reason="x")


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DRAFT, Action.DISCARD),
        (Status.LINKED, Action.UNLINK),
        (Status.DISPATCHED, Action.RETURN),
        (Status.SIGNED, Action.RETURN),
        (Status.RETURNED, Action.APPROVE_RETURN),
        (Status.RETURNED, Action.REJECT_RETURN),
        (Status.HANDLING, Action.REQUEST_EXTENSION),
        (Status.REPLIED, Action.REJECT_REPLY),
        (Status.RATED, Action.REOPEN),
    ],
)
def test_reasons_are_required(status: Status, action: Action) -> None:
    kit = KIT | {"reason": "   "}
    with pytest.raises(TransitionError, match=f"cannot {action.value}: needs a reason"):
        transition(make(status), action, "someone", NOW, **kit)


def test_the_happy_path_keeps_a_full_audit_trail() -> None:
    ticket = make(Status.DRAFT, request_type=RequestType.COMPLAINT)
    steps: list[tuple[Action, dict[str, object]]] = [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "生态环境局", "co_departments": ("公安局",)}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.URGE, {"note": "市民再次来电"}),
        (Action.SIGN, {"by_department": "公安局"}),
        (Action.REPORT, {"by_department": "公安局", "note": "已出警劝止夜间施工"}),
        (Action.REPLY, {"note": "已责令停止夜间施工"}),
        (Action.APPROVE_REPLY, {}),
        (Action.CLOSE, {}),
        (Action.CALLBACK, {"note": "市民确认"}),
        (Action.RATE, {"rating": Rating.SATISFIED}),
    ]
    for number, (action, options) in enumerate(steps):
        ticket = transition(
            ticket, action, "agent-1", NOW + timedelta(hours=number), policy=POLICY, **options
        )
    assert ticket.status is Status.RATED and ticket.rating is Rating.SATISFIED
    assert ticket.owner == "agent-1"
    assert ticket.lead_department == "生态环境局" and ticket.co_departments == ("公安局",)
    assert ticket.reply == "已责令停止夜间施工"
    assert ticket.closed_at == NOW + timedelta(hours=9)
    co = ticket.assignment_of("公安局")
    assert co is not None and co.report == "已出警劝止夜间施工" and co.signed_at is not None
    assert [e.action for e in ticket.audit] == ["create"] + [a.value for a, _ in steps]
    assert ticket.audit[5].details == {"note": "市民再次来电"}
    # 投诉: 15 working days from Friday 27 November 2026
    assert ticket.due_date == date(2026, 12, 18)
    assert allowed_actions(ticket) == ()


def test_the_owner_is_who_accepted_first() -> None:
    ticket = transition(make(), Action.ACCEPT, "agent-1", NOW)
    ticket = transition(ticket, Action.LINK, "agent-2", NOW, linked_to=KIT["linked_to"])
    ticket = transition(ticket, Action.UNLINK, "agent-2", NOW, reason="不是同一件事")
    ticket = transition(ticket, Action.ACCEPT, "agent-2", NOW)
    assert ticket.owner == "agent-1" and ticket.linked_to == ""


def test_return_and_redispatch_to_another_department() -> None:
    ticket = make(Status.SIGNED, request_type=RequestType.HELP)
    with pytest.raises(TransitionError, match="department it should go to"):
        transition(ticket, Action.RETURN, "住建局", NOW, reason="非本单位职责")
    returned = transition(
        ticket, Action.RETURN, "住建局", NOW, reason="非本单位职责", department="城管局"
    )
    assert returned.audit[-1].details == {"department": "住房和城乡建设局", "suggested": "城管局"}
    assert returned.return_request is not None
    assert returned.return_request.previous_status is Status.SIGNED
    with pytest.raises(TransitionError, match="another department"):
        transition(
            returned,
            Action.APPROVE_RETURN,
            "hotline",
            NOW,
            reason="x",
            department="住房和城乡建设局",
        )
    later = NOW + timedelta(days=3)
    redispatched = transition(
        returned, Action.APPROVE_RETURN, "hotline", later, reason="属城管职责"
    )
    assert redispatched.status is Status.DISPATCHED
    assert redispatched.lead_department == "城管局"  # the one the department suggested
    assert redispatched.return_request is None
    assert redispatched.audit[-1].details["previous_department"] == "住房和城乡建设局"
    assert redispatched.due_date == POLICY.due_date(RequestType.HELP, later)  # a new deadline
    elsewhere = transition(
        returned, Action.APPROVE_RETURN, "hotline", later, reason="属水务", department="水务局"
    )
    assert elsewhere.lead_department == "水务局"
    kept = transition(returned, Action.REJECT_RETURN, "hotline", later, reason="属贵单位职责")
    assert kept.lead_department == "住房和城乡建设局" and kept.due_date == ticket.due_date
    assert kept.status is Status.SIGNED  # back where it was
    assert kept.return_request is None


def test_extension_moves_the_due_date() -> None:
    ticket = make(Status.HANDLING, due_date=date(2026, 12, 4))  # a Friday
    with pytest.raises(TransitionError, match="working days"):
        transition(ticket, Action.REQUEST_EXTENSION, "dept", NOW, reason="需要勘查")
    asked = transition(
        ticket, Action.REQUEST_EXTENSION, "dept", NOW, reason="需要勘查", working_days=5
    )
    assert asked.extension is not None and asked.due_date == date(2026, 12, 4)
    granted = transition(asked, Action.APPROVE_EXTENSION, "hotline", NOW, policy=POLICY)
    assert granted.extension is None and granted.due_date == date(2026, 12, 11)
    assert granted.audit[-1].details == {"working_days": "5", "due_date": "2026-12-04 → 2026-12-11"}
    partly = transition(asked, Action.APPROVE_EXTENSION, "hotline", NOW, working_days=2)
    assert partly.due_date == date(2026, 12, 8)
    refused = transition(asked, Action.REFUSE_EXTENSION, "hotline", NOW, reason="时限内可办")
    assert refused.extension is None and refused.due_date == date(2026, 12, 4)


def test_supervision_is_recorded_without_changing_state() -> None:
    ticket = make(Status.HANDLING)
    after = transition(ticket, "督办", "值班长", NOW, note="请加快办理")
    assert after.status is Status.HANDLING and after.audit[-1].action == "supervise"
    assert after.audit[-1].details == {"note": "请加快办理"}


def test_close_at_once_only_for_consultations() -> None:
    ticket = make(Status.ACCEPTED)
    with pytest.raises(TransitionError, match="answer given"):
        transition(ticket, Action.CLOSE_AT_ONCE, "agent", NOW)
    closed = transition(ticket, Action.CLOSE_AT_ONCE, "agent", NOW, note="告知办理地点")
    assert closed.status is Status.CLOSED and closed.closed_at == NOW
    complaint = make(Status.ACCEPTED, request_type=RequestType.COMPLAINT)
    with pytest.raises(TransitionError, match="dispatch it") as refused:
        transition(complaint, Action.CLOSE_AT_ONCE, "agent", NOW, note="x")
    assert Action.CLOSE_AT_ONCE not in refused.value.allowed


def test_reopen_only_after_a_bad_rating() -> None:
    for rating in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED):
        ticket = make(Status.RATED, rating=rating)
        assert allowed_actions(ticket) == ()
        with pytest.raises(TransitionError, match="差评"):
            transition(ticket, Action.REOPEN, "hotline", NOW, reason="x")
    bad = make(Status.RATED, reply="已处理", closed_at=NOW)
    later = NOW + timedelta(days=20)
    again = transition(bad, "重办", "hotline", later, reason="问题未解决", policy=POLICY)
    assert again.status is Status.HANDLING
    assert again.rating is None and again.reply == "" and again.closed_at is None
    assert again.due_date == POLICY.due_date(RequestType.CONSULTATION, later)


def test_rating_must_be_one_of_five() -> None:
    ticket = make(Status.CALLED_BACK)
    for bad in (None, "很好"):
        with pytest.raises(TransitionError, match="非常满意, 满意, 基本满意, 不满意, 非常不满意"):
            transition(ticket, Action.RATE, "callback", NOW, rating=bad)
    assert transition(ticket, Action.RATE, "callback", NOW, rating="基本满意").rating is (
        Rating.BASICALLY_SATISFIED
    )


def test_dispatch_needs_a_department_and_sets_the_deadline() -> None:
    ticket = make(Status.ACCEPTED, request_type=RequestType.REPORT)
    with pytest.raises(TransitionError, match="needs a lead department"):
        transition(ticket, Action.DISPATCH, "agent", NOW)
    sent = transition(ticket, Action.DISPATCH, "agent", NOW, department="市场监督管理局")
    assert sent.due_date == date(2026, 12, 18)


def test_link_needs_an_earlier_ticket() -> None:
    with pytest.raises(TransitionError, match="earlier ticket"):
        transition(make(), Action.LINK, "system", NOW)
    with pytest.raises(TransitionError, match="earlier ticket"):
        transition(make(), Action.LINK, "system", NOW, linked_to="GD12345-20261127-000001")


def test_an_actor_is_required() -> None:
    with pytest.raises(TransitionError, match="needs an actor"):
        transition(make(), Action.ACCEPT, " ", NOW)


def test_unknown_actions_name_the_choices() -> None:
    with pytest.raises(TransitionError, match="no action 'fly'.*accept"):
        transition(make(), "fly", "agent", NOW)
    assert parse_action("改派") is Action.APPROVE_RETURN
    assert parse_action("approve-return") is Action.APPROVE_RETURN
    assert parse_action(" CLOSE ") is Action.CLOSE
    with pytest.raises(ValueError, match="actions are"):
        parse_action("")


def test_overdue_only_while_waiting() -> None:
    ticket = make(Status.HANDLING, due_date=date(2026, 12, 1))
    assert not ticket.is_overdue(date(2026, 12, 1))
    assert ticket.is_overdue(date(2026, 12, 2))
    assert not make(Status.REPLIED, due_date=date(2026, 12, 1)).is_overdue(date(2026, 12, 2))


def test_numbers_round_trip() -> None:
    number = format_number("GD12345", date(2026, 11, 28), 123)
    assert number == "GD12345-20261128-000123"
    assert parse_number(number) == ("GD12345", date(2026, 11, 28), 123)
    assert parse_number("SZ12345-20260101-1234567")[2] == 1234567
    for bad in ("GD12345-20261328-000001", "gd-20261128-000001", "GD12345-2026-1", ""):
        with pytest.raises(ValueError):
            parse_number(bad)
    with pytest.raises(ValueError):
        format_number("GD12345", date(2026, 11, 28), 0)
