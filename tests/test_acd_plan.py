"""Seat allocation plan from settings: checks with clear messages, and the mapping
from settings to seat groups, agents and the Acd."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

import pytest

from call_routing.acd import Offer, Strategy, Widened
from call_routing.acd.plan import (
    PlanError,
    apply_schedule,
    build_acd,
    check_plan,
    plan_from_settings,
)
from call_routing.taxonomy import default_taxonomy
from sip_config.acd_settings import AcdSection, AgentSettings, SeatGroupSettings, TimeWindow

GROUPS = ["城建", "环保", "综合"]


@dataclass
class Conf:
    """The parts of Settings a plan reads (Settings itself fits too)."""

    agents: list[AgentSettings] = field(default_factory=list)
    seat_groups: dict[str, SeatGroupSettings] = field(default_factory=dict)
    acd: AcdSection = field(default_factory=AcdSection)


def a(agent_id: str, *groups: str, password: str = "pw", **skills: int) -> AgentSettings:
    return AgentSettings(id=agent_id, password=password, seat_groups=list(groups), skills=skills)


def test_a_plain_plan_has_no_problems_and_missing_groups_fall_back_to_general() -> None:
    conf = Conf(agents=[a("1001", "综合"), a("1002", "城建")])
    assert check_plan(conf, GROUPS, "综合") == []
    plan = plan_from_settings(conf, GROUPS, "综合", registered_uri="10.0.0.5:5060")
    by_id = {group.id: group for group in plan.groups}
    assert list(by_id) == GROUPS
    assert by_id["环保"].backup_groups == ("综合",) and by_id["环保"].backup_after_s == 0
    assert by_id["城建"].backup_groups == () and plan.implicit_fallback == ("环保",)
    assert by_id["城建"].wrap_up_s == 15.0 and by_id["城建"].ring_timeout_s == 20.0
    assert plan.agents[0].sip_uri == "sip:1001@10.0.0.5:5060"


def test_the_shipped_taxonomy_with_general_agents_only_is_a_valid_plan() -> None:
    taxonomy = default_taxonomy()
    groups = [domain.seat_group for domain in taxonomy.domains.values()]
    conf = Conf(agents=[a("1001", taxonomy.general_seat_group)])
    assert check_plan(conf, groups, taxonomy.general_seat_group) == []


def test_an_explicit_group_without_agents_or_backup_is_refused() -> None:
    conf = Conf(agents=[a("1001", "综合")], seat_groups={"城建": SeatGroupSettings()})
    assert check_plan(conf, GROUPS, "综合") == [
        "seat_groups.城建 has no agents and no backup group with agents: add an agent with"
        ' seat_groups = ["城建"] or set seat_groups.城建.backup_groups'
    ]
    ok = Conf(
        agents=[a("1001", "综合")],
        seat_groups={"城建": SeatGroupSettings(backup_groups=["综合"], backup_after_s=60)},
    )
    assert check_plan(ok, GROUPS, "综合") == []


def test_the_general_group_needs_agents() -> None:
    problems = check_plan(Conf(agents=[a("1", "城建")]), GROUPS, "综合")
    assert problems == [
        "seat_groups.综合 has no agents and no backup group with agents: add an agent with"
        ' seat_groups = ["综合"] or set seat_groups.综合.backup_groups'
    ]


def test_backup_loops_and_unknown_groups_are_named() -> None:
    conf = Conf(
        agents=[a("1001", "综合"), a("1002", "城建", "夜班")],
        seat_groups={
            "城建": SeatGroupSettings(backup_groups=["环保"], backup_after_s=30),
            "环保": SeatGroupSettings(backup_groups=["城建"], backup_after_s=30),
            "综合": SeatGroupSettings(backup_groups=["无此组"], backup_after_s=30),
        },
    )
    problems = check_plan(conf, GROUPS, "综合")
    assert any("agents[1] (id 1002).seat_groups names '夜班'" in p for p in problems)
    assert any("[seat_groups.夜班]" in p for p in problems)
    assert any("seat_groups.综合.backup_groups names '无此组'" in p for p in problems)
    loops = [p for p in problems if "loop" in p]
    assert loops == [
        "seat_groups.城建.backup_groups makes a loop 城建 → 环保 → 城建: remove 城建 from"
        " seat_groups.环保.backup_groups (or another link)"
    ]
    assert not any("has no agents" in p for p in problems)  # 环保 reaches 城建's agent
    with pytest.raises(PlanError) as refused:
        plan_from_settings(conf, GROUPS, "综合", registered_uri="node")
    assert len(refused.value.problems) == len(problems)


def test_required_skill_that_no_agent_has() -> None:
    group = SeatGroupSettings(required_skill="建筑", required_level=3)
    conf = Conf(agents=[a("1", "城建", 建筑=2), a("2", "综合")], seat_groups={"城建": group})
    assert check_plan(conf, GROUPS, "综合") == [
        "seat_groups.城建.required_skill = '建筑' at level 3, but no agent of 城建 has level 2"
        " at most: give an agent skills.建筑 = 3, or lower seat_groups.城建.required_level"
    ]
    widened = SeatGroupSettings(
        required_skill="建筑", required_level=3, widen_after_s=30, widen_to_level=2
    )
    conf.seat_groups["城建"] = widened
    assert check_plan(conf, GROUPS, "综合") == []  # reachable once widened
    bare = Conf(agents=[a("1", "城建"), a("2", "综合")], seat_groups={"城建": group})
    assert "has it at all" in check_plan(bare, GROUPS, "综合")[0]
    no_skill = Conf(
        agents=[a("1", "综合")], seat_groups={"综合": SeatGroupSettings(widen_after_s=5)}
    )
    assert "no required_skill to widen" in check_plan(no_skill, GROUPS, "综合")[0]


def test_windows_are_checked() -> None:
    acd = AcdSection(
        open_hours=[
            TimeWindow(name="day", start=time(8), end=time(20)),
            TimeWindow(name="odd", start=time(8), end=time(9), seat_groups=["城建"]),
        ],
        windows=[
            TimeWindow(name="peak", start=time(9), end=time(11), seat_groups=["城建"]),
            TimeWindow(
                name="late", days=["mon"], start=time(10), end=time(12), seat_groups=["城建"]
            ),
            TimeWindow(name="empty", start=time(13), end=time(14)),
            TimeWindow(name="ghost", start=time(13), end=time(14), seat_groups=["不存在"]),
            TimeWindow(name="evening", start=time(18), end=time(0), seat_groups=["环保"]),
            TimeWindow(name="night", start=time(22), end=time(0), seat_groups=["环保"]),
        ],
    )
    problems = check_plan(Conf(agents=[a("1", "综合", "城建")], acd=acd), GROUPS, "综合")
    assert problems == [
        "acd.open_hours[1] (odd) lists seat_groups, but opening hours are for the whole node:"
        " move the window to acd.windows",
        "acd.windows[2] (empty) switches no seat group: list its seat_groups or remove it",
        "acd.windows[3] (ghost).seat_groups names '不存在', which is no seat group: use one of"
        " 城建, 环保, 综合",
        "acd.windows[0] (peak) and acd.windows[1] (late) both switch 城建 on (mon 10:00–11:00):"
        " merge them or make them not overlap",
        "acd.windows[4] (evening) and acd.windows[5] (night) both switch 环保 on"
        " (mon,tue,wed,thu,fri,sat,sun 22:00–24:00): merge them or make them not overlap",
    ]


def test_settings_map_to_groups_agents_and_policies() -> None:
    conf = Conf(
        agents=[
            a("1001", "城建", 建筑=4, yue=2),
            AgentSettings(
                id="2001", name="李娜", sip_uri="sip:2001@192.0.2.9", seat_groups=["综合"]
            ),
        ],
        seat_groups={
            "城建": SeatGroupSettings(
                strategy="skill_weighted",
                max_wait_s=600,
                max_length=50,
                wrap_up_s=30,
                ring_timeout_s=25,
                required_skill="建筑",
                required_level=4,
                widen_after_s=60,
                widen_to_level=2,
                backup_groups=["综合"],
                backup_after_s=120,
            )
        },
        acd=AcdSection(max_missed=5, callback_retries=4, callback_retry_s=600),
    )
    plan = plan_from_settings(conf, GROUPS, "综合", registered_uri=lambda i: f"sip:{i}@hub")
    city = plan.groups[0]
    assert (city.strategy, city.max_wait_s, city.max_length, city.wrap_up_s) == (
        Strategy.SKILL_WEIGHTED,
        600,
        50,
        30,
    )
    assert (city.required_skill, city.required_level, city.widen_after_s, city.widen_to_level) == (
        "建筑",
        4,
        60,
        2,
    )
    assert (city.backup_groups, city.backup_after_s, city.ring_timeout_s) == (("综合",), 120, 25)
    first, second = plan.agents
    assert first.sip_uri == "sip:1001@hub" and first.name == "1001" and first.level("yue") == 2
    assert second.sip_uri == "sip:2001@192.0.2.9" and second.name == "李娜"
    assert plan.offer_policy.max_missed == 5
    assert (plan.callback_policy.retries, plan.callback_policy.retry_s) == (4, 600)


def test_build_acd_routes_a_fallback_group_to_general_at_once() -> None:
    conf = Conf(agents=[a("1001", "综合")])
    acd = build_acd(conf, GROUPS, "综合", 100.0, registered_uri="hub")
    assert acd.agent("1001").agent.sip_uri == "sip:1001@hub"
    acd.log_in("1001", 100.0)
    acd.enqueue("c1", "环保", 101.0)
    assert acd.tick(101.0) == [
        Widened("c1", "环保", "backup", 101.0),
        Offer("c1", "1001", "环保", 101.0, 121.0),
    ]


def test_the_schedule_switches_groups_in_the_acd() -> None:
    acd_settings = AcdSection(
        open_hours=[TimeWindow(name="day", start=time(8), end=time(22))],
        windows=[TimeWindow(name="evening", start=time(18), end=time(22), seat_groups=["环保"])],
    )
    conf = Conf(agents=[a("1", "综合"), a("2", "环保")], acd=acd_settings)
    plan = plan_from_settings(conf, GROUPS, "综合", registered_uri="hub")
    acd = build_acd(conf, GROUPS, "综合", registered_uri="hub")
    monday = datetime(2026, 11, 30, 10)
    state = apply_schedule(acd, plan.schedule, monday, 0.0)
    assert state.open and state.groups_on == {"城建", "综合"}
    assert not acd.group_open("环保") and acd.group_open("综合")
    change = plan.schedule.next_change(monday)
    assert change == monday.replace(hour=18)
    apply_schedule(acd, plan.schedule, change, 1.0)
    assert acd.group_open("环保")
    night = apply_schedule(acd, plan.schedule, monday.replace(hour=23), 2.0)
    assert not night.open and not any(acd.group_open(g) for g in GROUPS)
