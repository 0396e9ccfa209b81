"""verification.schedule: who is called back about a closed ticket, by when, and
what each attempt's end makes of the task; with the records it works on
(tickets.verification_tasks).  Pure functions: the clock and the draw are given."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sip_config import ConfigError, load_settings
from tickets.deadlines import DeadlinePolicy, WorkCalendar
from tickets.lifecycle import Action, transition
from tickets.model import MergedCaller, RequestType, Ticket, TicketDraft
from tickets.verification_tasks import (
    Attempt,
    AttemptOutcome,
    TaskKind,
    TaskReason,
    TaskState,
    VerificationTask,
)
from verification.calling_hours import CallingHours
from verification.schedule import (
    VerificationPolicy,
    after_attempt,
    cancel_round,
    citizens,
    is_due,
    load_do_not_call,
    on_site_due,
    plan_round,
    start_attempt,
)

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar.china_2026()
DEADLINES = DeadlinePolicy(calendar=CALENDAR)
POLICY = VerificationPolicy(hours=CallingHours(calendar=CALENDAR))
CALLER = "13800138000"


def at(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), TZ)


MONDAY_10 = at("2026-12-07", "10:00")


def closed(
    when: datetime = MONDAY_10,
    caller: str = CALLER,
    merged: tuple[str, ...] = (),
    declined: bool = False,
) -> Ticket:
    """A complaint dispatched to the ecology bureau, answered and closed at ``when``."""
    start = when - timedelta(days=3)
    draft = TicketDraft(
        caller_number=caller,
        request_type=RequestType.COMPLAINT,
        content="小区楼下工地晚上施工，噪音很大",
        declined_callback=declined,
    )
    ticket = Ticket.from_draft(draft, "GD12345-20261204-000001", start, date(2026, 12, 25))
    for action, options in [
        (Action.ACCEPT, {}),
        (Action.DISPATCH, {"department": "city.ecology"}),
        (Action.SIGN, {}),
        (Action.START, {}),
        (Action.REPLY, {"note": "已责令工地停止夜间施工"}),
        (Action.APPROVE_REPLY, {}),
    ]:
        ticket = transition(ticket, action, "someone", start, policy=DEADLINES, **options)
    repeats = tuple(
        MergedCaller(number, f"GD12345-20261205-{i:06d}", start)
        for i, number in enumerate(merged, start=2)
    )
    ticket = dataclasses.replace(ticket, merged_callers=repeats)
    return transition(ticket, Action.CLOSE, "centre", when, policy=DEADLINES)


def closed_at_once(when: datetime = MONDAY_10) -> Ticket:
    """A question answered during the call (即时办结)."""
    draft = TicketDraft(caller_number=CALLER, request_type=RequestType.CONSULTATION)
    ticket = Ticket.from_draft(draft, "GD12345-20261207-000009", when, date(2026, 12, 9))
    ticket = transition(ticket, Action.ACCEPT, "agent-1", when, policy=DEADLINES)
    return transition(
        ticket,
        Action.CLOSE_AT_ONCE,
        "agent-1",
        when,
        note="社保卡在街道服务中心补办",
        policy=DEADLINES,
    )


def scheduled(policy: VerificationPolicy = POLICY, when: datetime = MONDAY_10) -> VerificationTask:
    (task,) = plan_round(closed(when), policy, when, draw=0.99)
    return dataclasses.replace(task, id=7)


def failed(
    task: VerificationTask,
    outcome: AttemptOutcome,
    now: datetime,
    policy: VerificationPolicy = POLICY,
    by: str = "system",
    needs_person: TaskReason | None = None,
) -> VerificationTask:
    return after_attempt(task, Attempt(now, outcome, "c-1", by=by), policy, now, needs_person)


# -- the records -------------------------------------------------------------------------


def test_which_outcomes_reached_the_citizen_and_which_are_worth_another_try() -> None:
    reached = {o for o in AttemptOutcome if o.reached}
    retry = {o for o in AttemptOutcome if o.worth_retrying}
    A = AttemptOutcome
    assert reached == {A.COMPLETED, A.INCOMPLETE, A.DECLINED, A.TO_AGENT}
    assert retry == {
        A.INCOMPLETE,
        A.NO_ANSWER,
        A.BUSY,
        A.REJECTED,
        A.UNREACHABLE,
        A.ANSWERING_MACHINE,
        A.LOST,
    }
    # never tried again: answered, refused, the wrong number, with an agent now
    assert set(A) - retry == {A.COMPLETED, A.DECLINED, A.WRONG_PERSON, A.TO_AGENT}


def test_every_state_outcome_reason_and_kind_has_its_chinese_label() -> None:
    for kind in (TaskKind, TaskState, AttemptOutcome, TaskReason):
        labels = [member.label for member in kind]
        assert all(labels) and len(set(labels)) == len(labels), kind
    assert TaskState.NEEDS_PERSON.label == "待人工回访"
    assert TaskReason.NOT_SAMPLED.label == "未抽中"
    assert {s for s in TaskState if s.finished} == {
        TaskState.DONE,
        TaskState.SKIPPED,
        TaskState.CANCELLED,
    }


def test_only_the_nodes_own_attempts_count_as_tries() -> None:
    task = dataclasses.replace(
        scheduled(),
        attempts=(
            Attempt(MONDAY_10, AttemptOutcome.NO_ANSWER),
            Attempt(MONDAY_10, AttemptOutcome.BUSY, by="verifier-li"),
            Attempt(MONDAY_10, AttemptOutcome.UNREACHABLE),
        ),
    )
    assert task.tries == 2 and not task.reached
    answered = dataclasses.replace(
        task, attempts=(*task.attempts, Attempt(MONDAY_10, AttemptOutcome.INCOMPLETE))
    )
    assert answered.reached and answered.tries == 3


# -- the policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"attempts": 0}, "verification.attempts must be at least 1, not 0"),
        ({"within_working_days": 0}, "verification.within_working_days must be at least 1"),
        ({"sample_close_at_once": 1.5}, "verification.sample_close_at_once is a share"),
        ({"on_site_sample": -0.1}, "verification.on_site_sample is a share"),
    ],
)
def test_a_policy_that_cannot_work_is_refused(options: dict[str, float], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        VerificationPolicy(**options)  # type: ignore[arg-type]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* variable of the machine running the tests may leak in."""
    for name in list(os.environ):
        if name.upper().startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def test_the_policy_comes_from_the_verification_and_tickets_sections(
    tmp_path: Path, clean_environment: None
) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(
        "[tickets]\n"
        'timezone = "Asia/Urumqi"\n'
        "holidays = [2026-12-08]\n"
        "[verification]\n"
        'calling_hours = ["14:00-18:00", "9:00-11:30"]\n'
        "weekends = false\n"
        "within_working_days = 3\n"
        "attempts = 5\n"
        "retry_after_min = 30\n"
        "sample_close_at_once = 0.5\n"
        "close_at_once = true\n"
        "on_site_sample = 0.1\n",
        encoding="utf-8",
    )
    policy = VerificationPolicy.from_settings(load_settings(path))
    hours = policy.hours
    assert hours.windows == ((time(9), time(11, 30)), (time(14), time(18)))
    assert hours.timezone == "Asia/Urumqi" and not hours.weekends
    assert not hours.is_calling_day(date(2026, 12, 8))  # the operator's own holiday
    assert not hours.is_calling_day(date(2026, 10, 1))  # the shipped calendar's
    assert hours.is_calling_day(date(2026, 10, 10))  # its make-up Saturday
    assert not hours.is_calling_day(date(2026, 12, 12))  # weekends off
    assert (policy.within_working_days, policy.attempts, policy.retry_after_min) == (3, 5, 30.0)
    assert (policy.sample_close_at_once, policy.close_at_once) == (0.5, True)
    assert policy.on_site_sample == 0.1


