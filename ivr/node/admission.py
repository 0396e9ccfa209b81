"""Admission control: how many new calls the node lets in while it is saturated.

A node that takes every call it is offered past its capacity does not answer
more, it answers none: the hub falls behind, workers refuse calls it answered
too late, carriers retry, and the backlog outlives the peak (a metastable
collapse).  So the supervisor reads, once a second, what the node measures —
how long the hub took to answer the latest calls, how many offers workers
refused because the hub was too slow, the host's CPU — and sets the share of
new calls Kamailio admits (``$shv(admit_pct)``); the rest get 503 with
Retry-After at once, before a worker or the hub spends anything on them.

The rule is additive increase, multiplicative decrease (as TCP does with its
window), shaped for a long feedback delay (a call admitted now costs the hub
most in the seconds after: greeting, transcript, ticket): cut the share by a
third when the hub is slow or refusals are seen, then wait for that to show;
while the hub is near its target, hold; while it is comfortably fast, grow a
little each second; while it is idle (the peak has passed), grow fast, so the
node is back to admitting every call within seconds.

A share alone swings: calls last minutes, so the hub looks idle again soon after
a cut, while the calls it let in are still up, and a share grown back floods it
once more.  So a cut also remembers how many calls the hub followed when it
saturated, less a margin: the node's *ceiling*, and from then on the share is set
to carry that many.  The calls up now were let in over the last mean call length
(estimated as calls ÷ calls answered per second, Little's law), so the share that
carries the ceiling is the mean share over that time × ceiling ÷ calls; the share
moves toward it a few points a second.  While the hub stays fast at the ceiling,
the ceiling creeps up to find the room the node has; once every call is admitted
again and the calls are well below it, it is forgotten.  Pure logic: the caller
supplies readings and applies the share.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

SHARES_KEPT = 900  # readings of the share kept: the longest call length it is averaged over


@dataclass(frozen=True)
class AdmissionPolicy:
    target_s: float = 1.0  # hub answer latency (p90) above which the node is saturated
    # How late the hub handles call events (p90) before the node counts as saturated:
    # looser, as answers jump the queue; past it callers wait for their greeting.
    lag_target_s: float = 3.0
    floor_pct: int = 10  # never below: some calls keep coming in and show the recovery
    step_pct: int = 3  # added per reading while the hub is fast (under half its target)
    idle_step_pct: int = 15  # added per reading while it is idle (under a quarter)
    cut: float = 0.67  # the share is multiplied by this when saturated
    settle_s: float = 3.0  # after a cut, no other cut for this long (let it take effect)
    cpu_busy: float = 0.97  # host CPU (0-1) at which the share stops growing
    # Host CPU spent outside niced work (the ASR service runs niced and takes what is
    # left, so it does not count) at which the node is saturated, for this long:
    # media and call logic are starving each other, whatever the hub's own figures.
    cpu_full: float = 0.95
    cpu_full_s: float = 3.0
    ceiling_margin: float = 0.9  # the ceiling: calls followed when saturated, times this
    ceiling_creep: float = 0.01  # the ceiling's growth per reading while the hub is fast
    move_pct: int = 5  # the most the share moves per reading toward the ceiling's share
    rate_smoothing_s: float = 30.0  # how long the answered-calls rate is averaged over

    @classmethod
    def for_answer_timeout(cls, hub_answer_timeout_s: float) -> AdmissionPolicy:
        """Saturated well before a worker would give up on the hub (a third of its wait),
        or when the hub handles events as late as a worker waits for its answer."""
        return cls(target_s=max(0.2, hub_answer_timeout_s / 3), lag_target_s=hub_answer_timeout_s)


@dataclass(frozen=True)
class Reading:
    at: float  # monotonic seconds
    hub_p90_s: float | None  # the hub's answers, p90; None: none answered lately
    hub_lag_p90_s: float | None = None  # how late it handles call events, p90
    hub_stale: int = 0  # offers the hub dropped as too old, lately
    hub_slow_refusals: int = 0  # workers' "Hub Busy" 503s since the last reading
    cpu: float = 0.0  # host CPU busy, 0-1
    calls: int | None = None  # calls the hub follows now; None: not reported
    cpu_unniced: float | None = None  # host CPU busy outside niced processes, 0-1
    answered_per_s: float | None = None  # calls the hub answered per second, lately


@dataclass
class Admission:
    policy: AdmissionPolicy = field(default_factory=AdmissionPolicy)
    admit_pct: int = 100
    _last_cut: float | None = None
    reason: str = ""  # why the share was last lowered ("" while open)
    ceiling: int | None = None  # calls the node carries at most (set when it saturated)
    _shares: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=SHARES_KEPT))
    _rate: float | None = None  # answered calls per second, smoothed
    _cpu_full_since: float | None = None

    @property
    def state(self) -> str:
        return "open" if self.admit_pct >= 100 else "shedding"

    def update(self, reading: Reading) -> int:
        """The share of new calls (percent) to admit from now on."""
        self._note_rate(reading)
        share = self._decide(reading)
        self._shares.append((reading.at, share))
        return share

    def _decide(self, reading: Reading) -> int:
        policy = self.policy
        why = self._saturated(reading)
        if why:
            settled = self._last_cut is None or reading.at - self._last_cut >= policy.settle_s
            if settled:
                self.admit_pct = max(policy.floor_pct, int(self.admit_pct * policy.cut))
                self._last_cut = reading.at
                self.reason = why
                if reading.calls:
                    ceiling = max(1, int(reading.calls * policy.ceiling_margin))
                    self.ceiling = min(ceiling, self.ceiling or ceiling)
            return self.admit_pct
        load = self._load(reading)  # 1.0: at the target
        if self.ceiling is not None and reading.calls is not None:
            return self._toward_ceiling(reading, load)
        if load > 0.5:
            return self.admit_pct  # hold: more calls would push the hub over
        idle = load <= 0.25
        if reading.cpu >= policy.cpu_busy and not idle:
            return self.admit_pct  # the machine is full: grow only once the hub idles
        return self._grow(policy.idle_step_pct if idle else policy.step_pct)

    def _toward_ceiling(self, reading: Reading, load: float) -> int:
        """Not saturated, a ceiling known: the share that carries the ceiling's calls."""
        policy = self.policy
        assert self.ceiling is not None and reading.calls is not None
        calls, ceiling = reading.calls, self.ceiling
        if calls >= ceiling and load <= 0.5 and reading.cpu < policy.cpu_busy:
            self.ceiling = ceiling + max(1, int(ceiling * policy.ceiling_creep))  # room?
        wanted = self._share_over(self._call_length_s(calls), reading.at) * ceiling
        wanted = min(100.0, max(float(policy.floor_pct), wanted / max(calls, 1)))
        if load > 0.5:
            wanted = min(wanted, self.admit_pct)  # near the target: never more
        move = policy.idle_step_pct if calls < ceiling / 2 else policy.move_pct
        share = int(round(max(self.admit_pct - move, min(self.admit_pct + move, wanted))))
        self.admit_pct = share
        if share >= 100:
            self.reason = ""
            if calls < ceiling * 0.8:
                self.ceiling = None  # the peak has passed
        return share

    def _note_rate(self, reading: Reading) -> None:
        if reading.answered_per_s is None:
            return
        if self._rate is None:
            self._rate = reading.answered_per_s
            return
        weight = 1.0 / max(1.0, self.policy.rate_smoothing_s)
        self._rate += weight * (reading.answered_per_s - self._rate)

    def _call_length_s(self, calls: int) -> float:
        """Mean call length by Little's law (calls up ÷ calls answered per second)."""
        if not self._rate or self._rate <= 0:
            return 30.0
        return min(float(SHARES_KEPT), max(10.0, calls / self._rate))

    def _share_over(self, seconds: float, now: float) -> float:
        recent = [share for at, share in self._shares if now - at <= seconds]
        return sum(recent) / len(recent) if recent else float(self.admit_pct)

    def _grow(self, step: int) -> int:
        self.admit_pct = min(100, self.admit_pct + step)
        if self.admit_pct >= 100:
            self.reason = ""
        return self.admit_pct

    def _load(self, reading: Reading) -> float:
        """The hub's figures as a share of their targets (the larger one)."""
        shares = [0.0]
        if reading.hub_p90_s is not None:
            shares.append(reading.hub_p90_s / self.policy.target_s)
        if reading.hub_lag_p90_s is not None:
            shares.append(reading.hub_lag_p90_s / self.policy.lag_target_s)
        return max(shares)

    def _saturated(self, reading: Reading) -> str:
        full = reading.cpu_unniced is not None and reading.cpu_unniced >= self.policy.cpu_full
        if not full:
            self._cpu_full_since = None
        elif self._cpu_full_since is None:
            self._cpu_full_since = reading.at
        if reading.hub_slow_refusals > 0:
            return "workers refused calls the hub answered too late"
        if reading.hub_stale > 0:
            return "the hub dropped offers it could not answer in time"
        if reading.hub_p90_s is not None and reading.hub_p90_s > self.policy.target_s:
            return f"the hub answers new calls in {reading.hub_p90_s:.1f}s (p90)"
        lag = reading.hub_lag_p90_s
        if lag is not None and lag > self.policy.lag_target_s:
            return f"the hub is {lag:.1f}s behind on calls' events (p90)"
        since = self._cpu_full_since
        if since is not None and reading.at - since >= self.policy.cpu_full_s:
            return f"the host's CPU is full ({reading.cpu_unniced:.0%} outside the ASR)"
        return ""
