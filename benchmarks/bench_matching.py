"""Matching: fixes per second on the 40 km route, against a per-fix shapely baseline.

The fixes are simulated walkers (correlated GPS noise, sigma 10 m, one fix every 10 s), so
each method is also scored on how far its answer lies from the walker's true progress:

- baseline: per fix, project to the local plane and `shapely.LineString.project` onto the
  whole line (plus `distance` for the offset), as a simple tracker would;
- Tracker path: `tracking.progress.advance`, fix by fix per walker: quality flags, windowed
  match, off-route distance, check-in detection, standing still, pace;
- windowed match only: `tracking.matching.match_fix` with the walker's last anchor;
- vectorised: `PreparedRoute.locate_many` on the whole batch (unconstrained nearest).

Run: python -m benchmarks.bench_matching [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tracking.fixes import Fix
from tracking.matching import Anchor, match_fix
from tracking.progress import Progress, StepParams, advance
from tracking.simulation import SimFix, simulate, varied_plans
from tracking.validation import Limits

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


def walkers(route: PreparedRoute, n_fixes: int, seed: int = 1) -> list[list[SimFix]]:
    """Whole walks on `route` until `n_fixes` fixes are gathered (the last walk cut short)."""
    out: list[list[SimFix]] = []
    total = 0
    start = datetime(2023, 10, 8, 8, 0, tzinfo=UTC)
    plans = varied_plans(max(4, n_fixes // 2500 + 2), start, seed=seed)
    k = 0
    while total < n_fixes:
        walk = simulate(route, plans[k % len(plans)], interval_s=10, sigma_m=10, seed=seed + k)
        walk = walk[: n_fixes - total]
        out.append(walk)
        total += len(walk)
        k += 1
    return out


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
        off_route_after=timedelta(minutes=3),
        limits=limits,
    )


def as_fixes(walk: list[SimFix]) -> list[Fix]:
    return [Fix(f.at, f.lat, f.lon, "bench", accuracy_m=f.accuracy_m) for f in walk]


def baseline(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    line = shapely.LineString(np.column_stack([route.xs, route.ys]))
    scale = route.length_m / line.length  # shapely measures in the plane; cum_m is geodesic
    errors = []
    t0 = time.perf_counter()
    for walk in walks:
        for f in walk:
            x, y = route.to_xy(f.lon, f.lat)
            point = shapely.Point(x, y)
            along = line.project(point) * scale
            line.distance(point)  # the offset, which a tracker needs too
            errors.append(along - f.true_along_m)
    seconds = time.perf_counter() - t0
    return Result(
        "shapely project per fix (baseline)", len(errors), seconds, np.abs(np.array(errors))
    )


def tracker_path(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    params = step_params()
    fixes = [as_fixes(w) for w in walks]
    errors = []
    t0 = time.perf_counter()
    for walk, sims in zip(fixes, walks, strict=True):
        progress = Progress()
        for fix, sim in zip(walk, sims, strict=True):
            progress = advance(progress, route, fix, params).progress
            errors.append(progress.distance_along_m - sim.true_along_m)
    seconds = time.perf_counter() - t0
    return Result(
        "Tracker path: progress.advance per fix", len(errors), seconds, np.abs(np.array(errors))
    )


def windowed(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    errors = []
    t0 = time.perf_counter()
    for walk in walks:
        anchor = None
        for f in walk:
            x, y = route.to_xy(f.lon, f.lat)
            match = match_fix(route, x, y, f.at, f.accuracy_m, anchor, MAX_SPEED_MPS)
            along = max(anchor.distance_along_m if anchor else 0.0, match.distance_along_m)
            anchor = Anchor(along, f.at)
            errors.append(along - f.true_along_m)
    seconds = time.perf_counter() - t0
    return Result(
        "matching.match_fix per fix (windowed)", len(errors), seconds, np.abs(np.array(errors))
    )


def vectorised(route: PreparedRoute, walks: list[list[SimFix]]) -> Result:
    flat = [f for w in walks for f in w]
    lons = np.array([f.lon for f in flat])
    lats = np.array([f.lat for f in flat])
    truth = np.array([f.true_along_m for f in flat])
    t0 = time.perf_counter()
    out = route.locate_many(lons, lats)
    seconds = time.perf_counter() - t0
    return Result(
        "PreparedRoute.locate_many (vectorised)", len(flat), seconds, np.abs(out[:, 0] - truth)
    )


METHODS: tuple[Callable[[PreparedRoute, list[list[SimFix]]], Result], ...] = (
    baseline,
    tracker_path,
    windowed,
    vectorised,
)


def table(results: list[Result], n_fixes: int) -> str:
    base = results[0].rate
    lines = [
        f"Matching {n_fixes:,} fixes on the 40 km route (simulated walkers, sigma 10 m, 10 s)",
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