def test_without_the_builtin_calendar_only_the_operators_days_are_off(
    clean_environment: None,
) -> None:
    settings = load_settings(
        overrides={"tickets.builtin_calendar": False, "tickets.holidays": ["2026-12-08"]}
    )
    hours = VerificationPolicy.from_settings(settings).hours
    assert hours.is_calling_day(date(2026, 10, 1)) and not hours.is_calling_day(date(2026, 12, 8))
    assert hours.windows == ((time(9), time(12)), (time(14), time(20, 30)))


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        (["09:00-12:00", "11:00-13:00"], "calling windows overlap at 11:00"),
        ([], "no calling window"),
        (["9-12"], "is not a window; write HH:MM-HH:MM"),
        (["12:00-09:00"], "ends before it starts"),
    ],
)
def test_bad_calling_hours_in_the_settings_name_the_key(
    hours: list[str], why: str, clean_environment: None
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides={"verification.calling_hours": hours})
    (problem,) = caught.value.problems
    assert "verification.calling_hours" in problem and why in problem


# -- the do-not-call list --------------------------------------------------------------


def test_the_do_not_call_list_skips_comments_spaces_and_dashes(tmp_path: Path) -> None:
    path = tmp_path / "do_not_call.txt"
    path.write_text(
        "# 投诉过回访电话的市民\n"
        "\n"
        "138-0013-8000\n"
        "  139 0013 9000   # 2026-11 要求不再来电\n"
        "+8613700137000\n",
        encoding="utf-8",
    )
    assert load_do_not_call(path) == {"13800138000", "13900139000", "+8613700137000"}
    assert load_do_not_call(None) == frozenset()


