"""What the service knows of one walker right now: kept in memory, saved with every tick.

`Progress` holds the matching state (anchor, distance along the route, pace window, off-route
and still state). It is saved as a small blob with the fixes that changed it (`saved`), and a
restart loads it back (`restore`) instead of replaying the walker's day.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn, Passage
from tracking.fixes import Fix
from tracking.matching import Anchor
from tracking.storage.base import WalkerRecord

PACE_WINDOW_S = 20 * 60.0
PACE_SAMPLE_S = 30.0  # pace samples are kept at least this far apart (a bounded window)
MIN_PACE_SPAN_S = 180.0


@dataclass(slots=True)
class Progress:
    distance_along_m: float = 0.0
    offset_m: float | None = None
    anchor: Anchor | None = None
    passage: Passage | None = None
    last_fix: Fix | None = None
    last_good_fix: Fix | None = None
    recent: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, along)
    off_route: bool = False
    off_route_since: datetime | None = None
    still_since: datetime | None = None
    still_at: tuple[float, float] | None = None
    checked: frozenset[str] = frozenset()

    @property
    def pace_mps(self) -> float | None:
        """Speed along the route over the last 20 minutes (rests included), once 3 min are known."""
        if len(self.recent) < 2:
            return None
        (t0, d0), (t1, d1) = self.recent[0], self.recent[-1]
        span = t1 - t0
        return (d1 - d0) / span if span >= MIN_PACE_SPAN_S else None

    def add_pace_sample(self, ts: float, along: float) -> None:
        recent = self.recent
        if len(recent) >= 2 and ts - recent[-2][0] < PACE_SAMPLE_S:
            recent[-1] = (ts, along)
        else:
            recent.append((ts, along))
        while recent and ts - recent[0][0] > PACE_WINDOW_S:
            recent.popleft()


@dataclass(slots=True)
class Health:
    """What the phone told us besides positions: for organisers and the alerts."""

    last_seen: datetime | None = None  # any message, a heartbeat without position included
    battery_pct: float | None = None
    charging: bool | None = None
    app: str = ""
    moving: bool | None = None  # the phone's own motion hint (Traccar Client 9.x is_moving)
    interval_s: float = 0.0  # the interval between fixes, as observed (moving average)
    last_refusal: tuple[str, str, datetime] | None = None  # code, message, when
    refusals: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class WalkerState:
    record: WalkerRecord
    route: PreparedRoute | None
    progress: Progress = field(default_factory=Progress)
    checkins: dict[str, CheckIn] = field(default_factory=dict)
    open_alerts: dict[str, int] = field(default_factory=dict)  # kind -> alert id
    health: Health = field(default_factory=Health)
    version: int = 0  # bumped at every save: processes of a cluster compare it

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def finished(self) -> bool:
        if self.route is None or not self.checkins:  # the usual case, asked 20,000 times a batch
            return False
        return any(cp.kind == "finish" and cp.id in self.checkins for cp in self.route.checkpoints)

    def last_heard(self) -> datetime | None:
        """The newest sign of life: a fix, or a heartbeat without position."""
        last = self.progress.last_fix
        seen = self.health.last_seen
        if last is None or (seen is not None and seen > last.recorded_at):
            return seen
        return last.recorded_at

    def last_ts(self) -> float:
        """The newest fix time seen: fixes older than this are late."""
        last = self.progress.last_fix
        return last.ts if last is not None else float("-inf")


# --- saving and restoring ----------------------------------------------------------------
def _fix_out(f: Fix | None) -> list | None:
    if f is None:
        return None
    return [f.ts, f.lat, f.lon, f.accuracy_m, f.battery_pct, f.source, f.client_id, f.speed_mps]


def _fix_in(v: list | None) -> Fix | None:
    if v is None:
        return None
    ts, lat, lon, acc, bat, source, client_id, speed = v
    return Fix(
        _dt(ts),
        lat,
        lon,
        source,
        accuracy_m=acc,
        battery_pct=bat,
        client_id=client_id,
        speed_mps=speed,
    )


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _ts(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt is not None else None


def saved(state: WalkerState) -> bytes:
    """The state a restart needs, as a small blob (check-ins and alerts have tables of their own)."""
    p, h = state.progress, state.health
    data: dict[str, Any] = {
        "v": state.version,
        "c": [
            [c.checkpoint_id, c.at.timestamp(), c.source, c.out_of_order]
            for c in state.checkins.values()
        ],
        "oa": state.open_alerts,
        "d": p.distance_along_m,
        "o": p.offset_m,
        "a": [p.anchor.distance_along_m, p.anchor.ts] if p.anchor else None,
        "p": [p.passage.x, p.passage.y, p.passage.at.timestamp(), p.passage.distance_along_m]
        if p.passage
        else None,
        "lf": _fix_out(p.last_fix),
        "gf": _fix_out(p.last_good_fix) if p.last_good_fix is not p.last_fix else "lf",
        "r": list(p.recent),
        "off": [p.off_route, _ts(p.off_route_since)],
        "still": [_ts(p.still_since), p.still_at],
        "h": [
            _ts(h.last_seen),
            h.battery_pct,
            h.charging,
            h.app,
            [h.last_refusal[0], h.last_refusal[1], _ts(h.last_refusal[2])]
            if h.last_refusal
            else None,
            h.refusals,
            h.flagged,
            h.moving,
            h.interval_s,
        ],
    }
    return orjson.dumps(data)


def restore(state: WalkerState, blob: bytes) -> None:
    """Put a saved state back (the inverse of `saved`); check-ins come from their table."""
    data = orjson.loads(blob)
    state.version = int(data.get("v", 0))
    if "c" in data:  # another process's newer copy: its check-ins and open alerts too
        state.checkins = {c[0]: CheckIn(c[0], _dt(c[1]), c[2], bool(c[3])) for c in data["c"]}
        state.open_alerts = {k: int(v) for k, v in data["oa"].items()}
    p = state.progress
    p.distance_along_m = data["d"]
    p.offset_m = data["o"]
    p.anchor = Anchor(*data["a"]) if data["a"] else None
    if data["p"]:
        x, y, t, along = data["p"]
        p.passage = Passage(x, y, _dt(t), along)
    p.last_fix = _fix_in(data["lf"])
    p.last_good_fix = p.last_fix if data["gf"] == "lf" else _fix_in(data["gf"])
    p.recent = deque((t, d) for t, d in data["r"])
    p.off_route, since = data["off"]
    p.off_route_since = _dt(since) if since is not None else None
    still, still_at = data["still"]
    p.still_since = _dt(still) if still is not None else None
    p.still_at = (still_at[0], still_at[1]) if still_at else None
    p.checked = frozenset(state.checkins)
    seen, battery, charging, app, refusal, refusals, flagged, *hints = data["h"]
    h = state.health
    h.last_seen = _dt(seen) if seen is not None else None
    h.battery_pct, h.charging, h.app = battery, charging, app
    h.last_refusal = (refusal[0], refusal[1], _dt(refusal[2])) if refusal else None
    h.refusals, h.flagged = dict(refusals), dict(flagged)
    if hints:
        h.moving, h.interval_s = hints
