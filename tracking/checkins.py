"""Check-ins: detected from the stream of fixes, or asked for by the walker. Pure functions.

A check-in point counts as passed when the segment between two consecutive fixes comes
within its radius, even if no fix falls inside, and only near the progress where the route
passes it (start and finish share a place).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from routes.checkpoints import Checkpoint
from routes.prepared import PreparedRoute


@dataclass(frozen=True)
class CheckIn:
    checkpoint_id: str
    at: datetime
    source: str  # "auto" (from the stream) or "manual" (the walker's button)
    out_of_order: bool = False


class Passage(NamedTuple):
    """One position of the walker as the detector sees it (projected, with progress).

    A named tuple, not a dataclass: one is made per fix, and this is five times cheaper.
    """

    x: float
    y: float
    at: datetime
    distance_along_m: float


@dataclass(frozen=True)
class TooFar:
    """A manual check-in away from every check-in point: the next point along the route that
    the walker has not checked in at, and how far it is along the route (the way they walk)."""

    checkpoint: Checkpoint
    distance_m: float


# A manual check-in is placed on the route no further back than this behind the walker's
# progress (start and finish share a place; a route may pass a spot twice).
BEHIND_PROGRESS_M = 500.0


def _closest_on_segment(px: float, py: float, a: Passage, b: Passage) -> tuple[float, float]:
    """(distance, fraction along a→b) of the closest approach to (px, py)."""
    dx, dy = b.x - a.x, b.y - a.y
    len2 = dx * dx + dy * dy
    t = 0.0 if len2 == 0 else max(0.0, min(1.0, ((px - a.x) * dx + (py - a.y) * dy) / len2))
    return math.hypot(a.x + t * dx - px, a.y + t * dy - py), t


def detect_passages(
    route: PreparedRoute,
    previous: Passage | None,
    current: Passage,
    radius_m: float,
    done: frozenset[str],
) -> tuple[CheckIn, ...]:
    """Check-in points passed between `previous` and `current` (not already in `done`)."""
    start = previous or current
    lo = min(start.distance_along_m, current.distance_along_m) - radius_m
    hi = max(start.distance_along_m, current.distance_along_m) + radius_m
    found = []
    for cp in route.checkpoints:
        if cp.id in done or not (lo <= cp.distance_along_m <= hi):
            continue
        dist, t = _closest_on_segment(cp.x_m, cp.y_m, start, current)
        if dist <= radius_m:
            at = start.at + timedelta(seconds=t * (current.at - start.at).total_seconds())
            found.append(CheckIn(cp.id, at, "auto", _out_of_order(route, cp, done)))
    return tuple(found)


def _out_of_order(route: PreparedRoute, cp: Checkpoint, done: frozenset[str]) -> bool:
    return any(c.id in done and c.distance_along_m > cp.distance_along_m for c in route.checkpoints)


def manual_checkin(
    route: PreparedRoute,
    lon: float,
    lat: float,
    accuracy_m: float,
    at: datetime,
    radius_m: float,
    accuracy_cap_m: float,
    progress_m: float,
    done: frozenset[str],
) -> CheckIn | TooFar:
    """The walker's button: a check-in when within the radius (plus capped accuracy)."""
    x, y = route.to_xy(lon, lat)
    reach = radius_m + min(max(accuracy_m, 0.0), accuracy_cap_m)
    distances = [(math.hypot(cp.x_m - x, cp.y_m - y), cp) for cp in route.checkpoints]
    inside = [(d, cp) for d, cp in distances if d <= reach]
    if inside:
        # Start and finish share a place: take the point nearest to the walker's progress.
        _, cp = min(inside, key=lambda dc: abs(dc[1].distance_along_m - progress_m))
        return CheckIn(cp.id, at, "manual", _out_of_order(route, cp, done))
    return too_far(route, lon, lat, progress_m, done, distances, reach)


def too_far(
    route: PreparedRoute,
    lon: float,
    lat: float,
    progress_m: float,
    done: frozenset[str],
    distances: list[tuple[float, Checkpoint]],
    reach_m: float,
) -> TooFar:
    """The next point ahead along the route and its distance by the route (never less than
    as the crow flies, for a walker beside the route); past every point still to do, the
    nearest of them. A point just behind, within reach, still counts as ahead."""
    here = route.locate(lon, lat, lo_m=max(0.0, progress_m - BEHIND_PROGRESS_M), prefer=progress_m)
    ahead = route.next_checkpoint(here.distance_along_m - reach_m, done)
    if ahead is not None:
        crow = next(d for d, cp in distances if cp.id == ahead.id)
        return TooFar(ahead, max(ahead.distance_along_m - here.distance_along_m, crow))
    left = [(d, cp) for d, cp in distances if cp.id not in done] or distances
    dist, cp = min(left, key=lambda dc: dc[0])
    return TooFar(cp, dist)


def region_checkin(
    route: PreparedRoute,
    region: str,
    lon: float,
    lat: float,
    accuracy_m: float,
    at: datetime,
    radius_m: float,
    accuracy_cap_m: float,
    done: frozenset[str],
) -> CheckIn | None:
    """The phone says it entered a check-in point's region (OwnTracks `transition`): a check-in
    when its position bears it out, by the same radius and order rules as a fix."""
    cp = next((c for c in route.checkpoints if region in (c.id, c.name)), None)
    if cp is None or cp.id in done:
        return None
    x, y = route.to_xy(lon, lat)
    reach = radius_m + min(max(accuracy_m, 0.0), accuracy_cap_m)
    if math.hypot(cp.x_m - x, cp.y_m - y) > reach:
        return None
    return CheckIn(cp.id, at, "region", _out_of_order(route, cp, done))
