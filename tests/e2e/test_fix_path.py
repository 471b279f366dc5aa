"""The path of a GPS fix, end to end: simulated walkers on both routes, through every protocol.

Each walker's phone reports a fix every 10 s with correlated GPS noise (sigma 10 m), in the
exact form its app sends, to a real server process on a loopback port. Fix times lie hours
in the past (the walk is replayed fast); the server matches by fix time, not arrival time.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tests.support import Server, register_walker
from tracking.simulation import SimFix, WalkerPlan, simulate, varied_plans

pytestmark = pytest.mark.e2e

EVENT = load_event(event_path("antwerp-2023"))
NOW = datetime.now(UTC)
START = NOW - timedelta(hours=13)  # a 40 km walk at 3.5 km/h with rests ends before now
RADIUS_M = EVENT.checkin_radius_m


# --- phones: the exact requests each app sends ----------------------------------------------


@dataclass
class Walker:
    name: str
    route_id: str
    app: str
    fixes: list[SimFix]
    id: str = ""
    token: str = ""
    polls: list[tuple[float, float]] = field(default_factory=list)  # (progress, truth)

    @property
    def route(self) -> PreparedRoute:
        return EVENT.routes[self.route_id].route

    def battery(self, fix: SimFix) -> float:
        return round(95 - fix.true_along_m / 1000)  # 1 % a kilometre


def iso_ms(at: datetime) -> str:
    """JavaScript's Date.toISOString(): milliseconds and a Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def page_fix(w: Walker, k: int, f: SimFix) -> dict:
    """One fix as the walker page (tracking/static/walker.js) queues it."""
    return {
        "id": f"{w.token[:6]}-{k}",
        "recorded_at": iso_ms(f.at),
        "lat": round(f.lat, 6),
        "lon": round(f.lon, 6),
        "accuracy_m": round(f.accuracy_m, 1),
        "altitude_m": 12.3,
        "speed_mps": 1.31,
        "heading_deg": 184,
        "battery_pct": w.battery(f),
    }


