"""analytics.kpi: the centre's figures worked out by hand — rates from their
counts (None without a denominator), the 90th percentile by nearest rank, periods
cut at the hotline's local midnight, ISO weeks and months across a year's end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.kpi import (
    Bucket,
    Bucketing,
    CallbackFacts,
    CallOutcome,
    DepartmentWork,
    QueuedCall,
    TicketFacts,
    buckets,
    kpi_report,
    p90,
)

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 12, 7)
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=ZONE)


def call(
    outcome: CallOutcome,
    waited: float,
    handling: float | None = None,
    group: str = "综合",
    at: datetime = NOON,
) -> QueuedCall:
    return QueuedCall(group, at, outcome, waited, handling)


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([3.0, 1.0, 2.0]) == 3.0  # ⌈2.7⌉ = 3rd
    assert p90([float(k) for k in range(1, 11)]) == 9.0  # ⌈9⌉ = 9th of 10
    assert p90([float(k) for k in range(20, 0, -1)]) == 18.0  # ⌈18⌉ = 18th of 20
    assert p90([float(k) for k in range(1, 12)]) == 10.0  # ⌈9.9⌉ = 10th of 11


def test_call_figures_by_hand_and_the_15_second_line_is_included() -> None:
    calls = [
        call(CallOutcome.ANSWERED, 3.0, 120.0),
        call(CallOutcome.ANSWERED, 10.0, 300.0),
        call(CallOutcome.ANSWERED, 15.0),  # exactly 15 s: within; its end not known
        call(CallOutcome.ANSWERED, 20.0, 60.0),
        call(CallOutcome.ABANDONED, 40.0),
        call(CallOutcome.CALLBACK, 60.0),
    ]
    total = kpi_report(MONDAY, MONDAY, ZONE, calls=calls).as_dict()["total"]
    assert {k: total[k] for k in ("offered", "answered", "answered_within", "abandoned")} == {
        "offered": 6,
        "answered": 4,
        "answered_within": 3,
        "abandoned": 1,
    }
    assert total["callbacks"] == 1 and total["messages"] == 0
    assert total["answer_rate"] == 0.6667  # 4 / 6
    assert total["service_level"] == 0.5  # 3 / 6: the callback and the abandoned count
    assert total["abandon_rate"] == 0.1667  # 1 / 6
    assert total["average_wait_s"] == 12.0  # (3 + 10 + 15 + 20) / 4, answered calls only
    assert total["p90_wait_s"] == 20.0  # ⌈3.6⌉ = 4th of 4
    assert total["average_handling_s"] == 160.0  # (120 + 300 + 60) / 3


def test_an_empty_period_has_its_days_with_no_rates_at_all() -> None:
    report = kpi_report(MONDAY, MONDAY + timedelta(days=2), ZONE).as_dict()
    assert [p["period"] for p in report["periods"]] == ["2026-12-07", "2026-12-08", "2026-12-09"]
    for row in [report["total"], *report["periods"]]:
        assert row["offered"] == row["tickets"] == row["dispatched"] == 0
        rates = [k for k in row if k.endswith("_rate") or k == "service_level"]
        assert len(rates) == 9 and all(row[k] is None for k in rates)
        assert row["average_wait_s"] is None and row["p90_wait_s"] is None
    assert report["seat_groups"] == report["departments"] == []
    assert report["categories"] == report["places"] == []


def test_days_are_cut_at_local_midnight_and_outside_facts_are_left_out() -> None:
    before_midnight = datetime(2026, 12, 7, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    midnight = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 00:00 on the 8th
    calls = [
        call(CallOutcome.ANSWERED, 1.0, at=before_midnight),
        call(CallOutcome.ABANDONED, 9.0, at=midnight),
        call(CallOutcome.ANSWERED, 1.0, at=datetime(2026, 12, 6, 15, 59, tzinfo=UTC)),  # the 6th
        call(CallOutcome.ANSWERED, 1.0, at=datetime(2026, 12, 8, 16, 0, tzinfo=UTC)),  # the 9th
    ]
    tickets = [TicketFacts("T1", midnight - timedelta(microseconds=1)), TicketFacts("T2", midnight)]
    report = kpi_report(MONDAY, MONDAY + timedelta(days=1), ZONE, calls=calls, tickets=tickets)
    seventh, eighth = report.as_dict()["periods"]
    assert (seventh["offered"], seventh["answered"], seventh["tickets"]) == (1, 1, 1)
    assert (eighth["offered"], eighth["abandoned"], eighth["tickets"]) == (1, 1, 1)
    assert report.as_dict()["total"]["offered"] == 2


def test_iso_weeks_and_months_across_the_year_end() -> None:
    assert buckets(date(2026, 11, 28), date(2026, 12, 15), Bucketing.WEEK) == [
        Bucket("2026-W48", date(2026, 11, 28), date(2026, 11, 29)),  # Saturday and Sunday
        Bucket("2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        Bucket("2026-W50", date(2026, 12, 7), date(2026, 12, 13)),
        Bucket("2026-W51", date(2026, 12, 14), date(2026, 12, 15)),
    ]
    assert buckets(date(2026, 12, 30), date(2027, 1, 5), Bucketing.WEEK) == [
        Bucket("2026-W53", date(2026, 12, 30), date(2027, 1, 3)),  # 2026 has 53 ISO weeks
        Bucket("2027-W01", date(2027, 1, 4), date(2027, 1, 5)),
    ]
    assert buckets(date(2026, 11, 20), date(2027, 2, 3), Bucketing.MONTH) == [
        Bucket("2026-11", date(2026, 11, 20), date(2026, 11, 30)),
        Bucket("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        Bucket("2027-01", date(2027, 1, 1), date(2027, 1, 31)),
        Bucket("2027-02", date(2027, 2, 1), date(2027, 2, 3)),
    ]
    assert buckets(MONDAY, MONDAY - timedelta(days=1), Bucketing.DAY) == []


def test_a_week_rate_comes_from_the_summed_counts_not_from_the_days_rates() -> None:
    work = [
        DepartmentWork("城管局", MONDAY, dispatched=1, signed_on_time=1, replied=1),
        DepartmentWork("城管局", MONDAY + timedelta(days=1), 3, 1, replied=2, replied_on_time=2),
        DepartmentWork("水务局", MONDAY + timedelta(days=1), dispatched=5, signed_on_time=5),
    ]
    report = kpi_report(MONDAY, MONDAY + timedelta(days=6), ZONE, Bucketing.WEEK, work=work)
    data = report.as_dict()
    (week,) = data["periods"]
    assert (week["period"], week["dispatched"], week["signed_on_time"]) == ("2026-W50", 9, 7)
    assert week["signed_on_time_rate"] == 0.7778
    assert week["closed_on_time_rate"] == 0.6667  # 2 of 3 answers by the due date
    water, city = data["departments"]  # most dispatched first
    assert water["department"] == "水务局" and city["department"] == "城管局"
    assert city["signed_on_time_rate"] == 0.5  # 2 / 4, not the mean of 100 % and 33 %
    assert water["closed_on_time_rate"] is None  # no answer yet
    assert "offered" not in city  # calls queue for seat groups, not departments


def test_ticket_figures_and_the_top_categories_and_places() -> None:
    def ticket(n: int, **facts: object) -> TicketFacts:
        return TicketFacts(f"T{n}", NOON, **facts)  # type: ignore[arg-type]

    tickets = [
        ticket(1, accepted=True, closed_at_once=True, category="城乡建设/路灯", place="青山路"),
        ticket(2, accepted=True, category="城乡建设/路灯", place="青山路", department="城管局"),
        ticket(3, accepted=True, category="交通/拥堵", place="星河小学", department="城管局"),
        ticket(4, repeat=True, category="交通/拥堵", seat_group="城建"),
        ticket(5, category="", place=""),  # neither: counted, not ranked
    ]
    data = kpi_report(MONDAY, MONDAY, ZONE, tickets=tickets, top=2).as_dict()
    total = data["total"]
    assert (total["tickets"], total["accepted"], total["closed_at_once"]) == (5, 3, 1)
    assert total["first_contact_rate"] == 0.3333  # 即时办结 1 of 3 accepted
    assert total["repeat_rate"] == 0.2  # 1 of 5 tickets
    assert data["categories"] == [
        {"category": "交通/拥堵", "tickets": 2, "share": 0.4},  # a tie goes by name
        {"category": "城乡建设/路灯", "tickets": 2, "share": 0.4},
    ]
    assert data["places"] == [
        {"place": "青山路", "tickets": 2, "share": 0.4},
        {"place": "星河小学", "tickets": 1, "share": 0.2},
    ]
    (department,) = data["departments"]
    assert (department["department"], department["tickets"]) == ("城管局", 2)
    assert department["first_contact_rate"] == 0.0  # two accepted, none closed at once
    (group,) = data["seat_groups"]
    assert (group["group"], group["tickets"], group["first_contact_rate"]) == ("城建", 1, None)


def test_seat_groups_callbacks_and_their_rates() -> None:
    calls = [
        call(CallOutcome.ANSWERED, 5.0, group="城建"),
        call(CallOutcome.ANSWERED, 30.0, group="综合"),
        call(CallOutcome.ABANDONED, 2.0, group="综合"),
        call(CallOutcome.MESSAGE, 200.0, group="综合"),
        call(CallOutcome.ANSWERED, -1.0, group="城建"),  # a clock step: no negative wait
    ]
    callbacks = [
        CallbackFacts(NOON, "城管局", "综合", due=True, answered=True, rated=True, satisfied=True),
        CallbackFacts(NOON, "城管局", "综合", due=True, answered=True, rated=True),
        CallbackFacts(NOON, "城管局", "综合", due=True),
        CallbackFacts(NOON, "", "", due=False),  # not owed a call
    ]
    data = kpi_report(MONDAY, MONDAY, ZONE, calls=calls, callbacks=callbacks).as_dict()
    general, building, unknown = data["seat_groups"]
    assert general["group"] == "综合" and general["offered"] == 3
    assert (general["answer_rate"], general["service_level"]) == (0.3333, 0.0)
    assert general["messages"] == 1 and general["p90_wait_s"] == 30.0
    assert general["verification_rate"] == 0.6667 and general["satisfaction_rate"] == 0.5
    assert building["group"] == "城建" and building["service_level"] == 1.0
    assert building["average_wait_s"] == 2.5 and building["verification_rate"] is None
    assert unknown["group"] == "（未知）" and unknown["verification_due"] == 0
    assert "dispatched" not in general  # a seat group dispatches nothing
    unsigned = [d for d in data["departments"] if d["department"] == "（未派单）"]
    assert unsigned and unsigned[0]["verification_due"] == 0
    total = data["total"]
    assert (total["verification_due"], total["verified"], total["rated"]) == (3, 2, 2)
