"""What a recorded walk tells besides its length: when, moving time, pauses, pace, speeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from routes.pauses import Pause, stays, unrecorded
from routes.recorded import TimedPart, at
from routes.speeds import Stretch, fast_stretches, windowed_speeds_kmh

MAX_STRETCHES = 10  # fast stretches listed (the longest); the fast distance counts them all


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


def recorded_stats(
    parts: tuple[TimedPart, ...],
    *,
    window_s: float,
    pause_radius_m: float,
    min_pause_s: float,
    max_walking_speed_kmh: float,
) -> RecordedStats:
    """Moving time (recorded time less stays), pauses, and the stretches that are too fast."""
    in_parts = [pz for p in parts for pz in stays(p, pause_radius_m, min_pause_s)]
    recorded_s = sum(float(p.times_s[-1] - p.times_s[0]) for p in parts)
    speeds = [windowed_speeds_kmh(p, window_s) for p in parts]
    stretches = [
        st
        for p, s in zip(parts, speeds, strict=True)
        for st in fast_stretches(p, s, max_walking_speed_kmh)
    ]
    finite = [float(s[np.isfinite(s)].max()) for s in speeds if np.isfinite(s).any()]
    return RecordedStats(
        started_at=at(parts[0].times_s[0]),
        finished_at=at(parts[-1].times_s[-1]),
        moving_time_s=recorded_s - sum(pz.duration_s for pz in in_parts),
        pauses=tuple(sorted(in_parts + unrecorded(parts, min_pause_s), key=_start)),
        max_sustained_speed_kmh=max(finite, default=0.0),
        fast_m=sum(st.to_m - st.from_m for st in stretches),
        fast_stretches=tuple(sorted(stretches, key=_length, reverse=True)[:MAX_STRETCHES]),
    )


def _start(pause: Pause) -> datetime:
    return pause.started_at


def _length(stretch: Stretch) -> float:
    return stretch.to_m - stretch.from_m