def send_page(c: httpx.Client, w: Walker, batch: list[tuple[int, SimFix]]) -> dict:
    r = c.post(
        "/api/fixes",
        json={"fixes": [page_fix(w, k, f) for k, f in batch]},
        headers={"Authorization": f"Bearer {w.token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def osmand_app(c: httpx.Client, w: Walker, f: SimFix) -> httpx.Response:
    # OsmAnd's online tracking template: ?id=..&lat={0}&lon={1}&timestamp={2}&hdop={3}...
    params = {
        "id": w.token,
        "lat": f"{f.lat:.6f}",
        "lon": f"{f.lon:.6f}",
        "timestamp": int(f.at.timestamp() * 1000),
        "hdop": round(f.accuracy_m / 5, 1),
        "altitude": "11.0",
        "speed": "0.68",
    }
    return c.get("/ingest/osmand", params=params)


def traccar_android(c: httpx.Client, w: Walker, f: SimFix) -> httpx.Response:
    # Traccar Client for Android: POST with everything in the query and an empty body.
    params = {
        "id": w.token,
        "timestamp": int(f.at.timestamp()),
        "lat": repr(f.lat),
        "lon": repr(f.lon),
        "speed": "2.5466",
        "bearing": "93.0",
        "altitude": "12.0",
        "accuracy": repr(f.accuracy_m),
        "batt": f"{w.battery(f)}.0",
    }
    return c.post("/ingest/osmand", params=params)


def osmand_form(c: httpx.Client, w: Walker, f: SimFix) -> httpx.Response:
    body = urlencode(
        {
            "id": w.token,
            "timestamp": int(f.at.timestamp()),
            "lat": f.lat,
            "lon": f.lon,
            "accuracy": f.accuracy_m,
            "batt": w.battery(f),
        }
    )
    return c.post(
        "/ingest/osmand",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def traccar_json(c: httpx.Client, w: Walker, f: SimFix) -> httpx.Response:
    # Traccar Client 9 (flutter_background_geolocation and Traccar's location template).
    location = {
        "timestamp": iso_ms(f.at),
        "coords": {
            "latitude": f.lat,
            "longitude": f.lon,
            "accuracy": f.accuracy_m,
            "speed": -1,
            "heading": -1,
            "altitude": 12.4,
        },
        "is_moving": True,
        "odometer": round(f.true_along_m, 1),
        "event": "",
        "battery": {"level": w.battery(f) / 100, "is_charging": False},
        "activity": {"type": "walking"},
        "extras": {},
        "_": f"&id={w.token}&lat={f.lat}&lon={f.lon}&timestamp={iso_ms(f.at)}&",
    }
    return c.post(
        "/ingest/osmand",
        content=json.dumps({"location": location, "device_id": w.token}),
        headers={"Content-Type": "application/json"},
    )


def owntracks(c: httpx.Client, w: Walker, f: SimFix) -> httpx.Response:
    message = {
        "_type": "location",
        "acc": round(f.accuracy_m),
        "alt": 12,
        "batt": w.battery(f),
        "bs": 1,
        "conn": "m",
        "created_at": int(f.at.timestamp()) + 1,
        "lat": f.lat,
        "lon": f.lon,
        "m": 1,
        "t": "u",
        "tid": "WK",
        "topic": "owntracks/walker/phone",
        "tst": int(f.at.timestamp()),
        "vac": 3,
        "vel": 4,
        "cog": 180,
    }
    r = c.post(
        "/ingest/owntracks",
        content=json.dumps(message),
        auth=("walker", w.token),
        headers={
            "Content-Type": "application/json; charset=UTF-8",
            "X-Limit-U": "walker",
            "X-Limit-D": "phone",
        },
    )
    assert r.json() == [], r.text
    return r


SINGLE: dict[str, Callable[[httpx.Client, Walker, SimFix], httpx.Response]] = {
    "osmand": osmand_app,
    "traccar-android": traccar_android,
    "form": osmand_form,
    "traccar-json": traccar_json,
    "owntracks": owntracks,
}


def send(c: httpx.Client, w: Walker, batch: list[tuple[int, SimFix]]) -> None:
    """Deliver fixes as the walker's app does: the page in one batch, the apps one by one."""
    if w.app == "page":
        answer = send_page(c, w, batch)
        assert answer["rejected"] == [] and answer["accepted"] + answer["duplicates"] == len(batch)
        return
    for _, f in batch:
        r = SINGLE[w.app](c, w, f)
        assert r.status_code == 200, (w.app, r.status_code, r.text)


def view(c: httpx.Client, srv: Server, w: Walker) -> dict:
    r = c.get(f"/api/walkers/{w.id}", headers=srv.organiser)
    assert r.status_code == 200, r.text
    return r.json()


def walk(srv: Server, w: Walker, chunk: int = 30) -> dict:
    """Send the walker's whole walk, polling progress after every chunk; the final view."""
    with srv.client() as c:
        indexed = list(enumerate(w.fixes))
        for i in range(0, len(indexed), chunk):
            batch = indexed[i : i + chunk]
            send(c, w, batch)
            if w.app == "page" and i // chunk % 10 == 5:  # the page resends a batch
                again = send_page(c, w, batch)
                assert (again["accepted"], again["duplicates"]) == (0, len(batch))
            w.polls.append((view(c, srv, w)["distance_along_m"], batch[-1][1].true_along_m))
        return view(c, srv, w)


def register(srv: Server, w: Walker) -> Walker:
    made = register_walker(srv, w.name, w.route_id)
    w.id, w.token = made["id"], made["token"]
    return w


def stored_fixes(srv: Server, walker_id: str) -> list[tuple[float, str, float | None]]:
    """(recorded_at, flags, distance_along_m) of every stored fix, straight from the SQLite file."""
    db = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT recorded_at, flags, distance_along_m FROM fixes WHERE walker_id=?"
            " ORDER BY recorded_at",
            (walker_id,),
        ).fetchall()
    finally:
        db.close()


def true_arrival(w: Walker, distance_m: float) -> datetime:
    return next(f.at for f in w.fixes if f.true_along_m >= distance_m - 0.5)


def assert_checkins_match_the_walk(w: Walker, final: dict) -> None:
    """Every point the walker truly reached, once, in order, at about the right time; no other."""
    reached = w.fixes[-1].true_along_m
    expected = [cp for cp in w.route.checkpoints if cp.distance_along_m <= reached + 1]
    got = final["checkins"]
    assert [c["checkpoint_id"] for c in got] == [cp.id for cp in expected], (w.name, got)
    assert not any(c["out_of_order"] for c in got)
    for c, cp in zip(got, expected, strict=True):
        early = true_arrival(w, cp.distance_along_m) - datetime.fromisoformat(c["at"])
        # Checked in on entering the radius: up to about 75 m / 1 m/s before the point.
        assert -30 <= early.total_seconds() <= RADIUS_M / 0.95 + 30, (w.name, cp.id, early)


def assert_progress_tracks_the_truth(w: Walker) -> None:
    seen = [p for p, _ in w.polls]
    assert all(b >= a for a, b in itertools.pairwise(seen)), w.name
    errors = [abs(p - truth) for p, truth in w.polls]
    assert statistics.median(errors) < 50, (w.name, statistics.median(errors))


# --- the walkers ---------------------------------------------------------------------------


def cohort() -> list[Walker]:
    """Eight walkers: both routes, all six request forms, one detour, two who stop early."""
    plans = varied_plans(8, START, seed=11, rest_s=600)
    setup = [
        ("40km", "page", {}),
        ("40km", "traccar-json", {"detour_at_m": 15_000, "detour_s": 300}),
        ("40km", "owntracks", {}),
        ("40km", "osmand", {"silent_after_m": 28_000}),
        ("20km", "page", {}),
        ("20km", "traccar-android", {}),
        ("20km", "form", {"silent_after_m": 8_000}),
        ("20km", "owntracks", {}),
    ]
    walkers = []
    for k, ((route_id, app, extra), plan) in enumerate(zip(setup, plans, strict=True)):
        plan = WalkerPlan(**{**plan.__dict__, **extra})
        fixes = simulate(
            EVENT.routes[route_id].route, plan, interval_s=10, sigma_m=10, seed=100 + k
        )
        label = " detour" if "detour_at_m" in extra else ""
        walkers.append(Walker(f"{app} {route_id} {k}{label}", route_id, app, fixes))
    return walkers


def test_walkers_on_both_routes_through_every_protocol(server):
    walkers = [register(server, w) for w in cohort()]
    with ThreadPoolExecutor(max_workers=len(walkers)) as pool:
        finals = list(pool.map(lambda w: walk(server, w), walkers))
    for w, final in zip(walkers, finals, strict=True):
        assert_progress_tracks_the_truth(w)
        assert_checkins_match_the_walk(w, final)
        finished = w.fixes[-1].true_along_m >= w.route.length_m
        assert (final["status"] == "finished") == finished, (w.name, final["status"])
        last_at = datetime.fromisoformat(final["last_fix"]["recorded_at"])
        assert abs(last_at - w.fixes[-1].at) < timedelta(seconds=1), w.name
        stored = stored_fixes(server, w.id)
        assert len(stored) == len(w.fixes), w.name  # every fix once, resent ones included
        flagged = [flags for _, flags, _ in stored if flags]
        if "detour" in w.name:  # the simulated walker steps 250 m aside at once, and back
            assert set(flagged) == {"impossible_speed"} and len(flagged) < 20, flagged
        else:
            assert flagged == [], w.name
    assert "Traceback" not in server.log.read_text()


def test_the_walker_sees_the_same_progress_as_the_organisers(server):
    (w,) = [register(server, w) for w in cohort()[5:6]]
    final = walk(server, Walker(w.name, w.route_id, w.app, w.fixes[:400], w.id, w.token))
    with server.client() as c:
        me = c.get("/api/me", headers={"Authorization": f"Bearer {w.token}"})
        assert me.status_code == 200
        mine = me.json()
    assert mine["id"] == w.id and mine["distance_along_m"] == final["distance_along_m"]
    assert mine["checkins"] == final["checkins"] and "phone" not in mine


# --- an offline backlog, delivered late and shuffled ----------------------------------------


def split_gap(fixes: list[SimFix], from_m: float, to_m: float):
    a = next(i for i, f in enumerate(fixes) if f.true_along_m >= from_m)
    b = next(i for i, f in enumerate(fixes) if f.true_along_m >= to_m)
    return a, b


def test_an_offline_backlog_delivered_late_and_shuffled_through_the_walker_page(server):
    plan = varied_plans(1, START, seed=5)[0]
    route = EVENT.routes["20km"].route
    w = register(
        server, Walker("offline page", "20km", "page", simulate(route, plan, sigma_m=10, seed=7))
    )
    gap_cp = next(cp for cp in route.checkpoints if 10_000 < cp.distance_along_m < 13_000)
    a, b = split_gap(w.fixes, 10_400, 13_100)  # about 40 minutes offline, past a rest stop
    indexed = list(enumerate(w.fixes))
    backlog = indexed[a:b]
    random.Random(3).shuffle(backlog)
    seen: list[float] = []
    newest: list[datetime] = []
    with server.client() as c:

        def deliver(batch):
            send(c, w, batch)
            now = view(c, server, w)
            seen.append(now["distance_along_m"])
            newest.append(datetime.fromisoformat(now["last_fix"]["recorded_at"]))

        for i in range(0, a, 30):
            deliver(indexed[i : min(i + 30, a)])
        for i in range(b, b + 180, 30):  # back online: the live position goes first
            deliver(indexed[i : i + 30])
        live_at = newest[-1]
        for i in range(0, len(backlog), 50):
            deliver(backlog[i : i + 50])
        assert newest[-1] == live_at  # the live marker never went back to the backlog
        after_backlog = view(c, server, w)
        for i in range(b + 180, len(indexed), 30):
            deliver(indexed[i : i + 30])
        final = view(c, server, w)
    assert all(y >= x for x, y in itertools.pairwise(seen))
    got = {c["checkpoint_id"]: c for c in after_backlog["checkins"]}
    assert gap_cp.id in got
    late_at = datetime.fromisoformat(got[gap_cp.id]["at"])
    early = true_arrival(w, gap_cp.distance_along_m) - late_at
    assert -30 <= early.total_seconds() <= RADIUS_M / 0.95 + 30
    assert_checkins_match_the_walk(w, final)
    assert len(stored_fixes(server, w.id)) == len(w.fixes)


def test_an_offline_backlog_from_traccar_client_one_fix_per_request(server):
    plan = varied_plans(1, START, seed=6)[0]
    route = EVENT.routes["20km"].route
    w = register(
        server,
        Walker(
            "offline traccar", "20km", "traccar-json", simulate(route, plan, sigma_m=10, seed=8)
        ),
    )
    fort = next(cp for cp in route.checkpoints if 3_000 < cp.distance_along_m < 6_000)
    a, b = split_gap(w.fixes, fort.distance_along_m - 400, fort.distance_along_m + 400)
    end = b + 60
    backlog = list(enumerate(w.fixes))[a:b]
    random.Random(4).shuffle(backlog)
    seen = []
    with server.client() as c:
        for part in (list(enumerate(w.fixes))[:a], list(enumerate(w.fixes))[b:end], backlog):
            for i in range(0, len(part), 20):
                send(c, w, part[i : i + 20])
                seen.append(view(c, server, w)["distance_along_m"])
        final = view(c, server, w)
    assert all(y >= x for x, y in itertools.pairwise(seen))
    assert [c["checkpoint_id"] for c in final["checkins"]] == ["start-zomerfabriek", fort.id]
    early = true_arrival(w, fort.distance_along_m) - datetime.fromisoformat(
        final["checkins"][1]["at"]
    )
    assert -30 <= early.total_seconds() <= RADIUS_M / 0.95 + 30
    assert abs(final["distance_along_m"] - w.fixes[end - 1].true_along_m) < 50
    assert len(stored_fixes(server, w.id)) == end


def test_manual_check_in_at_a_point_and_too_far_from_any(server):
    w = register(server, Walker("button", "20km", "page", []))
    route = EVENT.routes["20km"].route
    start = route.checkpoints[0]
    auth = {"Authorization": f"Bearer {w.token}"}
    with server.client() as c:
        # 100 m north of the start: outside its 75 m, inside 75 m plus the phone's 40 m.
        r = c.post(
            "/api/checkins",
            headers=auth,
            json={
                "lat": start.lat + 0.0009,
                "lon": start.lon,
                "accuracy_m": 40,
                "recorded_at": iso_ms(START),
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["checkpoint_id"], body["name"]) == (start.id, start.name)
        assert abs(datetime.fromisoformat(body["at"]) - START) < timedelta(milliseconds=1)
        far = route.checkpoints[2]
        lon, lat = route.point_at(far.distance_along_m - 3000)
        r = c.post(
            "/api/checkins",
            headers=auth,
            json={
                "lat": lat,
                "lon": lon,
                "accuracy_m": 10,
                "recorded_at": iso_ms(START + timedelta(hours=1)),
            },
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["nearest"]["checkpoint_id"] in {cp.id for cp in route.checkpoints[1:]}
        assert body["nearest"]["distance_m"] > 500
        assert body["detail"].startswith("You are ") and body["nearest"]["name"] in body["detail"]
        assert "walk on" in body["detail"]
        checkins = view(c, server, w)["checkins"]
    assert [(x["checkpoint_id"], x["source"]) for x in checkins] == [(start.id, "manual")]
