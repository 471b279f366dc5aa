"""Is it one continuous route? The jumps inside parts and the gaps between them, with where.

A planned route is a line a walker follows; a straight stretch of more than about a kilometre
between two points says nothing about the way, so it is a gap. A recorded track jumps when two
consecutive fixes are further apart than a walker, or a GPS error, can explain. Gaps between
tracks or segments are never bridged: they are listed, and far ones make the route invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from routes.geodesy import FloatArray, distance_m, segment_lengths_m
from routes.gpx_model import GpxDocument, GpxPart
from routes.recorded import BoolArray, TimedPart


@dataclass(frozen=True)
class Jump:
    """A step from one point to the next; `seconds` is None where the points have no time."""

    from_lon: float
    from_lat: float
    to_lon: float
    to_lat: float
    distance_m: float
    along_m: float
    seconds: float | None = None
    between_parts: bool = False

    @property
    def speed_kmh(self) -> float | None:
        if self.seconds is None:
            return None
        return self.distance_m / self.seconds * 3.6 if self.seconds > 0 else float("inf")


def planned_jumps(doc: GpxDocument, max_step_m: float) -> tuple[Jump, ...]:
    """Steps inside a part longer than `max_step_m`."""
    jumps: list[Jump] = []
    offset = 0.0
    for part in doc.parts:
        lons, lats = _coords(part)
        steps = segment_lengths_m(lons, lats)
        cum = np.concatenate([[0.0], np.cumsum(steps)])
        for i in np.flatnonzero(steps > max_step_m):
            jumps.append(_jump(lons, lats, int(i), float(steps[i]), offset + float(cum[i])))
        offset += float(cum[-1])
    return tuple(jumps)


def recorded_jumps(
    parts: tuple[TimedPart, ...], max_speed_kmh: float, noise_m: float
) -> tuple[Jump, ...]:
    """Raw steps faster than `max_speed_kmh` once `noise_m` of GPS error is allowed for."""
    jumps: list[Jump] = []
    for part in parts:
        steps = segment_lengths_m(part.lons, part.lats)
        dt = np.diff(part.times_s)
        for i in np.flatnonzero(_too_fast(steps, dt, max_speed_kmh, noise_m)):
            along = part.offset_m + float(part.cum_m[i])
            jump = _jump(part.lons, part.lats, int(i), float(steps[i]), along)
            jumps.append(_timed(jump, float(dt[i])))
    return tuple(jumps)


def part_gaps(doc: GpxDocument) -> tuple[Jump, ...]:
    """The jump from the end of each part to the start of the next (never counted as walked)."""
    gaps = []
    along = 0.0
    for a, b in pairwise(doc.parts):
        along += float(segment_lengths_m(*_coords(a)).sum())
        end, start = a.points[-1], b.points[0]
        seconds = (start.time - end.time).total_seconds() if start.time and end.time else None
        gaps.append(
            Jump(
                end.lon,
                end.lat,
                start.lon,
                start.lat,
                distance_m(end.lon, end.lat, start.lon, start.lat),
                along,
                seconds,
                True,
            )
        )
    return tuple(gaps)


def too_fast(jump: Jump, max_speed_kmh: float, noise_m: float) -> bool:
    """A timed jump that no walker could make, allowing `noise_m` of GPS error."""
    if jump.seconds is None:
        return False
    steps, dt = np.array([jump.distance_m]), np.array([jump.seconds])
    return bool(_too_fast(steps, dt, max_speed_kmh, noise_m)[0])


def _too_fast(steps: FloatArray, dt: FloatArray, max_speed_kmh: float, noise_m: float) -> BoolArray:
    beyond_noise = steps - noise_m
    return (beyond_noise > 0) & (beyond_noise * 3.6 > max_speed_kmh * np.maximum(dt, 0.0))


def _coords(part: GpxPart) -> tuple[FloatArray, FloatArray]:
    lons = np.array([p.lon for p in part.points], dtype=np.float64)
    lats = np.array([p.lat for p in part.points], dtype=np.float64)
    return lons, lats


def _jump(lons: FloatArray, lats: FloatArray, i: int, step_m: float, along_m: float) -> Jump:
    return Jump(
        float(lons[i]), float(lats[i]), float(lons[i + 1]), float(lats[i + 1]), step_m, along_m
    )


def _timed(jump: Jump, seconds: float) -> Jump:
    return replace(jump, seconds=seconds)
