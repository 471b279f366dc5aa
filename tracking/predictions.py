"""Predicted arrivals: each walker's ETA, and per route the last walker's arrival at each point.

One definition, used by every view (the dashboard's detail, its route cards, the walker page):
- pace: the walker's own pace over the recent window (rests included), else the median pace on
  the route, else the default; `Pace.source` says which ("own", "route", "default");
- ETA: from the walker's last measured position and its time, at that pace. It moves only when a
  new position arrives, so it is the same at every load; an arrival already due is "now".
Pure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tracking.walker_state import WalkerState

MIN_PACE_MPS = 0.3  # below this a walker is resting; predicting from it says nothing useful


@dataclass(frozen=True)
class Pace:
    mps: float
    source: str  # "own", "route" (the route's median) or "default"

    @property
    def kmh(self) -> float:
        return round(self.mps * 3.6, 2)


@dataclass(frozen=True)
class Eta:
    next_checkpoint_id: str | None
    next_checkpoint_at: datetime | None
    finish_at: datetime | None
    pace_mps: float


def route_median_pace(states: list[WalkerState]) -> float | None:
    paces = [p for s in states if (p := s.progress.pace_mps) is not None and p >= MIN_PACE_MPS]
    return statistics.median(paces) if paces else None


def pace_of(state: WalkerState, median_mps: float | None, default_mps: float) -> Pace:
    own = state.progress.pace_mps
    if own is not None and own >= MIN_PACE_MPS:
        return Pace(own, "own")
    if median_mps:
        return Pace(median_mps, "route")
    return Pace(default_mps, "default")


def pace_for(state: WalkerState, median_mps: float | None, default_mps: float) -> float:
    return pace_of(state, median_mps, default_mps).mps


def measured_at(state: WalkerState) -> datetime | None:
    """When the walker's progress was last measured: the base of every prediction."""
    p = state.progress
    if p.recent:  # (epoch seconds, metres along)
        return datetime.fromtimestamp(p.recent[-1][0], UTC)
    return p.last_fix.recorded_at if p.last_fix else None


def arrival(base: datetime, now: datetime, metres: float, pace_mps: float) -> datetime:
    """`metres` ahead of a walker measured at `base`; never before now."""
    return max(now, base + timedelta(seconds=metres / pace_mps))


def eta(state: WalkerState, now: datetime, pace_mps: float) -> Eta:
    route = state.route
    if route is None or state.progress.last_fix is None or state.finished:
        return Eta(None, None, None, pace_mps)
    base = measured_at(state) or now
    along = state.progress.distance_along_m
    nxt = route.next_checkpoint(along, frozenset(state.checkins))
    next_at = arrival(base, now, nxt.distance_along_m - along, pace_mps) if nxt else None
    finish_at = arrival(base, now, route.length_m - along, pace_mps)
    return Eta(nxt.id if nxt else None, next_at, finish_at, pace_mps)


def last_walker_arrivals(
    states: list[WalkerState], now: datetime, median_mps: float | None, default_mps: float
) -> dict | None:
    """The walker furthest behind on a route (still walking), and when they reach each point."""
    active = [
        s
        for s in states
        if s.route is not None
        and not s.finished
        and s.record.status_override == ""
        and s.progress.last_fix is not None
    ]
    if not active:
        return None
    last = min(active, key=lambda s: s.progress.distance_along_m)
    assert last.route is not None
    pace = pace_of(last, median_mps, default_mps)
    along = last.progress.distance_along_m
    base = measured_at(last) or now
    return {
        "walker_id": last.id,
        "name": last.record.name,
        "distance_along_m": round(along, 1),
        "pace_kmh": pace.kmh,
        "pace_source": pace.source,
        "arrivals": [
            {
                "checkpoint_id": cp.id,
                "name": cp.name,
                "at": arrival(base, now, cp.distance_along_m - along, pace.mps).isoformat(),
            }
            for cp in last.route.checkpoints
            if cp.distance_along_m > along
        ],
    }
