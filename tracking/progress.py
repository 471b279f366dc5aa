"""How fixes advance walkers' progress, for many walkers at once. Pure: no I/O, no clock.

A round holds at most one fix per walker, each newer than that walker's last. In order:
quality flags (poor accuracy, impossible speed), a batched windowed match per route, then for
each fix the small fold that keeps progress from going backwards, detects check-in points
passed, tracks off-route time (with hysteresis), standing still and the pace window.
The whole route is searched only for fixes whose windowed match is farther than
`back_on_route_m`: those may be off route, and the off-route distance must not depend on
where the walker was.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn, Passage, detect_passages
from tracking.fixes import Fix
from tracking.matching import Anchor, match_windows, nearest_offset, windows
from tracking.validation import Limits, quality_flags, quick_distance_m
from tracking.walker_state import Progress, WalkerState

STILL_RADIUS_M = 50.0


@dataclass(frozen=True)
class StepParams:
    radius_m: float
    max_speed_mps: float
    off_route_m: float
    back_on_route_m: float
    off_route_after_s: float
    limits: Limits


class Step(NamedTuple):
    """What one fix did: how it is stored, and what it revealed."""

    flags: tuple[str, ...]
    distance_along_m: float | None  # stored with the fix when it was matched
    offset_m: float | None
    checkins: tuple[CheckIn, ...] = ()
    became_off_route: bool = False


def step_round(items: Sequence[tuple[WalkerState, Fix]], params: StepParams) -> list[Step]:
    """Advance each walker by its fix (one fix per walker, newer than its last)."""
    flags = [quality_flags(f, s.progress.last_good_fix, params.limits) for s, f in items]
    n = len(items)
    along, window_off, offset, xs, ys = (np.full(n, np.nan) for _ in range(5))
    for route, rows in _by_route(items, flags).items():
        m = _match(route, [items[i] for i in rows], params)
        along[rows], window_off[rows], offset[rows], xs[rows], ys[rows] = m
    return [
        _fold(state, fix, f, a, w, o, x, y, params)
        for (state, fix), f, a, w, o, x, y in zip(
            items,
            flags,
            along.tolist(),
            window_off.tolist(),
            offset.tolist(),
            xs.tolist(),
            ys.tolist(),
            strict=True,
        )
    ]


def _by_route(
    items: Sequence[tuple[WalkerState, Fix]], flags: list[tuple[str, ...]]
) -> dict[PreparedRoute, list[int]]:
    groups: dict[PreparedRoute, list[int]] = {}
    for i, (state, _) in enumerate(items):
        if state.route is not None and not flags[i]:
            groups.setdefault(state.route, []).append(i)
    return groups


def _match(
    route: PreparedRoute, items: list[tuple[WalkerState, Fix]], params: StepParams
) -> tuple[np.ndarray, ...]:
    """Windowed match of one route's fixes; the whole route only where they may be off it.

    Returns (along, windowed offset, offset from the whole route, x, y) per fix.
    """
    n = len(items)
    lons = np.fromiter((f.lon for _, f in items), float, n)
    lats = np.fromiter((f.lat for _, f in items), float, n)
    ts = np.fromiter((f.ts for _, f in items), float, n)
    acc = np.fromiter(
        (np.nan if f.accuracy_m is None else f.accuracy_m for _, f in items), float, n
    )
    anchors = [s.progress.anchor for s, _ in items]
    anchor_m = np.fromiter((np.nan if a is None else a.distance_along_m for a in anchors), float, n)
    anchor_t = np.fromiter((0.0 if a is None else a.ts for a in anchors), float, n)
    x, y = route.projection.to_xy(lons, lats)
    lo, hi, prefer = windows(anchor_m, ts - anchor_t, acc, params.max_speed_mps)
    matched = match_windows(route, x, y, lo, hi, prefer)
    offset = matched.offset_m.copy()
    far = np.flatnonzero(offset > params.back_on_route_m)
    if len(far):
        offset[far] = nearest_offset(route, x[far], y[far])
    return matched.distance_along_m, matched.offset_m, offset, x, y


def _fold(
    state: WalkerState,
    fix: Fix,
    flags: tuple[str, ...],
    matched_m: float,
    window_offset_m: float,
    offset_m: float,
    x: float,
    y: float,
    params: StepParams,
) -> Step:
    """One walker's state after one fix, given its match."""
    p = state.progress
    p.last_fix = fix
    _still(p, fix)
    if flags:
        return Step(flags, None, None)
    p.last_good_fix = fix
    route = state.route
    if route is None:
        _walked(p, fix)
        return Step((), p.distance_along_m, None)
    along = p.distance_along_m
    if window_offset_m <= params.off_route_m or p.anchor is None:
        if matched_m > along:
            along = matched_m
        p.anchor = Anchor(along, fix.ts)
    passage = Passage(x, y, fix.recorded_at, along)
    checkins: tuple[CheckIn, ...] = ()
    before = p.passage or passage
    lo = min(before.distance_along_m, along) - params.radius_m
    if route.checkpoints and may_pass_checkpoint(route, lo, along + params.radius_m):
        checkins = detect_passages(route, p.passage, passage, params.radius_m, p.checked)
        if checkins:
            p.checked = p.checked | {c.checkpoint_id for c in checkins}
    became_off = False
    if offset_m > params.back_on_route_m or p.off_route_since is not None:  # else nothing changes
        became_off = _off_route(p, offset_m, fix, params)
    p.distance_along_m = along
    p.offset_m = offset_m
    p.passage = passage
    p.add_pace_sample(fix.ts, along)
    return Step((), along, offset_m, checkins, became_off)


