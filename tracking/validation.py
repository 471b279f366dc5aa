"""Which fixes are refused outright (`reject_*`: a reason or None) and which are kept but flagged.

Refused fixes are not stored; flagged fixes are stored but do not move progress.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from routes.geodesy import distance_m
from tracking.fixes import Fix


@dataclass(frozen=True)
class Limits:
    now: datetime
    not_before: datetime
    future_tolerance_s: float
    max_accuracy_m: float
    max_speed_kmh: float


def reject_coordinates(fix: Fix, limits: Limits) -> str | None:
    if not (math.isfinite(fix.lat) and -90 <= fix.lat <= 90):
        return f"latitude {fix.lat} is outside -90..90"
    if not (math.isfinite(fix.lon) and -180 <= fix.lon <= 180):
        return f"longitude {fix.lon} is outside -180..180"
    return None


def reject_future(fix: Fix, limits: Limits) -> str | None:
    ahead = (fix.recorded_at - limits.now).total_seconds()
    if ahead > limits.future_tolerance_s:
        return f"recorded_at is {ahead / 60:.0f} minutes in the future; check the phone's clock"
    return None


def reject_before_event(fix: Fix, limits: Limits) -> str | None:
    if fix.recorded_at < limits.not_before:
        return f"recorded_at {fix.recorded_at.isoformat()} is before the event day"
    return None


REJECTIONS: tuple[Callable[[Fix, Limits], str | None], ...] = (
    reject_coordinates,
    reject_future,
    reject_before_event,
)


def rejection(fix: Fix, limits: Limits) -> str | None:
    """The first reason to refuse `fix`, or None when it may be stored."""
    for reject in REJECTIONS:
        reason = reject(fix, limits)
        if reason:
            return reason
    return None


def quality_flags(fix: Fix, previous: Fix | None, limits: Limits) -> tuple[str, ...]:
    """Why a stored fix must not move progress: poor accuracy, or a speed no walker reaches."""
    flags = []
    if fix.accuracy_m is not None and fix.accuracy_m > limits.max_accuracy_m:
        flags.append("poor_accuracy")
    if previous is not None:
        dt = (fix.recorded_at - previous.recorded_at).total_seconds()
        moved = distance_m(previous.lon, previous.lat, fix.lon, fix.lat)
        slack = (fix.accuracy_m or 10.0) + (previous.accuracy_m or 10.0)
        if dt > 0 and (moved - slack) / dt * 3.6 > limits.max_speed_kmh:
            flags.append("impossible_speed")
    return tuple(flags)
