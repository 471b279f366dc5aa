"""Alerts that the clock raises (silent, standing still, past a closing time). Pure.

Alerts raised by a fix itself (SOS, off route, low battery) are raised in the pipeline as the
fix passes; these need only the walker's state, the event and the time now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from routes.event import Event
from tracking.settings import Settings
from tracking.status import near_checkpoint, still_for
from tracking.walker_state import WalkerState

ALERT_KINDS = ("sos", "off_route", "silent", "stationary", "battery", "closing_time")


@dataclass(frozen=True)
class AlertRules:
    silent_after: timedelta
    stationary_after: timedelta
    radius_m: float

    @classmethod
    def from_settings(cls, settings: Settings, radius_m: float = 75.0) -> AlertRules:
        return cls(
            timedelta(minutes=settings.silent_minutes),
            timedelta(minutes=settings.stationary_minutes),
            radius_m,
        )


def alert_checks(
    state: WalkerState, event: Event, now: datetime, rules: AlertRules
) -> Iterator[tuple[str, str]]:
    """(kind, message) for each clock alert that holds for this walker now."""
    last = state.progress.last_fix
    if last is None or state.finished or state.record.status_override:
        return
    radius = max(rules.radius_m, event.checkin_radius_m) * 2
    at_point = near_checkpoint(state, radius)
    heard = state.last_heard() or last.recorded_at
    silent_for = now - heard
    if silent_for > rules.silent_after and not at_point:
        yield "silent", f"no position for {silent_for.total_seconds() / 60:.0f} minutes"
    still = still_for(state)
    if still > rules.stationary_after and not at_point:
        minutes = still.total_seconds() / 60
        yield "stationary", f"not moving for {minutes:.0f} minutes away from a check-in point"
    yield from _closing(state, event, now)


def _closing(state: WalkerState, event: Event, now: datetime) -> Iterator[tuple[str, str]]:
    route = event.routes.get(state.record.route_id)
    if route is None:
        return
    for cp in route.route.checkpoints:
        closes = route.closing.get(cp.id)
        if (
            cp.id not in state.checkins
            and closes is not None
            and now > closes
            and state.progress.distance_along_m < cp.distance_along_m
        ):
            yield "closing_time", f"still before {cp.name}, which closed at {closes:%H:%M}"
            return
