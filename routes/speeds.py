"""How fast a recorded walk went: speeds sustained over a window, and the stretches too fast.

A speed is the smoothed distance covered in the `window_s` seconds around a step: one stray fix
cannot make a walker fast, a minute at cycling speed does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routes.geodesy import FloatArray
from routes.recorded import BoolArray, TimedPart

LINE_POINTS = 200  # points kept to draw one stretch


@dataclass(frozen=True)
class Stretch:
    """A run of the track covered faster than a walker can go."""

    from_m: float
    to_m: float
    duration_s: float
    line: tuple[tuple[float, float], ...]  # (lon, lat)

    @property
    def speed_kmh(self) -> float:
        return (self.to_m - self.from_m) / self.duration_s * 3.6 if self.duration_s > 0 else 0.0


def windowed_speeds_kmh(part: TimedPart, window_s: float) -> FloatArray:
    """For each step, the smoothed distance covered in the `window_s` around it, per hour."""
    t, cum = part.times_s, part.cum_m
    mid = (t[:-1] + t[1:]) / 2
    lo = np.maximum(mid - window_s / 2, t[0])
    hi = np.minimum(mid + window_s / 2, t[-1])
    span = hi - lo
    dist = np.interp(hi, t, cum) - np.interp(lo, t, cum)
    instant = dist > 0  # a step of no duration that moves: an infinite speed
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, dist / safe * 3.6, np.where(instant, np.inf, 0.0))


def fast_stretches(part: TimedPart, speeds_kmh: FloatArray, max_kmh: float) -> list[Stretch]:
    """The runs of steps whose sustained speed is above `max_kmh`, with a line to draw each."""
    return [_stretch(part, a, b) for a, b in _runs(speeds_kmh > max_kmh)]


def _runs(mask: BoolArray) -> list[tuple[int, int]]:
    """(first, last) step index of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _stretch(part: TimedPart, a: int, b: int) -> Stretch:
    idx = np.unique(np.linspace(a, b + 1, min(LINE_POINTS, b + 2 - a)).round().astype(int))
    line = tuple((float(part.smooth_lons[i]), float(part.smooth_lats[i])) for i in idx.tolist())
    return Stretch(
        part.offset_m + float(part.cum_m[a]),
        part.offset_m + float(part.cum_m[b + 1]),
        float(part.times_s[b + 1] - part.times_s[a]),
        line,
    )
