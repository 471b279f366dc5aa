"""A recorded track (fixes with timestamps): its smoothed length, moving time, pauses and speeds.

The length is measured on the track smoothed in time (`routes.smoothing`), because the raw
point-to-point sum counts GPS noise as walking. Speeds are taken over a sliding window of
`window_s` seconds on that smoothed line: one noisy fix cannot make a walker "fast", a
sustained minute at cycling speed does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from routes.geodesy import FloatArray, LocalProjection, segment_lengths_m
from routes.gpx_model import GpxDocument, GpxPoint
from routes.smoothing import smooth_in_time

BoolArray = NDArray[np.bool_]

MAX_CUTS = 500  # a recording with more jumps is no walk; its pieces beyond stay whole
MAX_STRETCHES = 10  # fast stretches listed (the longest); the share counts them all
LINE_POINTS = 200  # points kept to draw one stretch


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
class Pause:
    """A stop of at least the minimum pause, or the time between two recorded parts."""

    started_at: datetime
    duration_s: float
    lon: float
    lat: float
    along_m: float
    unrecorded: bool = False  # between parts or across a jump: no fixes


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


@dataclass(frozen=True)
class RecordedStats:
    started_at: datetime
    finished_at: datetime
    moving_time_s: float
    pauses: tuple[Pause, ...]
    max_sustained_speed_kmh: float
    fast_m: float
    fast_stretches: tuple[Stretch, ...]

    @property
    def elapsed_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


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


def recorded_stats(
    parts: tuple[TimedPart, ...],
    *,
    window_s: float,
    stop_speed_kmh: float,
    min_pause_s: float,
    max_walking_speed_kmh: float,
) -> RecordedStats:
    """Moving time, pauses and the stretches faster than `max_walking_speed_kmh`."""
    speeds = [windowed_speeds_kmh(p, window_s) for p in parts]
    moving = sum(
        float(np.diff(p.times_s)[s >= stop_speed_kmh].sum())
        for p, s in zip(parts, speeds, strict=True)
    )
    pauses = [
        pz
        for p, s in zip(parts, speeds, strict=True)
        for pz in _stops(p, s < stop_speed_kmh, min_pause_s)
    ]
    pauses += _between_parts(parts, min_pause_s)
    stretches = [
        st
        for p, s in zip(parts, speeds, strict=True)
        for st in _stretches(p, s > max_walking_speed_kmh)
    ]
    finite = [float(s[np.isfinite(s)].max()) for s in speeds if np.isfinite(s).any()]
    return RecordedStats(
        started_at=_at(parts[0].times_s[0]),
        finished_at=_at(parts[-1].times_s[-1]),
        moving_time_s=moving,
        pauses=tuple(sorted(pauses, key=lambda pz: pz.started_at)),
        max_sustained_speed_kmh=max(finite, default=0.0),
        fast_m=sum(st.to_m - st.from_m for st in stretches),
        fast_stretches=tuple(sorted(stretches, key=lambda st: st.from_m - st.to_m)[:MAX_STRETCHES]),
    )


def _runs(mask: BoolArray) -> list[tuple[int, int]]:
    """(first, last) step index of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _stops(part: TimedPart, stopped: BoolArray, min_pause_s: float) -> list[Pause]:
    pauses = []
    for a, b in _runs(stopped):
        duration = float(part.times_s[b + 1] - part.times_s[a])
        if duration >= min_pause_s:
            pauses.append(
                Pause(
                    _at(part.times_s[a]),
                    duration,
                    float(part.smooth_lons[a]),
                    float(part.smooth_lats[a]),
                    part.offset_m + float(part.cum_m[a]),
                )
            )
    return pauses


def _between_parts(parts: tuple[TimedPart, ...], min_pause_s: float) -> list[Pause]:
    pauses = []
    for a, b in pairwise(parts):
        duration = float(b.times_s[0] - a.times_s[-1])
        if duration >= min_pause_s:
            pauses.append(
                Pause(
                    _at(a.times_s[-1]),
                    duration,
                    float(a.smooth_lons[-1]),
                    float(a.smooth_lats[-1]),
                    a.offset_m + a.length_m,
                    unrecorded=True,
                )
            )
    return pauses


def _stretches(part: TimedPart, fast: BoolArray) -> list[Stretch]:
    out = []
    for a, b in _runs(fast):
        step = max(1, (b + 2 - a) // LINE_POINTS)
        idx = list(range(a, b + 2, step)) + ([b + 1] if (b + 1 - a) % step else [])
        line = tuple((float(part.smooth_lons[i]), float(part.smooth_lats[i])) for i in idx)
        out.append(
            Stretch(
                part.offset_m + float(part.cum_m[a]),
                part.offset_m + float(part.cum_m[b + 1]),
                float(part.times_s[b + 1] - part.times_s[a]),
                line,
            )
        )
    return out


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(float(epoch_s), tz=UTC)
