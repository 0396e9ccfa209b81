"""Bursts: a hotspot flaring up in the last 48 hours against its own past."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from analytics.bursts import BurstOptions, emerging, poisson_tail
from analytics.hotspots import find_hotspots
from analytics.requests import Request
from tests.support.domain_model import classify

NOW = datetime(2026, 12, 4, 18, 0)
WATER = [
    ("锦绣花园小区停水两天了", "锦绣花园小区从前天开始停水，没有任何通知，生活非常不便。"),
    ("锦绣花园小区又停水", "锦绣花园小区又停水了，物业说是水管爆了，什么时候来水？"),
    ("锦绣花园停水没人管", "锦绣花园停水快两天了，老人小孩没水喝，请自来水公司尽快抢修。"),
    ("锦绣花园小区长时间停水", "锦绣花园小区长时间停水，楼上住户连厕所都冲不了。"),
    ("锦绣花园小区停水问题", "锦绣花园小区停水问题一直没解决，打自来水公司电话没人接。"),
    ("锦绣花园小区突然停水", "锦绣花园小区突然停水，请尽快恢复供水。"),
]


def requests_at(hours_ago: list[float]) -> list[Request]:
    return [
        Request(f"w{k}", NOW - timedelta(hours=h), *WATER[k % len(WATER)], person=f"P{k}")
        for k, h in enumerate(hours_ago)
    ]


def test_the_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2.0))
    assert poisson_tail(5, 0.1) == pytest.approx(7.7e-8, rel=0.01)
    assert poisson_tail(3, 3.0) > poisson_tail(6, 3.0)


def test_five_requests_about_one_estates_water_within_two_days_is_emerging() -> None:
    requests = requests_at([1, 5, 12, 20, 30])
    hotspots = find_hotspots(requests, NOW, classify=classify())
    [burst] = emerging(hotspots, requests, NOW)
    assert burst.recent == 5 and burst.hotspot.place == "锦绣花园"
    assert burst.expected == pytest.approx(0.1)  # the floor: nobody asked before
    assert burst.surprise < 1e-6
    assert burst.key == "锦绣花园|w4"  # the first recent request: stable while it lasts
    assert burst.as_json()["recent_ids"] == ["w4", "w3", "w2", "w1", "w0"]


def test_four_requests_are_not_yet_a_burst() -> None:
    requests = requests_at([1, 5, 12, 20])
    assert emerging(find_hotspots(requests, NOW, classify=classify()), requests, NOW) == []


def test_a_place_that_always_gets_this_many_is_not_emerging() -> None:
    # about three requests every two days for the last four weeks: five is ordinary
    history = [49 + 16 * k for k in range(40)]
    requests = requests_at([1, 5, 12, 20, 30, *history])
    hotspots = find_hotspots(requests, NOW, classify=classify())
    assert hotspots and emerging(hotspots, requests, NOW) == []
    assert emerging(hotspots, requests, NOW, BurstOptions(alpha=0.5))  # the knob works


def test_requests_after_now_are_not_counted() -> None:
    requests = requests_at([1, 5, 12, -3, -4])  # two in the future of NOW
    assert emerging(find_hotspots(requests, NOW, classify=classify()), requests, NOW) == []
