"""``[analytics]``: the hub's hotspot watch (热点问题 and bursts over the tickets)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AnalyticsSection(BaseModel):
    """How often the hub looks for hotspots flaring up, and what counts as one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hotspot_watch: bool = True  # look for bursts and publish hotspot.emerging
    hotspot_every_s: float = Field(900.0, ge=1.0, le=86400.0)  # between two looks
    hotspot_days: int = Field(30, ge=1, le=366)  # the tickets grouped: the last N days
    burst_window_hours: float = Field(48.0, gt=0.0, le=720.0)
    burst_min_requests: int = Field(5, ge=2, le=10000)
    burst_alpha: float = Field(0.001, gt=0.0, lt=1.0)  # how unlikely by chance
