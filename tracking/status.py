"""A walker's status from what is known and the time now. Pure."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tracking.walker_state import WalkerState

STATUSES = (
    "registered",
    "walking",
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


def walker_status(
    state: WalkerState, now: datetime, radius_m: float, silent_after: timedelta
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
    return "at_checkpoint" if at_point else "walking"
