"""The public live page's numbers: walkers on the way and finished per route, kilometres
walked together, check-ins of the last minutes as counts per point, and the crowd per stretch
of route. Never a name, a token or a position. Pure: built from the organisers' overview, so
the totals are the same numbers.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from tracking.views import ViewContext, overview
from tracking.walker_state import WalkerState

NOT_ON_THE_WAY = ("registered", "finished", "dropped_out")
RECENT = timedelta(minutes=15)


def bin_m(length_m: float) -> float:
    """The histogram's stretch: a kilometre, half of one on routes of 25 km or less."""
    return 500.0 if length_m <= 25_000 else 1000.0


def live_view(states: list[WalkerState], ctx: ViewContext, recent: timedelta = RECENT) -> dict:
    ov = overview(states, ctx)
    on_way = {s.id: ctx.status(s) not in NOT_ON_THE_WAY for s in states}
    routes: dict[str, dict[str, Any]] = {}
    for rid, r in ov["routes"].items():
        statuses = r["statuses"]
        group = routes.setdefault(rid if rid in ctx.event.routes else "personal", _empty(ctx, rid))
        group["walkers"] += r["walkers"]
        group["finished"] += r["finished"]
        group["on_the_way"] += r["walkers"] - sum(statuses.get(s, 0) for s in NOT_ON_THE_WAY)
    for s in states:
        er = ctx.event.routes.get(s.record.route_id)
        if er is None or not on_way[s.id]:
            continue
        hist = routes[er.id]["histogram"]
        i = min(int(s.progress.distance_along_m // hist["bin_m"]), len(hist["counts"]) - 1)
        hist["counts"][max(i, 0)] += 1
    return {
        "event": ctx.event.name,
        "at": ctx.now.isoformat(),
        "walkers": ov["walkers"],
        "on_the_way": sum(r["on_the_way"] for r in routes.values()),
        "finished": ov["finished"],
        "total_km": ov["total_km"],
        "routes": routes,
        "recent_minutes": int(recent.total_seconds() // 60),
        "recent_checkins": _recent(states, ctx, recent),
    }


def _empty(ctx: ViewContext, rid: str) -> dict[str, Any]:
    er = ctx.event.routes.get(rid)
    group: dict[str, Any] = {
        "name": er.name if er else "Personal routes",
        "walkers": 0,
        "on_the_way": 0,
        "finished": 0,
    }
    if er is not None:
        step = bin_m(er.route.length_m)
        n = max(1, int(-(-er.route.length_m // step)))
        group["length_m"] = round(er.route.length_m)
        group["histogram"] = {"bin_m": step, "counts": [0] * n}
        group["checkpoints"] = [
            {"id": cp.id, "name": cp.name, "distance_along_m": round(cp.distance_along_m)}
            for cp in er.route.checkpoints
        ]
    return group


def _recent(states: list[WalkerState], ctx: ViewContext, recent: timedelta) -> list[dict]:
    since = ctx.now - recent
    counts: Counter[str] = Counter()
    for s in states:
        counts.update(c.checkpoint_id for c in s.checkins.values() if c.at >= since)
    names = {cp.id: cp.name for er in ctx.event.routes.values() for cp in er.route.checkpoints}
    return [
        {"checkpoint_id": cid, "name": names.get(cid, cid), "count": n}
        for cid, n in counts.most_common()
    ]
