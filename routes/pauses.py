"""Pauses in a recorded walk: staying near one place for a while, or not recording at all.

A pause is a stay: the smoothed track remains within `radius_m` of where it stopped for at
least `min_s`. A radius, not a speed, because a phone standing still keeps wandering by metres
and a speed threshold mistakes that for slow walking; 25 m is more than that wander and less
than a walker covers in 20 s. The time between two recorded parts is a pause of its own kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np

from routes.geodesy import FloatArray
from routes.recorded import TimedPart, at

SAME_PAUSE_S = 30.0  # stays this close in time are one pause whose GPS drifted past the radius
SCAN_CHUNK = 256  # fixes compared at once while looking for where a stay ends
M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class Pause:
    """A stay of at least the minimum pause, or time with no fixes between two pieces."""

    started_at: datetime
    duration_s: float
    lon: float
    lat: float
    along_m: float
    unrecorded: bool = False  # between parts or across a jump: no fixes


def stays(part: TimedPart, radius_m: float, min_s: float) -> list[Pause]:
    """Each span of at least `min_s` that stays within `radius_m` of its first fix."""
    x, y = _local_m(part.smooth_lons, part.smooth_lats)
    t, i = part.times_s, 0
    spans: list[tuple[int, int]] = []  # (first, last) fix of each stay
    while i < len(t) - 1:
        j = _leaves(x, y, i, radius_m**2)
        if t[j - 1] - t[i] < min_s:
            i += 1
        elif spans and t[i] - t[spans[-1][1]] <= SAME_PAUSE_S:
            spans[-1] = (spans[-1][0], j - 1)  # the same pause, drifted past the radius
            i = j
        else:
            spans.append((i, j - 1))
            i = j
    return [_pause(part, a, float(t[b] - t[a])) for a, b in spans]


def unrecorded(parts: tuple[TimedPart, ...], min_s: float) -> list[Pause]:
    """The time between consecutive pieces, when it lasts at least `min_s`."""
    out = []
    for a, b in pairwise(parts):
        duration = float(b.times_s[0] - a.times_s[-1])
        if duration >= min_s:
            lon, lat = float(a.smooth_lons[-1]), float(a.smooth_lats[-1])
            out.append(Pause(at(a.times_s[-1]), duration, lon, lat, a.offset_m + a.length_m, True))
    return out


def _leaves(x: FloatArray, y: FloatArray, i: int, r2: float) -> int:
    """The first fix after `i` further than the radius from fix `i` (or the end)."""
    j = i + 1
    while j < len(x):
        d2 = (x[j : j + SCAN_CHUNK] - x[i]) ** 2 + (y[j : j + SCAN_CHUNK] - y[i]) ** 2
        beyond = np.flatnonzero(d2 > r2)
        if beyond.size:
            return j + int(beyond[0])
        j += SCAN_CHUNK
    return len(x)


def _local_m(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Metres east and north of the first fix (equirectangular: exact enough within 1 km)."""
    scale = M_PER_DEG_LAT * np.cos(np.radians(lats[0]))
    return (lons - lons[0]) * scale, (lats - lats[0]) * M_PER_DEG_LAT


def _pause(part: TimedPart, i: int, duration_s: float) -> Pause:
    return Pause(
        at(part.times_s[i]),
        duration_s,
        float(part.smooth_lons[i]),
        float(part.smooth_lats[i]),
        part.offset_m + float(part.cum_m[i]),
    )