def test_a_list_saved_with_a_byte_order_mark_or_full_width_digits_is_read(tmp_path: Path) -> None:
    path = tmp_path / "do_not_call.txt"
    path.write_text("13800138000\n１３９－００１３－９０００ ＃ 全角输入\n", encoding="utf-8-sig")
    assert load_do_not_call(path) == {"13800138000", "13900139000"}


def test_a_line_that_is_no_number_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "do_not_call.txt"
    path.write_text("# list\n13800138000\n张先生\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"verification.do_not_call: .*do_not_call.txt:3: '张先生'"
    ):
        load_do_not_call(path)


def test_a_list_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ValueError, match=f"verification.do_not_call: cannot read {missing}"):
        load_do_not_call(missing)


# -- who is called ------------------------------------------------------------------------


def test_citizens_are_the_caller_then_each_merged_caller_once() -> None:
    ticket = closed(
        caller="138 0013-8000",
        merged=("13700137000", "13800138000", "137-0013-7000", "13600136000", "anonymous"),
    )
    assert citizens(ticket) == [
        ("138 0013-8000", "13800138000"),
        ("13700137000", "13700137000"),
        ("13600136000", "13600136000"),
        ("anonymous", ""),
    ]


def test_a_closed_ticket_gets_one_task_at_the_next_window_due_in_two_working_days() -> None:
    (task,) = plan_round(closed(), POLICY, MONDAY_10, draw=0.99)
    assert task == VerificationTask(
        ticket="GD12345-20261204-000001",
        number=CALLER,
        kind=TaskKind.CALL,
        state=TaskState.SCHEDULED,
        created_at=MONDAY_10,
        due_by=at("2026-12-09", "20:30"),  # Wednesday, the end of its last window
        next_at=MONDAY_10,  # inside the morning window: at once
        round=1,
        reason=None,
        sampled=False,
        department="city.ecology",
        updated_at=MONDAY_10,
    )


def test_the_caller_and_every_merged_caller_are_called_each_once() -> None:
    ticket = closed(merged=("13700137000", "138-0013-8000", "137 0013 7000"))
    tasks = plan_round(ticket, POLICY, MONDAY_10, draw=0.99, round_=2)
    assert [(t.number, t.state, t.round) for t in tasks] == [
        (CALLER, TaskState.SCHEDULED, 2),
        ("13700137000", TaskState.SCHEDULED, 2),
    ]
    assert {(t.next_at, t.due_by) for t in tasks} == {(MONDAY_10, at("2026-12-09", "20:30"))}


