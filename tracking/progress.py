"""A walker's progress and how one fix advances it. Pure: the pipeline keeps the state.

The step for one fix, in order: match to the route (unless the fix is flagged), keep progress
from going backwards, detect check-in points passed, track off-route time (with hysteresis),
standing still, and recent pace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from routes.geodesy import distance_m
from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn, Passage, detect_passages
from tracking.fixes import Fix
from tracking.matching import Anchor, match_fix, off_route_m
from tracking.validation import Limits, quality_flags

PACE_WINDOW = timedelta(minutes=20)
MIN_PACE_SPAN_S = 180.0
STILL_RADIUS_M = 50.0


@dataclass(frozen=True)
class StepParams:
    radius_m: float
    max_speed_mps: float
    off_route_m: float
    back_on_route_m: float
    off_route_after: timedelta
    limits: Limits


@dataclass(frozen=True)
class Progress:
    distance_along_m: float = 0.0
    offset_m: float | None = None
    anchor: Anchor | None = None
    passage: Passage | None = None
    last_fix: Fix | None = None
    last_good_fix: Fix | None = None
    recent: tuple[tuple[datetime, float], ...] = ()
    off_route: bool = False
    off_route_since: datetime | None = None
    still_since: datetime | None = None
    still_at: tuple[float, float] | None = None
    checked: frozenset[str] = frozenset()

    @property
    def pace_mps(self) -> float | None:
        """Speed along the route over the last 20 minutes (rests included), once 3 min are known."""
        if len(self.recent) < 2:
            return None
        (t0, d0), (t1, d1) = self.recent[0], self.recent[-1]
        span = (t1 - t0).total_seconds()
        return (d1 - d0) / span if span >= MIN_PACE_SPAN_S else None


@dataclass(frozen=True)
class Step:
    progress: Progress
    checkins: tuple[CheckIn, ...]
    flags: tuple[str, ...]
    became_off_route: bool


def advance(progress: Progress, route: PreparedRoute | None, fix: Fix, params: StepParams) -> Step:
    """The new progress after `fix` (which is not older than `progress.last_fix`)."""
    flags = quality_flags(fix, progress.last_good_fix, params.limits)
    progress = _still(replace(progress, last_fix=fix), fix)
    if flags:
        return Step(progress, (), flags, False)
    if route is None:
        return Step(_walked(progress, fix), (), flags, False)
    x, y = route.to_xy(fix.lon, fix.lat)
    match = match_fix(
        route, x, y, fix.recorded_at, fix.accuracy_m, progress.anchor, params.max_speed_mps
    )
    offset = off_route_m(route, x, y)
    along = progress.distance_along_m
    anchor = progress.anchor
    if match.offset_m <= params.off_route_m or anchor is None:
        along = max(along, match.distance_along_m)
        anchor = Anchor(along, fix.recorded_at)
    passage = Passage(x, y, fix.recorded_at, along)
    checkins = detect_passages(route, progress.passage, passage, params.radius_m, progress.checked)
    was_off = progress.off_route
    progress = _off_route(progress, offset, fix.recorded_at, params)
    progress = replace(
        progress,
        distance_along_m=along,
        offset_m=offset,
        anchor=anchor,
        passage=passage,
        last_good_fix=fix,
        recent=_recent(progress.recent, fix.recorded_at, along),
        checked=progress.checked | {c.checkpoint_id for c in checkins},
    )
    return Step(progress, checkins, flags, progress.off_route and not was_off)


def _walked(progress: Progress, fix: Fix) -> Progress:
    """Distance walked with no route to follow: count a move only once it exceeds the noise.

    GPS jitter around a standing walker would otherwise add up; moves are measured between
    anchor points at least max(20 m, accuracy) apart.
    """
    if progress.passage is None:
        anchor = Passage(fix.lon, fix.lat, fix.recorded_at, 0.0)
        return replace(
            progress, passage=anchor, last_good_fix=fix, anchor=Anchor(0.0, fix.recorded_at)
        )
    a = progress.passage
    moved = distance_m(a.x, a.y, fix.lon, fix.lat)
    if moved < max(20.0, min(fix.accuracy_m or 10.0, 100.0)):
        return replace(progress, last_good_fix=fix)
    along = progress.distance_along_m + moved
    return replace(
        progress,
        distance_along_m=along,
        passage=Passage(fix.lon, fix.lat, fix.recorded_at, along),
        last_good_fix=fix,
        anchor=Anchor(along, fix.recorded_at),
        recent=_recent(progress.recent, fix.recorded_at, along),
    )


def _off_route(progress: Progress, offset: float, at: datetime, params: StepParams) -> Progress:
    """Off route after `off_route_after` beyond `off_route_m`; back only within `back_on_route_m`."""
    if offset > params.off_route_m:
        since = progress.off_route_since or at
        return replace(
            progress,
            off_route_since=since,
            off_route=progress.off_route or at - since >= params.off_route_after,
        )
    if offset <= params.back_on_route_m:
        return replace(progress, off_route_since=None, off_route=False)
    return progress


def _still(progress: Progress, fix: Fix) -> Progress:
    if progress.still_at is not None:
        moved = distance_m(progress.still_at[0], progress.still_at[1], fix.lon, fix.lat)
        if moved <= STILL_RADIUS_M + min(fix.accuracy_m or 0.0, 50.0):
            return progress
    return replace(progress, still_since=fix.recorded_at, still_at=(fix.lon, fix.lat))


def _recent(
    recent: tuple[tuple[datetime, float], ...], at: datetime, along: float
) -> tuple[tuple[datetime, float], ...]:
    kept = tuple(r for r in recent if at - r[0] <= PACE_WINDOW)
    return (*kept, (at, along))


def replay(
    route: PreparedRoute | None, fixes: list[Fix], params: StepParams, start: Progress | None = None
) -> tuple[Progress, list[CheckIn]]:
    """Progress and check-ins from a walker's history (fixes in time order), from `start`."""
    progress = start or Progress()
    found: list[CheckIn] = []
    for fix in fixes:
        step = advance(progress, route, fix, params)
        progress = step.progress
        found.extend(step.checkins)
    return progress, found
