"""ACD overflow: skill widening and backup groups that keep the caller's place,
closed groups, diversion before queueing and the estimated wait (virtual time)."""

from __future__ import annotations

import math

import pytest

from call_routing.acd import (
    BACKUP,
    DIVERT_LOAD,
    DIVERT_WAIT,
    SKILL,
    Acd,
    Agent,
    AgentStatus,
    Offer,
    RingTimeout,
    SeatGroup,
    Strategy,
    WaitTimeout,
    Widened,
)


def agent(agent_id: str, *groups: str, **skills: int) -> Agent:
    return Agent(agent_id, agent_id, f"sip:{agent_id}@node", groups or ("g",), skills)


def acd_with(groups: list[SeatGroup], *agents: Agent) -> Acd:
    acd = Acd(groups, agents)
    for each in agents:
        acd.log_in(each.id, 0.0)
    return acd


CITY = SeatGroup("城建", required_skill="jz", required_level=4, widen_after_s=30, widen_to_level=2)


def test_seat_group_overflow_fields_are_checked() -> None:
    assert CITY.widens and not CITY.has_backup
    assert not SeatGroup("g", widen_after_s=10).widens  # no skill to widen
    assert SeatGroup("g", backup_groups=("h",), backup_after_s=0).has_backup
    for bad, message in (
        ({"required_skill": "x", "required_level": 2, "widen_to_level": 3}, "widen_to_level"),
        ({"widen_after_s": -1}, "widen_after_s"),
        ({"backup_groups": ("h",)}, "needs backup_after_s"),
        ({"backup_groups": ("g",), "backup_after_s": 5}, "its own backup"),
        ({"backup_after_s": -2}, "backup_after_s"),
    ):
        with pytest.raises(ValueError, match=message):
            SeatGroup("g", **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown backup group x"):
        Acd([SeatGroup("g", backup_groups=("x",), backup_after_s=1)])


def test_a_free_low_level_agent_gets_the_call_at_exactly_t1() -> None:
    acd = acd_with([CITY], agent("low", "城建", jz=2), agent("none", "城建"))
    acd.enqueue("c1", "城建", 5.0)
    assert acd.tick(5.0) == []
    assert acd.next_timer_at() == 35.0  # the widening is a timer
    assert acd.tick(34.999) == []
    assert acd.stage("c1") == (False, False)
    assert acd.tick(35.0) == [
        Widened("c1", "城建", SKILL, 35.0),
        Offer("c1", "low", "城建", 35.0, 55.0),
    ]
    assert acd.stage("c1") == (True, False)
    assert acd.agent("none").status is AgentStatus.AVAILABLE  # below widen_to_level


def test_widening_fires_at_its_own_time_when_the_tick_is_late() -> None:
    acd = acd_with([CITY], agent("low", "城建", jz=3))
    acd.enqueue("c1", "城建", 0.0)
    decisions = acd.tick(100.0)
    assert decisions[0] == Widened("c1", "城建", SKILL, 30.0)
    assert decisions[1] == Offer("c1", "low", "城建", 100.0, 120.0)


def test_order_is_kept_when_skills_widen() -> None:
    """A widened older call is served before a younger one both could take."""
    acd = acd_with([CITY], agent("hi", "城建", jz=5), agent("low", "城建", jz=2))
    acd.agent_not_ready("hi", "break", 0.0)
    acd.agent_not_ready("low", "break", 0.0)
    acd.enqueue("old", "城建", 0.0)
    acd.tick(30.0)  # old is widened now
    acd.enqueue("young", "城建", 40.0)
    acd.agent_ready("hi", 50.0)
    assert acd.tick(50.0) == [Offer("old", "hi", "城建", 50.0, 70.0)]
    acd.agent_ready("low", 60.0)
    assert acd.tick(60.0) == []  # young is not widened yet: low cannot take it
    assert acd.tick(70.0)[:2] == [
        RingTimeout("old", "hi", 70.0),
        Widened("young", "城建", SKILL, 70.0),
    ]
    # old still first: it takes the longest idle agent able (low, free since 60)
    positions = [call.call_id for call in acd.queue("城建")]
    assert positions == ["old", "young"]
    assert acd.ringing_agent("old") == "low" and acd.ringing_agent("young") == "hi"


def test_backup_group_takes_the_call_after_t2_in_place_order() -> None:
    groups = [
        SeatGroup("城建", required_skill="jz", backup_groups=("综合",), backup_after_s=60),
        SeatGroup("综合"),
    ]
    acd = acd_with(groups, agent("g1", "综合"))
    acd.agent_not_ready("g1", "break", 0.0)
    acd.enqueue("city", "城建", 0.0)
    acd.enqueue("general", "综合", 10.0)
    assert acd.next_timer_at() == 60.0
    acd.agent_ready("g1", 20.0)
    assert acd.tick(20.0) == [Offer("general", "g1", "综合", 20.0, 40.0)]
    acd.offer_answered("general", 21.0)
    acd.enqueue("general2", "综合", 30.0)
    assert acd.tick(60.0) == [Widened("city", "城建", BACKUP, 60.0)]
    acd.call_ended("general", 61.0)
    # the backup agent competes normally: the older 城建 call goes first
    assert acd.tick(61.0) == [Offer("city", "g1", "城建", 61.0, 81.0)]
    assert acd.stage("city") == (False, True)


def test_backup_agents_need_the_calls_own_skills_only() -> None:
    groups = [
        SeatGroup("城建", required_skill="jz", backup_groups=("综合",), backup_after_s=0),
        SeatGroup("综合"),
    ]
    acd = acd_with(groups, agent("plain", "综合"), agent("yue", "综合", yue=2))
    acd.enqueue("c1", "城建", 0.0, skills={"yue": 1})
    decisions = acd.tick(0.0)
    assert decisions == [Widened("c1", "城建", BACKUP, 0.0), Offer("c1", "yue", "城建", 0.0, 20.0)]


def test_a_switched_off_group_offers_nothing_and_overflows_at_once() -> None:
    groups = [
        SeatGroup("夜间", backup_groups=("综合",), backup_after_s=300),
        SeatGroup("综合"),
        SeatGroup("环保"),
    ]
    acd = acd_with(groups, agent("n", "夜间", "环保"), agent("g", "综合"))
    acd.agent_not_ready("g", "break", 0.0)
    acd.set_group_open("夜间", False, 0.0)
    assert not acd.group_open("夜间")
    acd.enqueue("c1", "夜间", 1.0)
    assert acd.tick(1.0) == [Widened("c1", "夜间", BACKUP, 1.0)]  # no offer to n
    acd.enqueue("c2", "环保", 2.0)
    assert acd.tick(2.0) == [Offer("c2", "n", "环保", 2.0, 22.0)]  # n serves its other group
    acd.agent_ready("g", 3.0)
    assert acd.tick(3.0) == [Offer("c1", "g", "夜间", 3.0, 23.0)]
    acd.caller_hung_up("c2", 4.0)
    acd.enqueue("c3", "夜间", 5.0)
    acd.tick(5.0)
    acd.set_group_open("夜间", True, 6.0)
    assert acd.tick(6.0) == [Offer("c3", "n", "夜间", 6.0, 26.0)]


def test_closing_a_group_sends_its_waiting_calls_to_backups() -> None:
    groups = [SeatGroup("a", backup_groups=("b",), backup_after_s=600), SeatGroup("b")]
    acd = acd_with(groups, agent("x", "b"))
    acd.enqueue("c1", "a", 0.0)
    assert acd.tick(10.0) == []
    acd.set_group_open("a", False, 20.0)
    assert acd.tick(20.0) == [Widened("c1", "a", BACKUP, 20.0), Offer("c1", "x", "a", 20.0, 40.0)]
    acd.offer_answered("c1", 21.0)
    assert acd.tick(600.0) == []  # the backup timer does not fire twice


def test_widening_and_backup_timers_are_dropped_when_the_call_leaves() -> None:
    group = SeatGroup(
        "g",
        required_skill="s",
        required_level=3,
        widen_after_s=10,
        backup_groups=("h",),
        backup_after_s=20,
        max_wait_s=15,
    )
    acd = acd_with([group, SeatGroup("h")])
    acd.enqueue("c1", "g", 0.0)
    acd.enqueue("c2", "g", 1.0)
    acd.caller_hung_up("c2", 2.0)
    assert acd.next_timer_at() == 10.0
    assert acd.tick(30.0) == [
        Widened("c1", "g", SKILL, 10.0),
        WaitTimeout("c1", "g", 15.0, 15.0),
    ]
    assert acd.next_timer_at() is None


def test_estimated_wait_is_position_times_aht_over_agents_who_can_serve() -> None:
    groups = [
        SeatGroup(
            "g", required_skill="s", required_level=3, backup_groups=("h",), backup_after_s=60
        ),
        SeatGroup("h"),
    ]
    acd = Acd(groups, [agent("a", "g", s=3), agent("b", "g", s=5), agent("c", "g", s=1)])
    acd.add_agent(agent("d", "h"))
    for each in "abcd":
        acd.log_in(each, 0.0)
        acd.agent_not_ready(each, "break", 0.0)
    assert acd.aht_s("g") == 180.0
    for n in range(3):
        acd.enqueue(f"c{n}", "g", 1.0)
    assert acd.estimated_wait_s("c0", 1.0) == 180 / 2  # a and b, not c
    assert acd.estimated_wait_s("c2", 1.0) == 3 * 180 / 2
    acd.tick(61.0)  # backup: d counts too
    assert acd.estimated_wait_s("c2", 61.0) == 3 * 180 / 3
    acd.log_out("b", 62.0)
    acd.log_out("d", 62.0)
    assert acd.estimated_wait_s("c0", 62.0) == 180.0
    acd.log_out("a", 63.0)
    assert acd.estimated_wait_s("c0", 63.0) == math.inf


def test_aht_is_a_moving_average_of_talk_and_wrap_up() -> None:
    acd = acd_with([SeatGroup("g", wrap_up_s=20)], agent("a"))
    now = 0.0
    for n in range(100):
        acd.enqueue(f"c{n}", "g", now)
        acd.tick(now)
        acd.offer_answered(f"c{n}", now)
        now += 280.0
        acd.call_ended(f"c{n}", now)
        now += 20.0
        acd.tick(now)
    assert acd.aht_s("g") == pytest.approx(300.0, abs=0.1)  # talk 280 + wrap-up 20
    first = acd_with([SeatGroup("g", wrap_up_s=0)], agent("a"))
    first.enqueue("c", "g", 0.0)
    first.tick(0.0)
    first.offer_answered("c", 0.0)
    first.call_ended("c", 100.0)
    assert first.aht_s("g") == (180.0 + 100.0) / 2  # the default counts as one call


def test_should_divert_on_estimated_wait_or_calls_per_agent() -> None:
    acd = acd_with([SeatGroup("g"), SeatGroup("h")], agent("a"), agent("b"))
    for each in "ab":
        acd.agent_not_ready(each, "break", 0.0)
    assert acd.should_divert("g", 0.0, wait_above_s=120) is None  # 1 × 180 / 2 = 90
    for n in range(3):
        acd.enqueue(f"c{n}", "g", 0.0)
    assert acd.should_divert("g", 0.0, wait_above_s=300) == DIVERT_WAIT  # 4 × 180 / 2
    assert acd.should_divert("g", 0.0, wait_above_s=400) is None
    assert acd.should_divert("g", 0.0, calls_per_agent_above=1.0) == DIVERT_LOAD  # 3/2
    assert acd.should_divert("g", 0.0, calls_per_agent_above=2.0) is None
    assert acd.should_divert("g", 0.0) is None  # no thresholds, no diversion
    # no agents at all: any threshold diverts
    assert acd.should_divert("h", 0.0, wait_above_s=10_000) == DIVERT_WAIT
    assert acd.should_divert("h", 0.0, calls_per_agent_above=5) == DIVERT_LOAD


def test_diversion_counts_backups_that_serve_at_once() -> None:
    groups = [SeatGroup("g", backup_groups=("h",), backup_after_s=0), SeatGroup("h")]
    acd = acd_with(groups, agent("a", "h"), agent("b", "h"))
    for each in "ab":
        acd.agent_not_ready(each, "break", 0.0)
    assert acd.should_divert("g", 0.0, wait_above_s=100) is None  # 180 / 2 = 90


def test_strategies_use_the_index_with_widening_and_backups() -> None:
    """Skill weighted over own and backup agents picks the highest level first."""
    groups = [
        SeatGroup(
            "g",
            Strategy.SKILL_WEIGHTED,
            required_skill="s",
            required_level=4,
            widen_after_s=5,
            widen_to_level=1,
            backup_groups=("h",),
            backup_after_s=5,
        ),
        SeatGroup("h"),
    ]
    acd = acd_with(groups, agent("a", "g", s=2), agent("b", "h", s=3), agent("c", "g", s=1))
    acd.enqueue("c1", "g", 0.0)
    decisions = acd.tick(5.0)
    assert decisions[-1] == Offer("c1", "b", "g", 5.0, 25.0)  # b's 3 beats a's 2


def test_a_supervisor_can_overflow_a_group_to_its_backup_at_once() -> None:
    from call_routing.acd import Acd, Agent, SeatGroup, Widened

    acd = Acd(
        [
            SeatGroup("城建", backup_groups=("综合",), backup_after_s=120.0),
            SeatGroup("综合"),
        ],
        [Agent("a1", "甲", "sip:a1@x", ("综合",))],
    )
    acd.log_in("a1", 0.0)
    acd.agent_not_ready("a1", "小休", 0.0)
    acd.enqueue("waiting", "城建", 1.0)
    acd.set_backup_now("城建", True, 5.0)
    decisions = acd.tick(5.0)
    assert [d for d in decisions if isinstance(d, Widened)][0].call_id == "waiting"
    acd.enqueue("new", "城建", 6.0)  # while the switch is on, new calls overflow at once too
    assert any(isinstance(d, Widened) and d.call_id == "new" for d in acd.tick(6.0))
    acd.agent_ready("a1", 7.0)
    offers = acd.tick(7.0)
    assert offers and offers[0].call_id == "waiting"  # the place is kept
    acd.set_backup_now("城建", False, 8.0)
    acd.enqueue("later", "城建", 9.0)
    assert not any(isinstance(d, Widened) and d.call_id == "later" for d in acd.tick(9.0))
    assert acd.stage("later") == (False, False)  # it waits its 120 s again
    assert acd.stage("new") == (False, True)


def test_a_group_without_backup_cannot_be_overflowed() -> None:
    import pytest

    from call_routing.acd import Acd, SeatGroup

    acd = Acd([SeatGroup("综合")])
    with pytest.raises(ValueError, match="no backup"):
        acd.set_backup_now("综合", True, 0.0)
