"""The shipped domain model as the hotspot finder's ``classify`` (loaded once)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache


@cache
def classify() -> Callable[[list[str]], list[Mapping[str, float]]]:
    from call_routing.nlu_model import load

    model = load().domain
    return lambda titles: [p.scores for p in model.predict_all(titles)]