@pytest.mark.parametrize(
    ("closed_at", "first", "due"),
    [
        (at("2026-12-07", "21:00"), at("2026-12-08", "09:00"), at("2026-12-09", "20:30")),
        (at("2026-12-07", "12:30"), at("2026-12-07", "14:00"), at("2026-12-09", "20:30")),
        # a Saturday is a calling day, but the working days count from Monday
        (at("2026-12-12", "10:00"), at("2026-12-12", "10:00"), at("2026-12-15", "20:30")),
        # National Day week is neither called on nor counted
        (at("2026-09-30", "21:00"), at("2026-10-08", "09:00"), at("2026-10-09", "20:30")),
        (at("2026-10-03", "10:00"), at("2026-10-08", "09:00"), at("2026-10-09", "20:30")),
        # the make-up Saturday after it is a working day
        (at("2026-10-08", "15:00"), at("2026-10-08", "15:00"), at("2026-10-10", "20:30")),
        # 17:00 UTC is 01:00 the next day in Guangzhou: that day counts
        (
            datetime(2026, 12, 7, 17, 0, tzinfo=UTC),
            at("2026-12-08", "09:00"),
            at("2026-12-10", "20:30"),
        ),
    ],
)
def test_first_try_and_due_date_follow_the_calendar(
    closed_at: datetime, first: datetime, due: datetime
) -> None:
    (task,) = plan_round(closed(closed_at), POLICY, closed_at, draw=0.99)
    assert (task.next_at, task.due_by) == (first, due)


def test_without_weekends_a_saturdays_close_is_first_called_on_monday() -> None:
    policy = VerificationPolicy(
        hours=CallingHours(calendar=CALENDAR, weekends=False), within_working_days=1
    )
    saturday = at("2026-12-12", "10:00")
    (task,) = plan_round(closed(saturday), policy, saturday, draw=0.99)
    assert (task.next_at, task.due_by) == (at("2026-12-14", "09:00"), at("2026-12-14", "20:30"))


def test_the_due_time_is_the_end_of_the_last_configured_window() -> None:
    mornings = VerificationPolicy(
        hours=CallingHours(((time(9), time(11, 30)),), CALENDAR), within_working_days=3
    )
    (task,) = plan_round(closed(), mornings, MONDAY_10, draw=0.99)
    assert task.due_by == at("2026-12-10", "11:30")


def test_an_anonymous_caller_gets_a_skipped_task_and_the_merged_caller_is_called() -> None:
    ticket = closed(caller="anonymous", merged=("13700137000",))
    anonymous, merged = plan_round(ticket, POLICY, MONDAY_10, draw=0.99)
    assert (anonymous.number, anonymous.state, anonymous.reason) == (
        "anonymous",
        TaskState.SKIPPED,
        TaskReason.ANONYMOUS,
    )
    assert anonymous.next_at is None
    assert (merged.number, merged.state, merged.reason) == (
        "13700137000",
        TaskState.SCHEDULED,
        None,
    )


def test_no_number_at_all_is_still_one_skipped_task() -> None:
    (task,) = plan_round(closed(caller=""), POLICY, MONDAY_10, draw=0.99)
    assert (task.number, task.state, task.reason) == ("", TaskState.SKIPPED, TaskReason.ANONYMOUS)


def test_a_caller_who_declined_callbacks_is_skipped_but_not_the_merged_callers() -> None:
    ticket = closed(merged=("13700137000",), declined=True)
    caller, merged = plan_round(ticket, POLICY, MONDAY_10, draw=0.99)
    assert (caller.state, caller.reason, caller.next_at) == (
        TaskState.SKIPPED,
        TaskReason.DECLINED_CALLBACKS,
        None,
    )
    assert (merged.state, merged.reason) == (TaskState.SCHEDULED, None)


def test_numbers_on_the_do_not_call_list_are_skipped_in_any_spelling(tmp_path: Path) -> None:
    path = tmp_path / "do_not_call.txt"
    path.write_text("137-0013-7000\n", encoding="utf-8")
    ticket = closed(caller="138 0013 8000", merged=("137 0013 7000",))
    caller, merged = plan_round(
        ticket, POLICY, MONDAY_10, draw=0.99, do_not_call=load_do_not_call(path)
    )
    assert (caller.number, caller.state, caller.reason) == (CALLER, TaskState.SCHEDULED, None)
    assert (merged.number, merged.state, merged.reason) == (
        "13700137000",
        TaskState.SKIPPED,
        TaskReason.DO_NOT_CALL,
    )