def _walked(p: Progress, fix: Fix) -> None:
    """Distance walked with no route to follow: count a move only once it exceeds the noise.

    GPS jitter around a standing walker would otherwise add up; moves are measured between
    anchor points at least max(20 m, accuracy) apart.
    """
    if p.passage is None:
        p.passage = Passage(fix.lon, fix.lat, fix.recorded_at, 0.0)
        p.anchor = Anchor(0.0, fix.ts)
        return
    a = p.passage
    moved = quick_distance_m(a.x, a.y, fix.lon, fix.lat)
    if moved < max(20.0, min(fix.accuracy_m or 10.0, 100.0)):
        return
    along = p.distance_along_m + moved
    p.distance_along_m = along
    p.passage = Passage(fix.lon, fix.lat, fix.recorded_at, along)
    p.anchor = Anchor(along, fix.ts)
    p.add_pace_sample(fix.ts, along)


def _off_route(p: Progress, offset: float, fix: Fix, params: StepParams) -> bool:
    """Off route after `off_route_after_s` beyond `off_route_m`; back only within
    `back_on_route_m`. True when the walker just became off route."""
    if offset > params.off_route_m:
        if p.off_route_since is None:
            p.off_route_since = fix.recorded_at
        if not p.off_route and fix.ts - p.off_route_since.timestamp() >= params.off_route_after_s:
            p.off_route = True
            return True
    elif offset <= params.back_on_route_m:
        p.off_route_since = None
        p.off_route = False
    return False


def _still(p: Progress, fix: Fix) -> None:
    if p.still_at is not None:
        moved = quick_distance_m(p.still_at[0], p.still_at[1], fix.lon, fix.lat)
        if moved <= STILL_RADIUS_M + min(fix.accuracy_m or 0.0, 50.0):
            return
    p.still_since = fix.recorded_at
    p.still_at = (fix.lon, fix.lat)


@lru_cache(maxsize=256)
def checkpoint_alongs(route: PreparedRoute) -> list[float]:
    return sorted(c.distance_along_m for c in route.checkpoints)


def may_pass_checkpoint(route: PreparedRoute, lo_m: float, hi_m: float) -> bool:
    """Is any check-in point between lo and hi metres along? (a cheap test before the exact one)"""
    alongs = checkpoint_alongs(route)
    i = bisect_left(alongs, lo_m)
    return i < len(alongs) and alongs[i] <= hi_m
