"""Is it one continuous route? The jumps inside parts and the gaps between them, with where.

A planned route is a line a walker follows; a straight stretch of more than about a kilometre
between two points says nothing about the way, so it is a gap. A recorded track jumps when two
consecutive fixes are further apart than a walker, or a GPS error, can explain. Gaps between
tracks or segments are never bridged: they are listed, and far ones make the route invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from routes.geodesy import FloatArray, distance_m, segment_lengths_m
from routes.gpx_model import GpxDocument, GpxPart
from routes.recorded import JumpLimits, TimedPart, jump_steps


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


def recorded_jumps(pieces: tuple[TimedPart, ...]) -> tuple[Jump, ...]:
    """The jumps at which `timed_parts` cut a part: between consecutive pieces of one part."""
    return tuple(
        Jump(
            float(a.lons[-1]),
            float(a.lats[-1]),
            float(b.lons[0]),
            float(b.lats[0]),
            distance_m(float(a.lons[-1]), float(a.lats[-1]), float(b.lons[0]), float(b.lats[0])),
            b.offset_m,
            float(b.times_s[0] - a.times_s[-1]),
        )
        for a, b in pairwise(pieces)
        if a.index == b.index
    )


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


def too_fast(jump: Jump, limits: JumpLimits) -> bool:
    """A timed jump between parts that no walker could make (see `recorded.jump_steps`)."""
    if jump.seconds is None:
        return False
    lons = np.array([jump.from_lon, jump.to_lon])
    lats = np.array([jump.from_lat, jump.to_lat])
    return bool(jump_steps(lons, lats, np.array([0.0, jump.seconds]), limits)[0])


def _coords(part: GpxPart) -> tuple[FloatArray, FloatArray]:
    lons = np.array([p.lon for p in part.points], dtype=np.float64)
    lats = np.array([p.lat for p in part.points], dtype=np.float64)
    return lons, lats


def _jump(lons: FloatArray, lats: FloatArray, i: int, step_m: float, along_m: float) -> Jump:
    return Jump(
        float(lons[i]), float(lats[i]), float(lons[i + 1]), float(lats[i + 1]), step_m, along_m
    )
