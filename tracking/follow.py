"""Follow links: a walker lets family follow their walk, and may end it at any time.

A walker has at most one live link; making a new one ends the old one. A link shows the
display name the walker chose (nothing else of their name), their route, progress, check-ins
and expected arrival, and their position only when they chose `precise`. Links end when the
walker ends them, and expire `follow_expiry_hours` after the event day.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from routes.event import Event
from tracking.alerting import Tick
from tracking.predictions import eta, pace_for
from tracking.storage.base import FollowLink
from tracking.views import ViewContext
from tracking.walker_state import WalkerState

DISPLAY_NAME_MAX = 40


def expires_at(event: Event, expiry_hours: float) -> datetime:
    """The end of the event day (midnight after it, in the event's time zone) plus the hours."""
    day_end = datetime.combine(event.date + timedelta(days=1), time(0), event.timezone)
    # in UTC: hours added to a local time would be wall-clock hours (wrong across DST)
    return day_end.astimezone(UTC) + timedelta(hours=expiry_hours)


class Follows:
    """Every follow link by token (changed only inside engine ticks)."""

    def __init__(self) -> None:
        self.links: dict[str, FollowLink] = {}
        self._live: dict[str, str] = {}  # walker id -> token of their live link

    def load(self, links: list[FollowLink]) -> None:
        self.links.clear()
        self._live.clear()
        for link in links:
            self._put(link)

    def _put(self, link: FollowLink) -> None:
        self.links[link.token] = link
        if link.ended_at is None:
            self._live[link.walker_id] = link.token
        elif self._live.get(link.walker_id) == link.token:
            del self._live[link.walker_id]

    def live_for(self, walker_id: str) -> FollowLink | None:
        token = self._live.get(walker_id)
        return self.links.get(token) if token else None

    def get(self, token: str) -> FollowLink | None:
        return self.links.get(token)

    def forget(self, walker_id: str) -> None:
        for token in [t for t, link in self.links.items() if link.walker_id == walker_id]:
            del self.links[token]
        self._live.pop(walker_id, None)

    # --- jobs (inside a tick) -------------------------------------------------------------
    def start(
        self, tick: Tick, state: WalkerState, precise: bool, display_name: str, now: datetime
    ) -> FollowLink:
        self.end(tick, state, now)
        token = secrets.token_urlsafe(16)
        link = FollowLink(token, state.id, display_name.strip()[:DISPLAY_NAME_MAX], precise, now)
        self._put(link)
        tick.batch.follows.append(link)
        return link

    def end(self, tick: Tick, state: WalkerState, now: datetime) -> bool:
        link = self.live_for(state.id)
        if link is None:
            return False
        ended = replace(link, ended_at=now)
        self._put(ended)
        tick.batch.follows.append(ended)
        return True


def follow_view(link: FollowLink, state: WalkerState, ctx: ViewContext) -> dict[str, Any]:
    """What family see: no token, no phone, no name but the chosen one, no position unless
    the walker chose `precise`."""
    p = state.progress
    route = state.route
    length = route.length_m if route else None
    pace = pace_for(state, ctx.medians.get(state.record.route_id), ctx.default_pace_mps)
    prediction = eta(state, ctx.now, pace)
    names = {cp.id: cp.name for cp in route.checkpoints} if route else {}
    last = p.last_fix
    finished = ctx.status(state) == "finished"
    return {
        "display_name": link.display_name,
        "route_id": state.record.route_id,
        "route_length_m": round(length, 1) if length else None,
        "distance_along_m": round(p.distance_along_m, 1),
        "progress_pct": round(100 * p.distance_along_m / length, 1) if length else None,
        "checkins": [
            {
                "checkpoint_id": c.checkpoint_id,
                "name": names.get(c.checkpoint_id, ""),
                "at": c.at.isoformat(),
            }
            for c in sorted(state.checkins.values(), key=lambda c: c.at)
        ],
        "eta": None
        if finished or prediction.finish_at is None
        else prediction.finish_at.isoformat(),
        "finished": finished,
        "precise": link.precise,
        "position": {
            "lat": round(last.lat, 6),
            "lon": round(last.lon, 6),
            "recorded_at": last.recorded_at.isoformat(),
        }
        if link.precise and last is not None
        else None,
    }
