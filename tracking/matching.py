"""Matching a fix to the route: progress in metres, with the walker's past as a guide.

Routes pass the same place twice (start and finish, shared valleys, out-and-back stretches),
so a fix is searched only where the walker can be: from a little behind their last progress
to as far as a fast walker gets in the time since. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routes.prepared import PreparedRoute, RouteMatch

BEHIND_SLACK_M = 40.0
AHEAD_SLACK_M = 80.0
TYPICAL_PACE_MPS = 1.3  # to choose between near-equal candidates: where the walker likely is


@dataclass(frozen=True)
class Anchor:
    """The last confident match: where progress stood and when."""

    distance_along_m: float
    at: datetime


def match_fix(
    route: PreparedRoute,
    x: float,
    y: float,
    at: datetime,
    accuracy_m: float | None,
    anchor: Anchor | None,
    max_speed_mps: float,
) -> RouteMatch:
    """Where on the route a fix at projected (x, y) lies, given the walker's last anchor."""
    if anchor is None:
        return route.locate_xy(x, y, prefer="first")
    dt = max(0.0, (at - anchor.at).total_seconds())
    accuracy = min(accuracy_m or 10.0, 100.0)
    lo = anchor.distance_along_m - BEHIND_SLACK_M - accuracy
    hi = anchor.distance_along_m + max_speed_mps * dt + AHEAD_SLACK_M + accuracy
    expected = anchor.distance_along_m + TYPICAL_PACE_MPS * dt
    return route.locate_xy(x, y, lo, hi, prefer=expected)


def off_route_m(route: PreparedRoute, x: float, y: float) -> float:
    """Distance from the route wherever it is nearest (not only near the walker's progress)."""
    return route.locate_xy(x, y).offset_m
