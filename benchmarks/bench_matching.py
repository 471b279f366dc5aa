"""Matching: fixes per second on the 40 km route, against a per-fix shapely baseline.

The fixes are simulated walkers (correlated GPS noise, sigma 10 m, one fix every 10 s), cut
into 2,000 walkers with 50 fixes each (100,000 fixes; a tenth with --quick), sent in rounds as
the engine sends them: one fix per walker per round. Each method is also scored on how far
its answer lies from the walker's true progress:

- baseline: per fix, project to the local plane and `shapely.LineString.project` onto the
  whole line (plus `distance` for the offset), as a simple tracker would;
- batched kernel: `tracking.matching.match_windows`, every walker's fix of a round at once,
  each in its own window from the walker's anchor (projection included);
- whole step, batched: `tracking.progress.step_round` per round: quality flags, the kernel,
  the whole-route search where a fix may be off route, check-in detection, off-route state,
  standing still and pace: everything the engine does for a fix except storage;
- whole step, one fix a call: the same `step_round` with one fix at a time (what batching saves).

Times are this process's CPU time (`time.process_time`), not wall time: other processes on
a shared machine then change the figures much less.

Run: python -m benchmarks.bench_matching [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import shapely

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tracking.fixes import Fix
from tracking.matching import Anchor, match_windows, windows
from tracking.progress import StepParams, step_round
from tracking.simulation import SimFix, simulate, varied_plans
from tracking.storage.base import WalkerRecord
from tracking.validation import Limits
from tracking.walker_state import WalkerState

MAX_SPEED_MPS = 15 / 3.6


@dataclass(frozen=True)
class Result:
    name: str
    fixes: int
    seconds: float
    errors_m: np.ndarray  # |progress - truth| per fix

    @property
    def rate(self) -> float:
        return self.fixes / self.seconds


FIXES_PER_WALKER = 50


def walkers(route: PreparedRoute, n_fixes: int, seed: int = 1) -> list[list[SimFix]]:
    """Walkers of FIXES_PER_WALKER fixes each, cut from whole simulated walks."""
    out: list[list[SimFix]] = []
    start = datetime(2023, 10, 8, 8, 0, tzinfo=UTC)
    plans = varied_plans(8, start, seed=seed)
    k = 0
    while len(out) * FIXES_PER_WALKER < n_fixes:
        walk = simulate(route, plans[k % len(plans)], interval_s=10, sigma_m=10, seed=seed + k)
        for i in range(1, len(walk) - FIXES_PER_WALKER, FIXES_PER_WALKER):
            out.append(walk[i - 1 : i + FIXES_PER_WALKER])  # one fix of history, then 50
        k += 1
    return out[: n_fixes // FIXES_PER_WALKER]


def step_params() -> StepParams:
    far = datetime(2100, 1, 1, tzinfo=UTC)
    limits = Limits(
        now=far,
        not_before=datetime(2023, 10, 7, 22, tzinfo=UTC),
        future_tolerance_s=300,
        max_accuracy_m=100,
        max_speed_kmh=15,
    )
    return StepParams(
        radius_m=75,
        max_speed_mps=MAX_SPEED_MPS,
        off_route_m=100,
        back_on_route_m=60,
        off_route_after_s=180.0,
        limits=limits,
    )


def as_fixes(walk: list[SimFix]) -> list[Fix]:
    return [Fix(f.at, f.lat, f.lon, "bench", accuracy_m=f.accuracy_m) for f in walk]


def baseline(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    line = shapely.LineString(np.column_stack([route.xs, route.ys]))
    scale = route.length_m / line.length  # shapely measures in the plane; cum_m is geodesic
    errors = []
    t0 = time.process_time()
    for walk in walks:
        for f in walk[1:]:
            x, y = route.to_xy(f.lon, f.lat)
            point = shapely.Point(x, y)
            along = line.project(point) * scale
            line.distance(point)  # the offset, which a tracker needs too
            errors.append(along - f.true_along_m)
    seconds = time.process_time() - t0
    return Result(
        "shapely project per fix (baseline)", len(errors), seconds, np.abs(np.array(errors))
    )


def kernel(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    """Rounds of `match_windows` over every walker, anchors carried from round to round."""
    n = len(walks)
    lons = np.array([[f.lon for f in w] for w in walks])
    lats = np.array([[f.lat for f in w] for w in walks])
    ts = np.array([[f.at.timestamp() for f in w] for w in walks])
    acc = np.array([[f.accuracy_m or np.nan for f in w] for w in walks])
    truth = np.array([[f.true_along_m for f in w] for w in walks])
    anchor_m, anchor_t = truth[:, 0].copy(), ts[:, 0].copy()
    errors = []
    t0 = time.process_time()
    for k in range(1, FIXES_PER_WALKER + 1):
        x, y = route.projection.to_xy(lons[:, k], lats[:, k])
        lo, hi, prefer = windows(anchor_m, ts[:, k] - anchor_t, acc[:, k], MAX_SPEED_MPS)
        m = match_windows(route, x, y, lo, hi, prefer)
        anchor_m = np.maximum(anchor_m, m.distance_along_m)
        anchor_t = ts[:, k]
        errors.append(anchor_m - truth[:, k])
    seconds = time.process_time() - t0
    return Result(
        "batched kernel: matching.match_windows",
        n * FIXES_PER_WALKER,
        seconds,
        np.abs(np.concatenate(errors)),
    )


def _states(route: PreparedRoute, walks: list[list[SimFix]]) -> list[WalkerState]:
    states = []
    for i, walk in enumerate(walks):
        state = WalkerState(WalkerRecord(f"w{i}", f"t{i}", "W", "40km"), route)
        first = as_fixes(walk[:1])[0]
        state.progress.anchor = Anchor(walk[0].true_along_m, first.ts)
        state.progress.distance_along_m = walk[0].true_along_m
        state.progress.last_fix = state.progress.last_good_fix = first
        states.append(state)
    return states


def step_batched(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    return _step(route, walks, "whole step, batched: progress.step_round per round", batched=True)


def step_single(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    return _step(route, walks, "whole step, one fix a call: progress.step_round", batched=False)


def _step(route: PreparedRoute, walks: list[list[SimFix]], name: str, batched: bool) -> Result:
    params = step_params()
    fixes = [as_fixes(w) for w in walks]
    states = _states(route, walks)
    errors = []
    seconds = 0.0
    for k in range(1, FIXES_PER_WALKER + 1):
        items = [(s, f[k]) for s, f in zip(states, fixes, strict=True)]
        t0 = time.process_time()
        if batched:
            step_round(items, params)
        else:
            for item in items:
                step_round([item], params)
        seconds += time.process_time() - t0
        errors += [
            s.progress.distance_along_m - w[k].true_along_m
            for s, w in zip(states, walks, strict=True)
        ]
    return Result(name, len(errors), seconds, np.abs(np.array(errors)))


METHODS: tuple[Callable[[PreparedRoute, list[list[SimFix]]], Result], ...] = (
    baseline,
    kernel,
    step_batched,
    step_single,
)


def table(results: list[Result], n_fixes: int) -> str:
    base = results[0].rate
    lines = [
        f"Matching {n_fixes:,} fixes on the 40 km route ({n_fixes // FIXES_PER_WALKER:,} "
        "simulated walkers in rounds, sigma 10 m, 10 s)",
        "",
        "| method | fixes/s | vs baseline | median error m | p99 error m | wrong pass (>1 km) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        wrong = float(np.mean(r.errors_m > 1000)) * 100
        lines.append(
            f"| {r.name} | {r.rate:,.0f} | {r.rate / base:.2f}x | "
            f"{np.median(r.errors_m):.1f} | {np.percentile(r.errors_m, 99):.1f} | {wrong:.2f} % |"
        )
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    event = load_event(event_path("antwerp-2023"))
    route = event.routes["40km"].route
    n = 10_000 if quick else 100_000
    walks = walkers(route, n)
    results = [method(route, walks) for method in METHODS]
    return table(results, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 fixes instead of 100,000")
    print(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
