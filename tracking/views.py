"""What the API and the live feed show of walkers: plain dicts built from state. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from routes.event import Event
from tracking.predictions import eta, last_walker_arrivals, pace_of, route_median_pace
from tracking.status import STATUSES, walker_status
from tracking.walker_state import WalkerState


class ViewContext:
    """Everything a view needs besides the walker: the event, the time, pace fallbacks."""

    def __init__(
        self,
        event: Event,
        now: datetime,
        silent_after: timedelta,
        default_pace_mps: float,
        medians: dict[str, float | None] | Callable[[], dict[str, float | None]],
        stationary_after: timedelta = timedelta(minutes=20),
    ) -> None:
        self.stationary_after = stationary_after
        self.event = event
        self.now = now
        self.silent_after = silent_after
        self.default_pace_mps = default_pace_mps
        self._medians = medians

    @property
    def medians(self) -> dict[str, float | None]:
        """Median pace per route; given as a function, computed once and only when needed
        (the live feed's batches need statuses, not paces: at 20,000 walkers the medians
        cost tens of milliseconds per batch)."""
        if callable(self._medians):
            self._medians = self._medians()
        return self._medians

    def status(self, state: WalkerState) -> str:
        return walker_status(
            state, self.now, self.event.checkin_radius_m, self.silent_after, self.stationary_after
        )


def medians_by_route(states: list[WalkerState]) -> dict[str, float | None]:
    by_route: dict[str, list[WalkerState]] = {}
    for s in states:
        by_route.setdefault(s.record.route_id, []).append(s)
    return {route_id: route_median_pace(group) for route_id, group in by_route.items()}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def walker_view(state: WalkerState, ctx: ViewContext, private: bool = True) -> dict[str, Any]:
    """The full view of one walker (organiser API; the walker's own page gets the same)."""
    p = state.progress
    last = p.last_fix
    length = state.route.length_m if state.route else None
    pace = pace_of(state, ctx.medians.get(state.record.route_id), ctx.default_pace_mps)
    prediction = eta(state, ctx.now, pace.mps)
    next_cp = (
        state.route.next_checkpoint(p.distance_along_m, frozenset(state.checkins))
        if state.route
        else None
    )
    view = {
        "id": state.id,
        "name": state.record.name,
        "bib": state.record.bib,
        "team": state.record.team,
        "route_id": state.record.route_id,
        "status": ctx.status(state),
        "status_override": state.record.status_override,
        "distance_along_m": round(p.distance_along_m, 1),
        "route_length_m": round(length, 1) if length else None,
        "progress_pct": round(100 * p.distance_along_m / length, 1) if length else None,
        "offset_m": round(p.offset_m, 1) if p.offset_m is not None else None,
        "last_fix": {
            "lat": last.lat,
            "lon": last.lon,
            "recorded_at": last.recorded_at.isoformat(),
            "accuracy_m": last.accuracy_m,
        }
        if last
        else None,
        "checkins": [
            {
                "checkpoint_id": c.checkpoint_id,
                "at": c.at.isoformat(),
                "source": c.source,
                "out_of_order": c.out_of_order,
            }
            for c in sorted(state.checkins.values(), key=lambda c: c.at)
        ],
        # the pace the predictions use, and where it comes from (own, route median, default)
        "pace_kmh": pace.kmh,
        "pace_source": pace.source,
        "next_checkpoint": {
            "checkpoint_id": next_cp.id,
            "name": next_cp.name,
            "distance_m": round(next_cp.distance_along_m - p.distance_along_m, 1),
            "eta": _iso(prediction.next_checkpoint_at),
        }
        if next_cp
        else None,
        "eta_finish_at": _iso(prediction.finish_at),
        "battery_pct": last.battery_pct if last else None,
        "open_alerts": sorted(state.open_alerts),
        "device": device_view(state),
    }
    if private:
        view["phone"] = state.record.phone
    return view


def device_view(state: WalkerState) -> dict[str, Any]:
    """What the phone told us besides positions, and what we refused of it (and why)."""
    h = state.health
    refusal = h.last_refusal
    return {
        "app": h.app or None,
        "moving": h.moving,
        "interval_s": round(h.interval_s, 1) if h.interval_s else None,
        "last_seen": _iso(state.last_heard()),
        "battery_pct": h.battery_pct,
        "charging": h.charging,
        "last_refusal": {"code": refusal[0], "reason": refusal[1], "at": refusal[2].isoformat()}
        if refusal
        else None,
        "refusals": dict(h.refusals),
        "flagged": dict(h.flagged),
    }


def compact_view(state: WalkerState, ctx: ViewContext) -> dict[str, Any]:
    """The live feed's small form: short keys, rounded numbers (2,000 of these per snapshot)."""
    p = state.progress
    last = p.last_fix
    length = state.route.length_m if state.route else None
    return {
        "id": state.id,
        "n": state.record.name,
        "b": state.record.bib,
        "r": state.record.route_id,
        "s": ctx.status(state),
        "lat": round(last.lat, 6) if last else None,
        "lon": round(last.lon, 6) if last else None,
        "t": int(last.recorded_at.timestamp()) if last else None,
        "d": round(p.distance_along_m),
        "pct": round(100 * p.distance_along_m / length, 1) if length else None,
        "off": round(p.offset_m) if p.offset_m is not None else None,
        "bat": last.battery_pct if last else None,
        "cp": len(state.checkins),
    }


def overview(states: list[WalkerState], ctx: ViewContext) -> dict[str, Any]:
    """Walkers per route and status, passages per check-in point, finishers, km walked."""
    per_route: dict[str, Counter[str]] = {rid: Counter() for rid in ctx.event.routes}
    passages: dict[str, Counter[str]] = {rid: Counter() for rid in ctx.event.routes}
    total_m = 0.0
    for s in states:
        rid = s.record.route_id
        if rid not in per_route:  # a personal route (not setdefault: a Counter per walker)
            per_route[rid], passages[rid] = Counter(), Counter()
        per_route[rid][ctx.status(s)] += 1
        if s.checkins:
            passages[rid].update(s.checkins.keys())
        total_m += s.progress.distance_along_m
    by_route = {rid: [s for s in states if s.record.route_id == rid] for rid in ctx.event.routes}
    return {
        "routes": {
            rid: {
                "statuses": {st: counts.get(st, 0) for st in STATUSES},
                "walkers": sum(counts.values()),
                "passages": dict(passages.get(rid, {})),
                "finished": counts.get("finished", 0),
                "last_walker": last_walker_arrivals(
                    by_route.get(rid, []), ctx.now, ctx.medians.get(rid), ctx.default_pace_mps
                )
                if rid in ctx.event.routes
                else None,
            }
            for rid, counts in per_route.items()
        },
        "walkers": len(states),
        "finished": sum(c.get("finished", 0) for c in per_route.values()),
        "open_alerts": sum(len(s.open_alerts) for s in states),
        "total_km": round(total_m / 1000, 1),
    }
