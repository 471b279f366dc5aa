"""A recorded track (fixes with timestamps) as pieces: smoothed, measured, cut at every jump.

The length is measured on the track smoothed in time (`routes.smoothing`), because the raw
point-to-point sum counts GPS noise as walking. A jump (two fixes further apart than a walker
or a GPS error explains) is not walked: the track is cut there and the jump never measured.
Pauses and speeds are read from these pieces in `routes.pauses` and `routes.speeds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from routes.geodesy import FloatArray, LocalProjection, segment_lengths_m
from routes.gpx_model import GpxDocument, GpxPoint
from routes.smoothing import smooth_in_time

BoolArray = NDArray[np.bool_]

MAX_CUTS = 500  # a recording with more jumps is no walk; its pieces beyond stay whole


@dataclass(frozen=True, eq=False)
class TimedPart:
    """Timed fixes of one part (or of a piece between jumps), raw and smoothed, with the
    smoothed distance along them."""

    index: int  # the part of the document this piece comes from
    times_s: FloatArray
    lons: FloatArray
    lats: FloatArray
    smooth_lons: FloatArray
    smooth_lats: FloatArray
    cum_m: FloatArray
    raw_m: float
    offset_m: float  # smoothed distance of the parts before this one

    @property
    def length_m(self) -> float:
        return float(self.cum_m[-1])


@dataclass(frozen=True)
class JumpLimits:
    """A raw step is a jump when, less `noise_m` of GPS error, it is faster than the speed."""

    max_speed_kmh: float
    noise_m: float


def timed_parts(doc: GpxDocument, sigma_s: float, jumps: JumpLimits) -> tuple[TimedPart, ...]:
    """The timed fixes of each part, cut at every jump into pieces that are smoothed apart.

    Fixes without a time are left out; parts with fewer than two are dropped. A jump is not
    walked, so it is never measured: consecutive pieces of one part have a jump between them.
    One projection serves the whole document (smoothing only averages fixes seconds apart).
    """
    timed = [[p for p in part.points if p.time is not None] for part in doc.parts]
    every = [p for pts in timed if len(pts) >= 2 for p in pts]
    if not every:
        return ()
    proj = LocalProjection.around(
        float(np.median([p.lon for p in every])), float(np.median([p.lat for p in every]))
    )
    pieces: list[TimedPart] = []
    for index, pts in enumerate(timed):
        if len(pts) >= 2:
            offset = pieces[-1].offset_m + pieces[-1].length_m if pieces else 0.0
            pieces += _pieces(index, pts, sigma_s, jumps, proj, offset)
    return tuple(pieces)


def _pieces(
    index: int,
    pts: list[GpxPoint],
    sigma_s: float,
    jumps: JumpLimits,
    proj: LocalProjection,
    offset_m: float,
) -> list[TimedPart]:
    lons = np.array([p.lon for p in pts], dtype=np.float64)
    lats = np.array([p.lat for p in pts], dtype=np.float64)
    # A clock that steps back is held still: that step then reads as instantaneous.
    times = np.maximum.accumulate(np.array([p.time.timestamp() for p in pts if p.time]))
    stuck = times[-1] <= times[0]  # no usable times: nothing to cut, measured as planned
    cuts = (
        np.zeros(0, dtype=np.int64)
        if stuck
        else (np.flatnonzero(jump_steps(lons, lats, times, jumps)) + 1)[:MAX_CUTS]
    )
    xs, ys = proj.to_xy(lons, lats)
    out: list[TimedPart] = []
    for idx in np.split(np.arange(len(pts)), cuts):
        sx, sy = smooth_in_time(times[idx], xs[idx], ys[idx], sigma_s)
        slons, slats = proj.to_lonlat(sx, sy)
        cum = np.concatenate([[0.0], np.cumsum(segment_lengths_m(slons, slats))])
        raw_m = float(segment_lengths_m(lons[idx], lats[idx]).sum())
        out.append(
            TimedPart(index, times[idx], lons[idx], lats[idx], slons, slats, cum, raw_m, offset_m)
        )
        offset_m += float(cum[-1])
    return out


def jump_steps(
    lons: FloatArray, lats: FloatArray, times_s: FloatArray, jumps: JumpLimits
) -> BoolArray:
    """Which raw steps between consecutive fixes are jumps."""
    beyond_noise = segment_lengths_m(lons, lats) - jumps.noise_m
    dt = np.maximum(np.diff(times_s), 0.0)
    return (beyond_noise > 0) & (beyond_noise * 3.6 > jumps.max_speed_kmh * dt)


def usable_times(parts: tuple[TimedPart, ...]) -> bool:
    """Some part's clock moves forward; a file where every fix has one timestamp has no times."""
    return any(p.times_s[-1] > p.times_s[0] for p in parts)


def at(epoch_s: float) -> datetime:
    """An aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(float(epoch_s), tz=UTC)
