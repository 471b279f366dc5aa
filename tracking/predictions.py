"""Predicted arrivals: each walker's ETA, and per route the last walker's arrival at each point.

Pace: the walker's own recent pace, else the median pace on the route, else a default. Pure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracking.walker_state import WalkerState

MIN_PACE_MPS = 0.3  # below this a walker is resting; predicting from it says nothing useful


@dataclass(frozen=True)
class Eta:
    next_checkpoint_id: str | None
    next_checkpoint_at: datetime | None
    finish_at: datetime | None
    pace_mps: float


def route_median_pace(states: list[WalkerState]) -> float | None:
    paces = [p for s in states if (p := s.progress.pace_mps) is not None and p >= MIN_PACE_MPS]
    return statistics.median(paces) if paces else None


def pace_for(state: WalkerState, median_mps: float | None, default_mps: float) -> float:
    own = state.progress.pace_mps
    if own is not None and own >= MIN_PACE_MPS:
        return own
    return median_mps or default_mps


def eta(state: WalkerState, now: datetime, pace_mps: float) -> Eta:
    route = state.route
    if route is None or state.progress.last_fix is None or state.finished:
        return Eta(None, None, None, pace_mps)
    along = state.progress.distance_along_m
    nxt = route.next_checkpoint(along, frozenset(state.checkins))
    next_at = now + timedelta(seconds=(nxt.distance_along_m - along) / pace_mps) if nxt else None
    finish_at = now + timedelta(seconds=(route.length_m - along) / pace_mps)
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
    pace = pace_for(last, median_mps, default_mps)
    along = last.progress.distance_along_m
    return {
        "walker_id": last.id,
        "name": last.record.name,
        "distance_along_m": round(along, 1),
        "pace_kmh": round(pace * 3.6, 2),
        "arrivals": [
            {
                "checkpoint_id": cp.id,
                "name": cp.name,
                "at": (now + timedelta(seconds=(cp.distance_along_m - along) / pace)).isoformat(),
            }
            for cp in last.route.checkpoints
            if cp.distance_along_m > along
        ],
    }
