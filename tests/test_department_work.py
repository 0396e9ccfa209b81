"""Departments' work as pure logic: parts and their times, down-dispatch, the whistle,
co-handlers' reports, internal review, permissions, the sweep and the figures."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import DeadlinePolicy
from tickets.departments import default_directory
from tickets.figures import department_figures
from tickets.lifecycle import Action, TransitionError, allowed_actions, transition
from tickets.model import AssignmentRole, RequestType, Status, Ticket, TicketDraft
from tickets.permissions import Actor, actions_for, may_see, refusal
from tickets.sweep import SweepReport, sweep_ticket

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
POLICY = DeadlinePolicy()
CITY = default_directory()


def accepted(request_type: RequestType = RequestType.COMPLAINT, **changes: object) -> Ticket:
    draft = TicketDraft(
        caller_number="13800138000",
        request_type=request_type,
        address="天河区石牌街道华师小区",
        content="小区垃圾站恶臭，夏天蚊蝇很多",
    )
    ticket = Ticket.from_draft(draft, "GD12345-20261207-000001", MONDAY, date(2026, 12, 28))
    ticket = transition(ticket, Action.ACCEPT, "agent-1", MONDAY)
    return dataclasses.replace(ticket, **changes)


def act(ticket: Ticket, action: Action, by: str, at: datetime, **options: object) -> Ticket:
    return transition(
        ticket, action, by or "centre", at, by_department=by, policy=POLICY, rules=CITY, **options
    )


def test_working_hours_skip_the_evening_weekend_and_lunch() -> None:
    friday_5pm = datetime(2026, 12, 4, 17, 0, tzinfo=TZ)
    assert POLICY.after_working_hours(friday_5pm, 2) == datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
    morning = datetime(2026, 12, 7, 11, 0, tzinfo=TZ)
    assert POLICY.after_working_hours(morning, 2) == datetime(2026, 12, 7, 15, 0, tzinfo=TZ)
    # National Day week is not worked: half an hour on 30 September, half on 8 October
    eve = datetime(2026, 9, 30, 17, 0, tzinfo=TZ)
    assert POLICY.after_working_hours(eve, 1) == datetime(2026, 10, 8, 9, 0, tzinfo=TZ)
    round_the_clock = ((time(0), time.max),)
    assert POLICY.after_working_hours(friday_5pm, 2, round_the_clock) == friday_5pm + timedelta(
        hours=2
    )


def test_deadlines_by_category_and_urgency() -> None:
    policy = DeadlinePolicy(category_days={"CX": 5, "CX01": 3})
    assert policy.days_for(RequestType.COMPLAINT, "CX0101") == 3
    assert policy.days_for(RequestType.COMPLAINT, "CX02") == 5
    assert policy.days_for(RequestType.COMPLAINT, "HB01") == 15
    assert policy.due_date(RequestType.COMPLAINT, MONDAY, urgent=True) == MONDAY.date()
    assert policy.working_days_left(date(2026, 12, 9), MONDAY) == 2
    assert policy.working_days_left(date(2026, 12, 4), MONDAY) == -1


def test_dispatch_gives_each_part_a_time_to_sign() -> None:
    ticket = act(
        accepted(),
        Action.DISPATCH,
        "",
        MONDAY,
        department="street.tianhe.shipai",
        co_departments=("city.urban_management",),
    )
    lead, co = ticket.assignments
    assert (lead.department, lead.role) == ("street.tianhe.shipai", AssignmentRole.LEAD)
    assert (co.department, co.role) == ("city.urban_management", AssignmentRole.CO)
    assert lead.due_at == datetime(2026, 12, 7, 11, 0, tzinfo=TZ)  # two working hours
    assert ticket.due_date == date(2026, 12, 28)  # 投诉: 15 working days
    assert ticket.co_departments == ("city.urban_management",)


def test_a_district_sends_down_to_its_street_never_sideways() -> None:
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department="district.tianhe")
    ticket = act(ticket, Action.SIGN, "district.tianhe", MONDAY)
    with pytest.raises(TransitionError, match="not a sub-unit of district.tianhe"):
        act(ticket, Action.REDISPATCH, "district.tianhe", MONDAY, department="district.yuexiu")
    with pytest.raises(TransitionError, match="only the lead department"):
        act(ticket, Action.REDISPATCH, "street.tianhe.shipai", MONDAY, department="city.water")
    down = act(
        ticket, Action.REDISPATCH, "district.tianhe", MONDAY, department="street.tianhe.shipai"
    )
    assert down.status is Status.DISPATCHED and down.lead_department == "street.tianhe.shipai"
    assert down.due_date == ticket.due_date  # the citizen's deadline does not restart
    assert down.audit[-1].details["previous_department"] == "district.tianhe"
    # the district still sees its street's ticket, but only the street acts on it
    district = Actor("tianhe", "department_handler", "district.tianhe")
    assert may_see(district, down, CITY)
    refused = refusal(district, down, Action.SIGN, CITY)
    assert refused is not None and not refused.hidden and "sub-unit" in refused.reason


def test_the_whistle_calls_departments_in_and_the_reply_waits_for_their_parts() -> None:
    street = "street.tianhe.shipai"
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department=street)
    ticket = act(ticket, Action.SIGN, street, MONDAY)
    with pytest.raises(TransitionError, match="only the lead department"):
        act(ticket, Action.WHISTLE, "", MONDAY, co_departments=("city.ecology",))
    called = ("city.ecology", "city.urban_management")
    ticket = act(ticket, Action.WHISTLE, street, MONDAY, co_departments=called)
    parts = {a.department: a for a in ticket.assignments}
    assert parts["city.ecology"].role is AssignmentRole.WHISTLE
    assert parts["city.ecology"].due_at == datetime(2026, 12, 7, 15, 0, tzinfo=TZ)  # 4 hours
    assert set(ticket.reports_missing) == set(called)
    with pytest.raises(TransitionError, match="waiting for the parts of"):
        act(ticket, Action.REPLY, street, MONDAY, note="已处理")
    with pytest.raises(TransitionError, match="reports in"):
        act(ticket, Action.SIGN, "city.ecology", MONDAY)
    with pytest.raises(TransitionError, match="first"):
        act(ticket, Action.REPORT, "city.ecology", MONDAY, note="x")
    for department in called:
        ticket = act(ticket, Action.REPORT_IN, department, MONDAY + timedelta(hours=1))
        ticket = act(
            ticket, Action.REPORT, department, MONDAY + timedelta(hours=2), note="已到场处置"
        )
    assert ticket.reports_missing == ()
    assert ticket.status is Status.SIGNED  # the parts never move the ticket
    replied = act(ticket, Action.REPLY, street, MONDAY + timedelta(hours=3), note="已清运")
    assert replied.status is Status.REVIEWING


def test_internal_review_then_the_centre() -> None:
    eco = "city.ecology"
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department=eco)
    ticket = act(ticket, Action.SIGN, eco, MONDAY)
    ticket = act(ticket, Action.NOTE, eco, MONDAY, note="已约现场", attachments=("7",))
    assert ticket.audit[-1].details["attachments"] == "7"
    ticket = act(ticket, Action.REPLY, eco, MONDAY, note="已转交相关部门处理")
    assert ticket.reply == "" and ticket.reply_draft is not None
    back = act(ticket, Action.RETURN_REPLY, eco, MONDAY, reason="答复不具体")
    assert back.status is Status.HANDLING and back.reply_draft is None
    ticket = act(back, Action.REPLY, eco, MONDAY, note="12月8日现场清运完毕")
    ticket = act(ticket, Action.APPROVE_REPLY, eco, MONDAY)
    assert ticket.status is Status.REPLIED and ticket.reply == "12月8日现场清运完毕"
    redo = act(ticket, Action.REJECT_REPLY, "", MONDAY, reason="市民反映仍有异味")
    assert redo.status is Status.HANDLING and redo.audit[-1].details["redo"] == "1"


ROLE_CASES = [
    (Actor("eco-wang", "department_handler", "city.ecology"), Action.SIGN, None),
    (Actor("eco-wang", "department_handler", "city.ecology"), Action.APPROVE_REPLY, "may not"),
    (Actor("eco-li", "department_reviewer", "city.ecology"), Action.SIGN, "reviewer approves"),
    (Actor("water", "department_handler", "city.water"), Action.SIGN, "there is no ticket"),
    (Actor("qa", "qa"), Action.SIGN, "QA staff"),
    (Actor("agent-2", "agent", agent_id="1002"), Action.SIGN, "there is no ticket"),
    (Actor("agent-1", "agent", agent_id="agent-1"), Action.URGE, "for supervisors"),
    (Actor("boss", "supervisor"), Action.OVERDUE, "deadline sweep"),
    (Actor("boss", "supervisor"), Action.URGE, None),
]


@pytest.mark.parametrize(("actor", "action", "refused"), ROLE_CASES)
def test_permissions_by_role_and_department(
    actor: Actor, action: Action, refused: str | None
) -> None:
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department="city.ecology")
    found = refusal(actor, ticket, action, CITY)
    if refused is None:
        assert found is None
    else:
        assert found is not None and refused in found.reason
        assert found.hidden == ("no ticket" in refused)


def test_the_actions_offered_are_the_ones_allowed() -> None:
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department="city.ecology")
    handler = Actor("eco-wang", "department_handler", "city.ecology")
    reviewer = Actor("eco-li", "department_reviewer", "city.ecology")
    assert set(actions_for(handler, ticket, CITY)) == {Action.SIGN, Action.RETURN}
    assert actions_for(reviewer, ticket, CITY) == ()
    assert Action.SIGN not in actions_for(Actor("qa", "qa"), ticket, CITY)
    assert actions_for(Actor("w", "department_handler", "city.water"), ticket, CITY) == ()
    for action in actions_for(handler, ticket, CITY):
        assert action in allowed_actions(ticket, "city.ecology")


def test_the_sweep_marks_urges_supervises_and_escalates_once() -> None:
    eco = "city.ecology"
    ticket = act(accepted(), Action.DISPATCH, "", MONDAY, department=eco)
    report = SweepReport()
    late_to_sign = sweep_ticket(ticket, MONDAY + timedelta(hours=3), POLICY, report)
    assert report.urged == [(ticket.number, eco)]
    assert late_to_sign.audit[-1].details["department"] == eco
    assert sweep_ticket(late_to_sign, MONDAY + timedelta(hours=4), POLICY) is late_to_sign
    ticket = act(late_to_sign, Action.SIGN, eco, MONDAY + timedelta(hours=5))
    due = datetime.combine(ticket.due_date, time(9), TZ)
    soon = sweep_ticket(ticket, due - timedelta(days=1), POLICY, report)
    assert report.due_soon == [ticket.number] and soon.due_soon_at is not None
    assert sweep_ticket(soon, due, POLICY) is soon
    overdue = sweep_ticket(soon, due + timedelta(days=1), POLICY, report)
    assert [e.action for e in overdue.audit[-3:]] == ["overdue", "urge", "supervise"]
    assert overdue.supervised and overdue.overdue_at is not None
    assert sweep_ticket(overdue, due + timedelta(days=2), POLICY) is overdue
    escalated = sweep_ticket(overdue, due + timedelta(days=6), POLICY, report)  # 3 working days
    assert escalated.audit[-1].action == "escalate" and report.escalated == [ticket.number]
    assert sweep_ticket(escalated, due + timedelta(days=30), POLICY) is escalated
    extended = transition(
        act(escalated, Action.REQUEST_EXTENSION, eco, due, reason="需勘查", working_days=5),
        Action.APPROVE_EXTENSION,
        "boss",
        due,
        policy=POLICY,
    )
    assert extended.overdue_at is None and extended.escalated_at is None  # a new clock


def test_department_figures_from_the_trail() -> None:
    eco, water = "city.ecology", "city.water"
    start, end = MONDAY - timedelta(days=1), MONDAY + timedelta(days=60)
    on_time = act(accepted(), Action.DISPATCH, "", MONDAY, department=eco)
    on_time = act(on_time, Action.SIGN, eco, MONDAY + timedelta(hours=1))
    on_time = act(on_time, Action.REPLY, eco, MONDAY + timedelta(hours=5), note="已处理")
    on_time = act(on_time, Action.APPROVE_REPLY, eco, MONDAY + timedelta(hours=6))
    on_time = act(on_time, Action.REJECT_REPLY, "", MONDAY + timedelta(hours=7), reason="敷衍")
    returned = act(accepted(), Action.DISPATCH, "", MONDAY, department=water)
    returned = act(returned, Action.RETURN, water, MONDAY, reason="非本单位职责", department=eco)
    returned = act(returned, Action.APPROVE_RETURN, "", MONDAY, reason="同意")
    figures = {
        f.department: f for f in department_figures([on_time, returned], start, end, MONDAY, POLICY)
    }
    assert figures[eco].dispatched == 2 and figures[water].dispatched == 1
    assert figures[eco].signed_on_time_rate == 0.5  # one of its two signed in time
    assert figures[eco].closed_on_time_rate == 1.0 and figures[eco].redo_rate == 1.0
    assert figures[eco].average_handling_hours == 6.0
    assert figures[water].return_rate == 1.0 and figures[water].returns_upheld == 1
    assert department_figures([on_time], end, end + timedelta(days=1), MONDAY, POLICY) == []


def test_departments_are_named_by_their_directory_ids() -> None:
    # dispatched before the directory (by the taxonomy's name): its department still acts
    legacy = transition(accepted(), Action.DISPATCH, "agent-1", MONDAY, department="生态环境局")
    handler = Actor("eco-wang", "department_handler", "city.ecology")
    assert may_see(handler, legacy, CITY) and refusal(handler, legacy, Action.SIGN, CITY) is None
    signed = act(legacy, Action.SIGN, "city.ecology", MONDAY)
    assert signed.status is Status.SIGNED and signed.lead_department == "city.ecology"
    assert signed.assignments[0].signed_at == MONDAY
    named = act(accepted(), Action.DISPATCH, "", MONDAY, department="广州市水务局")
    assert named.lead_department == "city.water"
    with pytest.raises(TransitionError, match="no department '水利局'"):
        act(accepted(), Action.DISPATCH, "", MONDAY, department="水利局")


def test_a_co_handler_signing_first_leaves_the_ticket_with_the_lead() -> None:
    ticket = act(
        accepted(),
        Action.DISPATCH,
        "",
        MONDAY,
        department="city.ecology",
        co_departments=("city.urban_management",),
    )
    co_first = act(ticket, Action.SIGN, "city.urban_management", MONDAY)
    assert co_first.status is Status.DISPATCHED  # the lead has not signed
    assert co_first.assignment_of("city.urban_management").signed_at == MONDAY  # type: ignore[union-attr]
    assert co_first.lead is not None and co_first.lead.signed_at is None
    lead_signs = act(co_first, Action.SIGN, "city.ecology", MONDAY)
    assert lead_signs.status is Status.SIGNED