# -- 即时办结: sampled ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draw", "verified"), [(0.0, True), (0.19, True), (0.2, False), (0.99, False)]
)
def test_a_ticket_closed_at_once_is_called_only_when_sampled(draw: float, verified: bool) -> None:
    (task,) = plan_round(closed_at_once(), POLICY, MONDAY_10, draw=draw)  # a 20% sample
    if verified:
        assert (task.state, task.reason, task.sampled) == (TaskState.SCHEDULED, None, True)
        assert task.next_at == MONDAY_10
    else:
        # left out: a skipped task records the draw, so the ticket is not drawn again
        assert (task.state, task.reason, task.sampled) == (
            TaskState.SKIPPED,
            TaskReason.NOT_SAMPLED,
            False,
        )
        assert task.next_at is None and task.kind is TaskKind.CALL


def test_every_ticket_closed_at_once_is_called_when_the_policy_says_so() -> None:
    every = VerificationPolicy(hours=POLICY.hours, close_at_once=True, sample_close_at_once=0.0)
    (task,) = plan_round(closed_at_once(), every, MONDAY_10, draw=0.99)
    assert task.state is TaskState.SCHEDULED and task.reason is None


def test_a_dispatched_ticket_is_called_whatever_the_draw() -> None:
    never = VerificationPolicy(hours=POLICY.hours, sample_close_at_once=0.0)
    (task,) = plan_round(closed(), never, MONDAY_10, draw=0.99)
    assert task.state is TaskState.SCHEDULED and not task.sampled


# -- 现场核查 --------------------------------------------------------------------------------


def test_every_disputed_result_is_checked_on_the_spot() -> None:
    task = on_site_due(closed(), POLICY, MONDAY_10, draw=0.99, disputed=True)
    assert task is not None
    assert (task.kind, task.state, task.reason, task.sampled) == (
        TaskKind.ON_SITE,
        TaskState.NEEDS_PERSON,
        TaskReason.DISPUTED,
        False,
    )
    assert (task.number, task.department) == (CALLER, "city.ecology")
    assert task.due_by == at("2026-12-09", "20:30") and task.next_at is None


@pytest.mark.parametrize(("draw", "checked"), [(0.0, True), (0.09, True), (0.1, False)])
def test_a_sample_of_the_other_closed_tickets_is_checked(draw: float, checked: bool) -> None:
    policy = VerificationPolicy(hours=POLICY.hours, on_site_sample=0.1)
    task = on_site_due(closed(), policy, MONDAY_10, draw=draw, disputed=False)
    if checked:
        assert task is not None and (task.reason, task.sampled) == (TaskReason.SAMPLED, True)
    else:
        assert task is None
    assert on_site_due(closed(), POLICY, MONDAY_10, draw=0.0, disputed=False) is None  # 0%


# -- when a task is due ---------------------------------------------------------------------


def test_a_scheduled_call_is_due_once_its_time_has_come_inside_calling_hours() -> None:
    task = dataclasses.replace(scheduled(), next_at=at("2026-12-07", "10:30"))
    hours = POLICY.hours
    assert not is_due(task, at("2026-12-07", "10:29"), hours)
    assert is_due(task, at("2026-12-07", "10:30"), hours)
    assert not is_due(task, at("2026-12-07", "12:30"), hours)  # lunch
    assert is_due(task, at("2026-12-07", "14:00"), hours)
    assert not is_due(task, at("2026-12-07", "21:00"), hours)  # the evening's end
    long_waiting = dataclasses.replace(task, next_at=at("2026-09-30", "10:30"))
    assert not is_due(long_waiting, at("2026-10-02", "10:30"), hours)  # National Day
    assert not is_due(dataclasses.replace(task, next_at=None), at("2026-12-07", "11:00"), hours)
    for state in (TaskState.CALLING, TaskState.NEEDS_PERSON, TaskState.DONE, TaskState.SKIPPED):
        assert not is_due(dataclasses.replace(task, state=state), at("2026-12-07", "11:00"), hours)
    on_site = dataclasses.replace(task, kind=TaskKind.ON_SITE)
    assert not is_due(on_site, at("2026-12-07", "11:00"), hours)


