"""Simulated walkers: where they truly are, and what their phones report. Pure (seeded RNG).

Used by the demo, the load generator, the end-to-end tests and the benchmarks. GPS noise is
correlated in time (a first-order autoregressive process), as real phone errors are: a
walker's reported position drifts around the truth rather than jumping independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from routes.prepared import PreparedRoute


@dataclass(frozen=True)
class WalkerPlan:
    """How one simulated walker behaves."""

    pace_mps: float
    start_at: datetime
    rest_s: float = 0.0  # rest at each rest stop
    detour_at_m: float | None = None  # leaves the route here for `detour_s`...
    detour_s: float = 0.0
    detour_offset_m: float = 250.0  # ...and walks this far beside it
    silent_after_m: float | None = None  # the phone stops sending here
    sos_at_m: float | None = None


@dataclass(frozen=True)
class SimFix:
    at: datetime
    true_along_m: float
    true_lon: float
    true_lat: float
    lon: float
    lat: float
    accuracy_m: float
    sos: bool = False


@dataclass
class Noise:
    """AR(1) noise in metres: x[t+1] = a·x[t] + sqrt(1-a²)·σ·N(0,1), correlation time `tau_s`."""

    sigma_m: float
    tau_s: float
    rng: np.random.Generator
    state: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def step(self, dt_s: float) -> tuple[float, float]:
        a = math.exp(-dt_s / self.tau_s) if self.tau_s > 0 else 0.0
        self.state = a * self.state + math.sqrt(1 - a * a) * self.sigma_m * self.rng.normal(size=2)
        return float(self.state[0]), float(self.state[1])


def true_along(route: PreparedRoute, plan: WalkerPlan, elapsed_s: float) -> float:
    """Metres along the route after `elapsed_s`, with rests at the rest stops."""
    rests = sorted(cp.distance_along_m for cp in route.checkpoints if cp.kind == "rest")
    remaining = elapsed_s
    along = 0.0
    for rest_at in [*rests, math.inf]:
        to_rest = (min(rest_at, route.length_m) - along) / plan.pace_mps
        if remaining <= to_rest or rest_at == math.inf:
            return min(route.length_m, along + remaining * plan.pace_mps)
        remaining -= to_rest + plan.rest_s
        along = rest_at
        if remaining <= 0:
            return along
    return route.length_m


def simulate(
    route: PreparedRoute,
    plan: WalkerPlan,
    interval_s: float = 10.0,
    sigma_m: float = 10.0,
    tau_s: float = 60.0,
    seed: int = 0,
    until: datetime | None = None,
) -> list[SimFix]:
    """The fixes one walker's phone reports, from start to finish (or `until`)."""
    rng = np.random.default_rng(seed)
    noise = Noise(sigma_m, tau_s, rng)
    fixes: list[SimFix] = []
    elapsed = 0.0
    sos_sent = False
    while True:
        at = plan.start_at + timedelta(seconds=elapsed)
        if until is not None and at > until:
            break
        along = true_along(route, plan, elapsed)
        if plan.silent_after_m is not None and along >= plan.silent_after_m:
            break
        x, y = true_xy(route, plan, along, elapsed)
        nx, ny = noise.step(interval_s)
        lon, lat = route.projection.to_lonlat(np.array([x + nx]), np.array([y + ny]))
        tlon, tlat = route.projection.to_lonlat(np.array([x]), np.array([y]))
        sos = plan.sos_at_m is not None and along >= plan.sos_at_m and not sos_sent
        sos_sent = sos_sent or sos
        accuracy = max(3.0, sigma_m * float(rng.uniform(0.8, 1.6)))
        fixes.append(
            SimFix(
                at,
                along,
                float(tlon[0]),
                float(tlat[0]),
                float(lon[0]),
                float(lat[0]),
                round(accuracy, 1),
                sos,
            )
        )
        if along >= route.length_m:
            break
        elapsed += interval_s
    return fixes


def true_xy(
    route: PreparedRoute, plan: WalkerPlan, along: float, elapsed: float
) -> tuple[float, float]:
    """The true position: on the route, or beside it during a detour."""
    xs, ys = route.xs, route.ys
    x = float(np.interp(along, route.cum_m, xs))
    y = float(np.interp(along, route.cum_m, ys))
    if plan.detour_at_m is None or along < plan.detour_at_m:
        return x, y
    started = _time_at(route, plan, plan.detour_at_m)
    if not (0 <= elapsed - started <= plan.detour_s):
        return x, y
    i = max(1, int(np.searchsorted(route.cum_m, along)))
    i = min(i, len(xs) - 1)
    dx, dy = xs[i] - xs[i - 1], ys[i] - ys[i - 1]
    norm = math.hypot(dx, dy) or 1.0
    return x - dy / norm * plan.detour_offset_m, y + dx / norm * plan.detour_offset_m


def _time_at(route: PreparedRoute, plan: WalkerPlan, along: float) -> float:
    """Seconds after the start at which the walker reaches `along` (bisection on `true_along`)."""
    lo, hi = 0.0, 48 * 3600.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if true_along(route, plan, mid) < along:
            lo = mid
        else:
            hi = mid
    return hi


def varied_plans(
    n: int, start_at: datetime, seed: int = 0, rest_s: float = 600.0
) -> list[WalkerPlan]:
    """n walkers with realistic, varied paces (3.5–6.5 km/h) and starts spread over 10 minutes."""
    rng = np.random.default_rng(seed)
    paces = np.clip(rng.normal(4.8, 0.6, n), 3.5, 6.5) / 3.6
    offsets = rng.uniform(0, 600, n)
    return [
        WalkerPlan(float(p), start_at + timedelta(seconds=float(o)), rest_s=rest_s)
        for p, o in zip(paces, offsets, strict=True)
    ]
