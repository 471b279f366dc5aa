"""The engine on the day: many requests at once, a long history with late fixes, and the
apps' queues that must never jam. Real server processes, real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.test_fix_path import EVENT, START, Walker, iso_ms, page_fix, register
from tests.support import Server, register_walker
from tracking.simulation import simulate, varied_plans

pytestmark = pytest.mark.e2e

ROUTE_40 = EVENT.routes["40km"].route
ROUTE_20 = EVENT.routes["20km"].route


def db_rows(srv: Server, sql: str, *args: object) -> list[tuple]:
    db = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


# --- 400 requests at once ----------------------------------------------------------------------


def test_400_concurrent_requests_of_every_kind(server):
    walkers = [register_walker(server, f"W{k}", "20km" if k % 2 else "40km") for k in range(12)]
    with server.client() as c:  # three walkers with an SOS that organisers will acknowledge
        ack_ids = [
            c.post("/api/sos", json={}, headers=bearer(w)).json()["alert_id"] for w in walkers[9:]
        ]
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    start_lon, start_lat = ROUTE_40.point_at(0)

    def fix_point(k: int, w: int) -> tuple[datetime, float, float]:
        route = ROUTE_20 if w % 2 else ROUTE_40
        lon, lat = route.point_at(50 + 7.0 * k)
        return t0 + timedelta(seconds=5 * k), lat, lon

    requests: list[tuple[str, dict]] = []
    for k in range(400):
        w = k % 9  # walkers 0..8 send; 9..11 have the SOS being acknowledged
        token = walkers[w]["token"]
        at, lat, lon = fix_point(k, w)
        kind = k % 10
        if kind == 0:
            requests.append(("page", {"json": {"fixes": [page_item(f"p{k}", at, lat, lon)]}}))
        elif kind == 1:
            requests.append(("osmand", osmand_query(token, at, lat, lon)))
        elif kind == 2:
            requests.append(("traccar", traccar_json(token, at, lat, lon)))
        elif kind == 3:
            requests.append(("owntracks", owntracks(token, at, lat, lon)))
        elif kind == 4:
            requests.append(("sos", {"json": {"lat": lat, "lon": lon, "message": f"help {k}"}}))
        elif kind == 5:
            requests.append(("checkin", {"json": {"lat": start_lat, "lon": start_lon}}))
        elif kind == 6:
            requests.append(("me", {}))
        elif kind == 7:
            requests.append(("register", {"json": {"name": f"New {k}", "route_id": "20km"}}))
        elif kind == 8:
            requests.append(("ack", {"alert_id": ack_ids[k % 3], "resolve": k % 20 == 8}))
        else:
            requests.append(("osmand-post", osmand_query(token, at, lat, lon)))
    owners = [walkers[k % 9] for k in range(400)]

    async def one(c: httpx.AsyncClient, kind: str, req: dict, w: dict) -> httpx.Response:
        auth = bearer(w)
        if kind == "page":
            return await c.post("/api/fixes", headers=auth, **req)
        if kind == "osmand":
            return await c.get("/ingest/osmand", **req)
        if kind == "osmand-post":
            return await c.post("/ingest/osmand", **req)
        if kind == "traccar":
            return await c.post("/ingest/osmand", **req)
        if kind == "owntracks":
            return await c.post("/ingest/owntracks", auth=("phone", w["token"]), **req)
        if kind == "sos":
            return await c.post("/api/sos", headers=auth, **req)
        if kind == "checkin":
            return await c.post("/api/checkins", headers=auth, **req)
        if kind == "me":
            return await c.get("/api/me", headers=auth)
        if kind == "register":
            return await c.post("/api/walkers", headers=server.organiser, **req)
        action = "resolve" if req["resolve"] else "ack"
        return await c.post(f"/api/alerts/{req['alert_id']}/{action}", headers=server.organiser)

    async def all_at_once() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as c:
            return await asyncio.gather(
                *(one(c, kind, req, w) for (kind, req), w in zip(requests, owners, strict=True))
            )

    answers = asyncio.run(all_at_once())
    statuses = Counter(
        (kind, r.status_code) for (kind, _), r in zip(requests, answers, strict=True)
    )
    assert not [s for s in statuses if s[1] >= 500], statuses
    assert all(code in (200, 201) for (kind, code) in statuses if kind != "checkin"), statuses
    assert {code for (kind, code) in statuses if kind == "checkin"} <= {201, 422}

    # every SOS answered, and stored exactly once per walker (one open alert per walker)
    sos = [
        (w["id"], r.json()["alert_id"])
        for (k, _), r, w in zip(requests, answers, owners, strict=True)
        if k == "sos"
    ]
    assert len(sos) == 40
    per_walker = {wid: {a for x, a in sos if x == wid} for wid, _ in sos}
    assert all(len(ids) == 1 for ids in per_walker.values()), per_walker
    stored = db_rows(
        server, "SELECT walker_id, COUNT(*) FROM alerts WHERE kind='sos' GROUP BY walker_id"
    )
    assert {wid: n for wid, n in stored if wid in per_walker} == dict.fromkeys(per_walker, 1)

    # every acknowledged fix stored once: page, OsmAnd, Traccar and OwnTracks
    fix_kinds = ("page", "osmand", "osmand-post", "traccar", "owntracks")
    acked = sum(
        1
        for (k, _), r in zip(requests, answers, strict=True)
        if k in fix_kinds and r.status_code == 200
    )
    positions = db_rows(
        server,
        "SELECT COUNT(*), COUNT(DISTINCT walker_id || recorded_at || client_id) FROM fixes WHERE source NOT IN ('sos', 'checkin')",
    )
    assert positions[0][0] == positions[0][1] == acked == 200
    with server.client() as c:
        listed = c.get("/api/walkers", headers=server.organiser).json()
        assert len(listed) == 12 + 40  # every registration kept
        alerts = c.get("/api/alerts", headers=server.organiser).json()
    assert {a["id"]: a["state"] for a in alerts if a["id"] in ack_ids} == dict.fromkeys(
        ack_ids, "resolved"
    )
    assert "Traceback" not in server.log.read_text()


def bearer(w: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {w['token']}"}


def page_item(client_id: str, at: datetime, lat: float, lon: float, **extra: object) -> dict:
    return {
        "id": client_id,
        "recorded_at": iso_ms(at),
        "lat": lat,
        "lon": lon,
        "accuracy_m": 8,
        **extra,
    }


def osmand_query(token: str, at: datetime, lat: float, lon: float, **extra: object) -> dict:
    # Traccar Client 10.x: the fields of HttpUploader, as a query
    params = {
        "id": token,
        "timestamp": int(at.timestamp()),
        "lat": f"{lat:.6f}",
        "lon": f"{lon:.6f}",
    }
    params.update({"accuracy": "8.0", "batt": "77", "charge": "false", **extra})
    return {"params": params}


def traccar_json(
    token: str, at: datetime | None, lat: float | None, lon: float | None, **extra: object
) -> dict:
    # Traccar Client 9.x: {device_id, location: {timestamp, coords, battery, ...}}
    coords = {} if lat is None else {"latitude": lat, "longitude": lon, "accuracy": 8.0}
    location = {"coords": coords, "battery": {"level": 0.7, "is_charging": False}, **extra}
    if at is not None:
        location["timestamp"] = iso_ms(at)
    return {"json": {"device_id": token, "location": location}}


def owntracks(token: str, at: datetime, lat: float, lon: float, **extra: object) -> dict:
    message = {"_type": "location", "lat": lat, "lon": lon, "tst": int(at.timestamp()), "acc": 8}
    return {"json": {**message, "tid": "WK", "batt": 70, **extra}}


# --- a long history, late fixes one per request, another walker live ----------------------------


def test_late_fixes_on_a_long_history_find_their_check_in_and_delay_nobody(server):
    plan = varied_plans(1, START, seed=5)[0]
    fixes = simulate(ROUTE_40, plan, interval_s=1.5, sigma_m=5, seed=5)
    assert len(fixes) >= 20_000
    lint = next(cp for cp in ROUTE_40.checkpoints if cp.id == "lint")
    passed = next(k for k, f in enumerate(fixes) if f.true_along_m >= lint.distance_along_m)
    gap = range(passed - 1500, passed + 1500)  # 75 minutes without signal around Lint
    a = register(server, Walker("Long history", "40km", "page", fixes))
    with server.client() as c:
        before = [(k, f) for k, f in enumerate(fixes) if k < gap.start]
        after = [(k, f) for k, f in enumerate(fixes) if k >= gap.stop]
        for i in range(0, len(before), 2000):
            post_page(c, a, before[i : i + 2000])
        post_page(c, a, after[:1])  # the phone comes back: its live position first
        view = c.get(f"/api/walkers/{a.id}", headers=server.organiser).json()
        assert "lint" not in {x["checkpoint_id"] for x in view["checkins"]}
        for i in range(1, len(after), 2000):
            post_page(c, a, after[i : i + 2000])
    assert (
        db_rows(server, "SELECT COUNT(*) FROM fixes WHERE walker_id=?", a.id)[0][0] >= 20_000 - 3000
    )

    b = register_walker(server, "Live walker", "20km")
    delays: list[float] = []
    stop = threading.Event()

    def live() -> None:
        t = datetime.now(UTC) - timedelta(minutes=20)
        with server.client() as c:
            k = 0
            while not stop.is_set():
                lon, lat = ROUTE_20.point_at(100 + 13 * k)
                t0 = time.perf_counter()
                r = c.post(
                    "/api/fixes",
                    json={"fixes": [page_item(f"b{k}", t + timedelta(seconds=10 * k), lat, lon)]},
                    headers=bearer(b),
                )
                delays.append(time.perf_counter() - t0)
                assert r.status_code == 200 and r.json()["accepted"] == 1
                k += 1
                time.sleep(0.02)

    thread = threading.Thread(target=live)
    thread.start()
    late_times = []
    try:
        with server.client() as c:
            for k in gap:  # oldest first, one per request, as the page's backlog goes
                t0 = time.perf_counter()
                post_page(c, a, [(k, fixes[k])])
                late_times.append(time.perf_counter() - t0)
    finally:
        stop.set()
        thread.join(30)
    with server.client() as c:
        view = c.get(f"/api/walkers/{a.id}", headers=server.organiser).json()
    found = {x["checkpoint_id"]: datetime.fromisoformat(x["at"]) for x in view["checkins"]}
    assert "lint" in found
    assert abs((found["lint"] - fixes[passed].at).total_seconds()) < 120  # its true time
    assert view["distance_along_m"] >= fixes[-1].true_along_m - 100  # the live position stays
    assert len(delays) > 50 and max(delays) < 0.5, (max(delays), statistics.median(delays))
    # the cost of a late fix does not grow with the history: the last ones cost the first ones'
    first, last = statistics.median(late_times[:300]), statistics.median(late_times[-300:])
    assert last < 3 * first + 0.005, (first, last)


def post_page(c: httpx.Client, w: Walker, batch: list) -> dict:
    r = c.post(
        "/api/fixes",
        json={"fixes": [page_fix(w, k, f) for k, f in batch]},
        headers={"Authorization": f"Bearer {w.token}"},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["rejected"] == [] and answer["accepted"] + answer["duplicates"] == len(batch)
    return answer


# --- a refused fix never jams an app's queue ---------------------------------------------------

BEFORE_THE_DAY = datetime(2023, 10, 7, 19, 0, tzinfo=UTC)  # the app tried the evening before


def app_request(
    app: str, token: str, at: datetime | None, lat: float | None, lon: float | None, **extra: object
) -> tuple[str, str, dict]:
    if app == "traccar-10":
        req = osmand_query(token, at or datetime.now(UTC), lat or 0.0, lon or 0.0, **extra)
        if lat is None:
            req["params"] = {k: v for k, v in req["params"].items() if k not in ("lat", "lon")}
        return "POST", "/ingest/osmand", req
    if app == "traccar-9":
        return "POST", "/ingest/osmand", traccar_json(token, at, lat, lon, **extra)
    assert at is not None and lat is not None and lon is not None
    return (
        "POST",
        "/ingest/owntracks",
        {**owntracks(token, at, lat, lon, **extra), "auth": ("phone", token)},
    )


CASES = {
    "before the event day": "before the event day",
    "clock ahead": "clock_ahead",
    "heartbeat without position": None,
    "poor accuracy": "poor_accuracy",
}


@pytest.mark.parametrize("app", ["traccar-10", "traccar-9", "owntracks"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_or_flagged_fix_is_acknowledged_and_the_queue_moves_on(module_server, app, case):
    if case == "heartbeat without position" and app == "owntracks":
        pytest.skip("OwnTracks sends no message without a position")
    srv = module_server
    w = register_walker(srv, f"{app} {case}", "20km")
    now = datetime.now(UTC)
    lon, lat = ROUTE_20.point_at(2000)
    first = {
        "before the event day": (BEFORE_THE_DAY, lat, lon, {}),
        "clock ahead": (now + timedelta(hours=2), lat, lon, {}),
        "heartbeat without position": (now - timedelta(minutes=9), None, None, {}),
        "poor accuracy": (
            now - timedelta(minutes=9),
            lat,
            lon,
            {"accuracy": "450"} if app == "traccar-10" else {"acc": 450},
        ),
    }[case]
    at, a_lat, a_lon, extra = first
    if case == "poor accuracy" and app == "traccar-9":
        method, path, req = app_request(app, w["token"], at, a_lat, a_lon)
        req["json"]["location"]["coords"]["accuracy"] = 450
    else:
        method, path, req = app_request(app, w["token"], at, a_lat, a_lon, **extra)
    with srv.client() as c:
        r = c.request(method, path, **req)
        assert 200 <= r.status_code < 300, r.text  # the app drops it from its queue
        # ...and sends what was behind it: these move the walker along
        for k in range(8):
            lon_k, lat_k = ROUTE_20.point_at(2000 + 60 * (k + 1))
            # a clock-ahead fix took its arrival time: what follows comes after it
            due = (
                now + timedelta(seconds=30 * (k + 1))
                if case == "clock ahead"
                else (now - timedelta(minutes=8) + timedelta(seconds=45 * k))
            )
            m, p, q = app_request(app, w["token"], due, lat_k, lon_k)
            assert c.request(m, p, **q).status_code == 200
        view = c.get(f"/api/walkers/{w['id']}", headers=srv.organiser).json()
    assert view["distance_along_m"] == pytest.approx(2000 + 60 * 8, abs=40)
    device = view["device"]
    words = CASES[case]
    if case == "before the event day":
        assert words in device["last_refusal"]["reason"]
        assert device["refusals"] == {"before_event": 1}
    elif words is not None:
        assert device["flagged"].get(words) == 1, device
    else:  # the heartbeat: alive, nothing refused, nothing stored
        assert device["last_refusal"] is None