def test_a_forced_call_ignores_calling_hours_but_not_its_time() -> None:
    task = dataclasses.replace(scheduled(), next_at=at("2026-12-07", "22:00"), forced=True)
    hours = POLICY.hours
    assert is_due(task, at("2026-12-07", "22:00"), hours)
    assert not is_due(task, at("2026-12-07", "21:59"), hours)
    holiday = dataclasses.replace(task, next_at=at("2026-10-01", "22:00"))
    assert is_due(holiday, at("2026-10-01", "22:00"), hours)
    assert not is_due(dataclasses.replace(holiday, forced=False), at("2026-10-01", "22:00"), hours)


def test_an_attempt_starts_only_on_a_task_waiting_for_one() -> None:
    task = scheduled()
    calling = start_attempt(task, "call-1", at("2026-12-07", "10:01"))
    assert (calling.state, calling.call_id, calling.next_at) == (TaskState.CALLING, "call-1", None)
    assert calling.updated_at == at("2026-12-07", "10:01")
    with pytest.raises(ValueError, match="task 7 is 回访中, not waiting for a call"):
        start_attempt(calling, "call-2", at("2026-12-07", "10:02"))


# -- after an attempt ------------------------------------------------------------------------


def test_an_answered_survey_is_done() -> None:
    task = dataclasses.replace(start_attempt(scheduled(), "c-1", MONDAY_10), forced=True)
    done = failed(task, AttemptOutcome.COMPLETED, at("2026-12-07", "10:05"))
    assert (done.state, done.reason, done.next_at, done.forced) == (
        TaskState.DONE,
        None,
        None,
        False,
    )
    assert [a.outcome for a in done.attempts] == [AttemptOutcome.COMPLETED]
    assert done.updated_at == at("2026-12-07", "10:05")


@pytest.mark.parametrize(
    "reason", [TaskReason.BAD_RATING, TaskReason.UNCLEAR, TaskReason.COMPLAINT]
)
def test_an_answered_survey_that_needs_a_person_goes_to_one_with_the_reason(
    reason: TaskReason,
) -> None:
    moved = failed(scheduled(), AttemptOutcome.COMPLETED, MONDAY_10, needs_person=reason)
    assert (moved.state, moved.reason) == (TaskState.NEEDS_PERSON, reason)


@pytest.mark.parametrize(
    ("outcome", "state", "reason"),
    [
        (AttemptOutcome.DECLINED, TaskState.SKIPPED, TaskReason.DECLINED_CALLBACKS),
        (AttemptOutcome.WRONG_PERSON, TaskState.NEEDS_PERSON, TaskReason.WRONG_PERSON),
        (AttemptOutcome.TO_AGENT, TaskState.NEEDS_PERSON, TaskReason.TO_AGENT),
    ],
)
def test_a_refusal_a_wrong_number_or_an_agent_ends_the_calls(
    outcome: AttemptOutcome, state: TaskState, reason: TaskReason
) -> None:
    moved = failed(scheduled(), outcome, MONDAY_10)
    assert (moved.state, moved.reason, moved.next_at) == (state, reason, None)


@pytest.mark.parametrize("outcome", [o for o in AttemptOutcome if o.worth_retrying])
def test_a_failed_attempt_is_tried_again_later(outcome: AttemptOutcome) -> None:
    moved = failed(scheduled(), outcome, at("2026-12-07", "10:01"))
    assert (moved.state, moved.reason) == (TaskState.SCHEDULED, None)
    assert moved.next_at == at("2026-12-07", "11:01")  # retry_after_min = 60
    assert moved.tries == 1


