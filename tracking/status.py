"""A walker's status from what is known and the time now. Pure.

Each status rests on evidence:
- `silent`: no message from the phone (no fix, no heartbeat) for `silent_after`, away from a
  check-in point: the phone has gone quiet;
- `resting`: the phone keeps reporting (fixes or heartbeats) but the walker has not moved for
  RESTING_AFTER (or the phone says it is still);
- `not_moving`: resting longer than `stationary_after`, away from a check-in point (this also
  raises the `stationary` alert): someone should look;
- the others as their names say.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tracking.walker_state import WalkerState

STATUSES = (
    "registered",
    "walking",
    "resting",
    "not_moving",
    "at_checkpoint",
    "finished",
    "off_route",
    "silent",
    "needs_help",
    "dropped_out",
)


def near_checkpoint(state: WalkerState, radius_m: float) -> bool:
    """The last matched position is within `radius_m` of a check-in point along the route."""
    route, passage = state.route, state.progress.passage
    if route is None or passage is None:
        return False
    return any(
        math.hypot(cp.x_m - passage.x, cp.y_m - passage.y) <= radius_m for cp in route.checkpoints
    )


RESTING_AFTER = timedelta(minutes=3)


def still_for(state: WalkerState) -> timedelta:
    """How long the walker has been in one place, up to the last sign of life (a heartbeat is
    "alive at the last known position")."""
    since, heard = state.progress.still_since, state.last_heard()
    if since is None or heard is None or heard < since:
        return timedelta(0)
    return heard - since


def walker_status(
    state: WalkerState,
    now: datetime,
    radius_m: float,
    silent_after: timedelta,
    stationary_after: timedelta = timedelta(minutes=20),
) -> str:
    """The one status shown for a walker; the most urgent wins."""
    if state.record.status_override in ("dropped_out", "picked_up"):
        return "dropped_out"
    if "sos" in state.open_alerts:
        return "needs_help"
    if state.finished:
        return "finished"
    heard = state.last_heard()
    if heard is None or state.progress.last_fix is None:
        return "registered"
    at_point = near_checkpoint(state, radius_m)
    if now - heard > silent_after and not at_point:
        return "silent"
    if state.progress.off_route:
        return "off_route"
    if at_point:
        return "at_checkpoint"
    still = still_for(state)
    if still >= stationary_after:
        return "not_moving"
    if still >= RESTING_AFTER or (state.health.moving is False and still > timedelta(0)):
        return "resting"
    return "walking"
