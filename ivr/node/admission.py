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
node is back to admitting every call within seconds.  Pure logic: the caller
supplies readings and applies the share.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class Admission:
    policy: AdmissionPolicy = field(default_factory=AdmissionPolicy)
    admit_pct: int = 100
    _last_cut: float | None = None
    reason: str = ""  # why the share was last lowered ("" while open)

    @property
    def state(self) -> str:
        return "open" if self.admit_pct >= 100 else "shedding"

    def update(self, reading: Reading) -> int:
        """The share of new calls (percent) to admit from now on."""
        policy = self.policy
        why = self._saturated(reading)
        if why:
            settled = self._last_cut is None or reading.at - self._last_cut >= policy.settle_s
            if settled:
                self.admit_pct = max(policy.floor_pct, int(self.admit_pct * policy.cut))
                self._last_cut = reading.at
                self.reason = why
            return self.admit_pct
        load = self._load(reading)  # 1.0: at the target
        if load > 0.5:
            return self.admit_pct  # hold: more calls would push the hub over
        idle = load <= 0.25
        if reading.cpu >= policy.cpu_busy and not idle:
            return self.admit_pct  # the machine is full: grow only once the hub idles
        step = policy.idle_step_pct if idle else policy.step_pct
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
        if reading.hub_slow_refusals > 0:
            return "workers refused calls the hub answered too late"
        if reading.hub_stale > 0:
            return "the hub dropped offers it could not answer in time"
        if reading.hub_p90_s is not None and reading.hub_p90_s > self.policy.target_s:
            return f"the hub answers new calls in {reading.hub_p90_s:.1f}s (p90)"
        lag = reading.hub_lag_p90_s
        if lag is not None and lag > self.policy.lag_target_s:
            return f"the hub is {lag:.1f}s behind on calls' events (p90)"
        return ""