@pytest.mark.parametrize(
    ("ended", "again"),
    [
        (at("2026-12-07", "11:30"), at("2026-12-07", "14:00")),  # not at lunch
        (at("2026-12-07", "20:00"), at("2026-12-08", "09:00")),  # not at night
        (at("2026-12-07", "19:29"), at("2026-12-07", "20:29")),
    ],
)
def test_the_next_try_is_inside_calling_hours(ended: datetime, again: datetime) -> None:
    assert failed(scheduled(), AttemptOutcome.NO_ANSWER, ended).next_at == again


def test_the_wait_between_tries_is_the_policys() -> None:
    quick = VerificationPolicy(hours=POLICY.hours, retry_after_min=15)
    moved = failed(scheduled(quick), AttemptOutcome.BUSY, at("2026-12-07", "10:01"), quick)
    assert moved.next_at == at("2026-12-07", "10:16")


def test_a_try_that_would_fall_past_the_due_time_goes_to_a_person() -> None:
    task = scheduled()  # due Wednesday 20:30
    last_evening = at("2026-12-09", "20:00")
    moved = failed(task, AttemptOutcome.NO_ANSWER, last_evening)
    assert (moved.state, moved.reason, moved.next_at) == (
        TaskState.NEEDS_PERSON,
        TaskReason.OVERDUE,
        None,
    )
    assert failed(task, AttemptOutcome.NO_ANSWER, at("2026-12-09", "19:00")).next_at == at(
        "2026-12-09", "20:00"
    )


def test_when_the_attempts_are_used_up_a_person_calls() -> None:
    task = scheduled()  # 3 attempts
    for minute in (1, 2):
        task = failed(task, AttemptOutcome.NO_ANSWER, at("2026-12-07", f"10:0{minute}"))
        assert task.state is TaskState.SCHEDULED
    task = failed(task, AttemptOutcome.BUSY, at("2026-12-07", "10:03"))
    assert (task.state, task.reason, task.tries) == (
        TaskState.NEEDS_PERSON,
        TaskReason.UNREACHED,
        3,
    )


def test_a_verifiers_own_calls_do_not_use_up_the_nodes_attempts() -> None:
    task = scheduled()
    task = failed(task, AttemptOutcome.NO_ANSWER, at("2026-12-07", "10:01"))
    task = failed(task, AttemptOutcome.NO_ANSWER, at("2026-12-07", "10:02"), by="verifier-li")
    task = failed(task, AttemptOutcome.NO_ANSWER, at("2026-12-07", "10:03"))
    assert (task.state, task.tries, len(task.attempts)) == (TaskState.SCHEDULED, 2, 3)


def test_one_attempt_allowed_means_no_retry() -> None:
    once = VerificationPolicy(hours=POLICY.hours, attempts=1)
    moved = failed(scheduled(once), AttemptOutcome.NO_ANSWER, MONDAY_10, once)
    assert (moved.state, moved.reason) == (TaskState.NEEDS_PERSON, TaskReason.UNREACHED)


def test_an_unfinished_answer_with_a_complaint_goes_to_a_person_not_a_retry() -> None:
    moved = failed(
        scheduled(), AttemptOutcome.INCOMPLETE, MONDAY_10, needs_person=TaskReason.COMPLAINT
    )
    assert (moved.state, moved.reason, moved.next_at) == (
        TaskState.NEEDS_PERSON,
        TaskReason.COMPLAINT,
        None,
    )


# -- a reopened ticket ------------------------------------------------------------------------


def test_reopening_cancels_the_rounds_open_tasks_only() -> None:
    now = at("2026-12-08", "09:30")
    task = scheduled()
    cancelled = cancel_round(task, now)
    assert (cancelled.state, cancelled.next_at, cancelled.updated_at) == (
        TaskState.CANCELLED,
        None,
        now,
    )
    person = dataclasses.replace(task, state=TaskState.NEEDS_PERSON, next_at=None)
    assert cancel_round(person, now).state is TaskState.CANCELLED
    for finished in (TaskState.DONE, TaskState.SKIPPED, TaskState.CANCELLED):
        kept = dataclasses.replace(task, state=finished)
        assert cancel_round(kept, now) is kept
