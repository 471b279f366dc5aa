"""Late fixes: older than the walker's newest, from a phone that was offline. Pure.

A late fix is matched between its neighbours in time (the matched fixes just before and just
after it) and checked against the check-in points between them, so a point passed in a dead
zone is found, with its true time. It never moves the live position back, and its cost does
not depend on how long the walker's history is: the neighbours come from an index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn, Passage, detect_passages
from tracking.fixes import Fix
from tracking.matching import AHEAD_SLACK_M, BEHIND_SLACK_M, match_windows
from tracking.progress import Step, may_pass_checkpoint
from tracking.walker_state import WalkerState


@dataclass(frozen=True)
class Known:
    """A matched position of the walker, in the route's plane."""

    ts: float
    passage: Passage


def late_step(
    state: WalkerState,
    fix: Fix,
    before: Known | None,
    after: Known | None,
    radius_m: float,
    max_speed_mps: float,
) -> tuple[Step, Known | None]:
    """Store `fix` as late; find the check-ins it reveals between its neighbours."""
    route = state.route
    if route is None:
        return Step(("late",), None, None), None
    x, y = route.to_xy(fix.lon, fix.lat)
    along, offset = _match_between(route, x, y, fix, before, after, max_speed_mps)
    here = Known(fix.ts, Passage(x, y, fix.recorded_at, along))
    found: list[CheckIn] = []
    for a, b in ((before, here), (here, after)):
        if a is None or b is None:
            continue
        lo = min(a.passage.distance_along_m, b.passage.distance_along_m) - radius_m
        hi = max(a.passage.distance_along_m, b.passage.distance_along_m) + radius_m
        if not may_pass_checkpoint(route, lo, hi):
            continue
        done = frozenset(state.checkins) | {c.checkpoint_id for c in found}
        for c in detect_passages(route, a.passage, b.passage, radius_m, done):
            found.append(replace(c, out_of_order=_out_of_order(route, state, c)))
    return Step(("late",), along, offset, tuple(found)), here


def _match_between(
    route: PreparedRoute,
    x: float,
    y: float,
    fix: Fix,
    before: Known | None,
    after: Known | None,
    max_speed_mps: float,
) -> tuple[float, float]:
    acc = min(fix.accuracy_m or 10.0, 100.0)
    if before is not None:
        lo = before.passage.distance_along_m - BEHIND_SLACK_M - acc
        reach = before.passage.distance_along_m + max_speed_mps * (fix.ts - before.ts)
    else:
        lo, reach = 0.0, np.inf
    hi = (after.passage.distance_along_m if after else reach) + AHEAD_SLACK_M + acc
    hi = min(hi, reach + AHEAD_SLACK_M + acc)
    prefer = before.passage.distance_along_m if before else (lo if after is None else hi)
    m = match_windows(
        route,
        np.array([x]),
        np.array([y]),
        np.array([lo]),
        np.array([max(hi, lo)]),
        np.array([prefer]),
    )
    return float(m.distance_along_m[0]), float(m.offset_m[0])


def _out_of_order(route: PreparedRoute, state: WalkerState, c: CheckIn) -> bool:
    """Out of order when a point further along was checked in earlier in time."""
    where = {cp.id: cp.distance_along_m for cp in route.checkpoints}
    mine = where.get(c.checkpoint_id, 0.0)
    return any(
        other.at < c.at and where.get(cid, 0.0) > mine for cid, other in state.checkins.items()
    )


def neighbours(
    known: list[Known], ts: float, stored_before: Known | None, stored_after: Known | None
) -> tuple[Known | None, Known | None]:
    """The nearest known positions before and after `ts`: stored ones or this tick's."""
    before = max(
        (k for k in (*known, stored_before) if k is not None and k.ts < ts),
        key=lambda k: k.ts,
        default=None,
    )
    after = min(
        (k for k in (*known, stored_after) if k is not None and k.ts > ts),
        key=lambda k: k.ts,
        default=None,
    )
    return before, after
