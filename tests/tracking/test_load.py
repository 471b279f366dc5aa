"""The simulated phones: requests in exactly the forms the apps send, movement as simulated.

Each request is decoded again by the server's own protocol decoder, so a sender and the
decoder cannot drift apart; the literal request lines follow the apps' sources (Traccar Client
8's ProtocolFormatter, Traccar Client 9's location template, OsmAnd's URL template, OwnTracks'
HTTP payload) and the walker page's `makeFix`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import numpy as np
import pytest

from routes.bundled import event_path
from routes.event import load_event
from routes.geodesy import distance_m
from routes.prepared import PreparedRoute
from tests.support import PROJECT, Server
from tracking import load
from tracking.load import (
    Phone,
    Reading,
    SimClock,
    Stats,
    osmand_request,
    owntracks_request,
    sos_request,
    traccar_json_request,
    traccar_request,
    walker_specs,
    web_request,
)
from tracking.protocols.osmand import decode_json, decode_params
from tracking.protocols.owntracks import decode_location
from tracking.protocols.walker_api import batch_items, decode_fix
from tracking.simulation import Noise, WalkerPlan

BASE = "https://walk.example.org"
TOKEN = "tQ3v-walker-token-9f2K"
WHEN = datetime(2023, 10, 8, 9, 15, 30, tzinfo=UTC)
READING = Reading(
    at=WHEN,
    lat=51.1262,
    lon=4.5795,
    accuracy_m=8.5,
    altitude_m=12.0,
    speed_mps=1.4,
    heading_deg=93.0,
    battery_pct=87.0,
    seq=5,
)


@pytest.fixture(scope="module")
def route() -> PreparedRoute:
    return load_event(event_path("antwerp-2023")).routes["20km"].route


def query(request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


# --- the forms the apps send ---------------------------------------------------------------
def test_traccar_client_8_posts_the_osmand_query_with_an_empty_body():
    request = traccar_request(BASE, TOKEN, READING)
    assert request.method == "POST" and request.content == b""
    assert str(request.url) == (
        f"{BASE}/ingest/osmand?id={TOKEN}&timestamp=1696756530&lat=51.1262&lon=4.5795"
        "&speed=2.7213822894168462&bearing=93.0&altitude=12.0&accuracy=8.5&batt=87.0"
    )
    fix = decode_params(query(request)).fixes[0]  # knots, Traccar Client's unit
    assert (fix.recorded_at, fix.lat, fix.lon, fix.battery_pct) == (WHEN, 51.1262, 4.5795, 87.0)
    assert fix.speed_mps == pytest.approx(1.4) and not fix.sos


def test_traccar_client_8_adds_the_alarm_for_sos():
    request = traccar_request(BASE, TOKEN, Reading(**{**READING.__dict__, "sos": True}))
    assert str(request.url).endswith("&batt=87.0&alarm=sos")
    assert decode_params(query(request)).fixes[0].sos


def test_traccar_client_9_posts_its_json_location_template():
    request = traccar_json_request(BASE, TOKEN, READING)
    assert request.method == "POST" and str(request.url) == f"{BASE}/ingest/osmand"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert list(body) == ["location", "device_id"] and body["device_id"] == TOKEN
    location = body["location"]
    assert list(location) == [
        "timestamp",
        "coords",
        "is_moving",
        "odometer",
        "event",
        "battery",
        "activity",
        "extras",
        "_",
    ]
    assert list(location["coords"]) == [
        "latitude",
        "longitude",
        "accuracy",
        "speed",
        "heading",
        "altitude",
    ]
    assert location["timestamp"] == "2023-10-08T09:15:30.000Z"
    assert location["battery"] == {"level": 0.87, "is_charging": False}
    assert location["_"].startswith(f"&id={TOKEN}&lat=51.1262&lon=4.5795&timestamp=")
    decoded = decode_json(body)
    fix = decoded.fixes[0]
    assert decoded.token == TOKEN
    assert (fix.recorded_at, fix.lat, fix.speed_mps, fix.battery_pct) == (WHEN, 51.1262, 1.4, 87.0)


def test_osmand_gets_its_url_template_with_milliseconds():
    request = osmand_request(BASE, TOKEN, READING)
    assert request.method == "GET" and request.content == b""
    assert str(request.url) == (
        f"{BASE}/ingest/osmand?id={TOKEN}&lat=51.126200&lon=4.579500&timestamp=1696756530000"
        "&hdop=8.5&altitude=12.0&speed=1.40"
    )
    fix = decode_params(query(request)).fixes[0]  # hdop: OsmAnd, m/s
    assert (fix.recorded_at, fix.lat, fix.lon, fix.speed_mps) == (WHEN, 51.1262, 4.5795, 1.4)


def test_owntracks_posts_a_location_message_with_the_token_as_password():
    request = owntracks_request(BASE, TOKEN, "walker-57", "57", READING)
    assert request.method == "POST" and str(request.url) == f"{BASE}/ingest/owntracks"
    scheme, _, credentials = request.headers["authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(credentials).decode() == f"walker-57:{TOKEN}"
    assert request.headers["x-limit-u"] == "walker-57" and request.headers["x-limit-d"] == "phone"
    body = json.loads(request.content)
    assert body["_type"] == "location" and body["tid"] == "57"
    assert (body["tst"], body["vel"], body["acc"], body["batt"]) == (1696756530, 5, 8, 87)
    assert all(isinstance(body[k], int) for k in ("tst", "vel", "acc", "alt", "cog", "batt"))
    fix = decode_location(body)
    assert fix is not None and (fix.recorded_at, fix.lat, fix.lon) == (WHEN, 51.1262, 4.5795)


def test_the_web_batch_holds_the_fields_the_walker_page_sends():
    request = web_request(BASE, TOKEN, "phone7", [READING])
    assert request.method == "POST" and str(request.url) == f"{BASE}/api/fixes"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    items = batch_items(json.loads(request.content))
    script = (PROJECT / "tracking" / "static" / "walker.js").read_text(encoding="utf-8")
    make_fix = script[script.index("function makeFix") : script.index("function onPosition")]
    page_fields = set(re.findall(r"\b(\w+): ", make_fix)) - {"c", "seq"}
    assert set(items[0]) == page_fields
    assert items[0]["id"] == "phone7-5" and items[0]["recorded_at"] == "2023-10-08T09:15:30.000Z"
    fix = decode_fix(items[0])
    assert (fix.client_id, fix.recorded_at, fix.lat, fix.battery_pct) == (
        "phone7-5",
        WHEN,
        51.1262,
        87,
    )


def test_the_sos_button_posts_the_last_position():
    body = json.loads(sos_request(BASE, TOKEN, READING).content)
    assert body == {
        "message": "SOS from the walker page",
        "lat": 51.1262,
        "lon": 4.5795,
        "accuracy_m": 8.5,
    }
    assert json.loads(sos_request(BASE, TOKEN, None).content) == {
        "message": "SOS from the walker page"
    }


# --- phones that move ------------------------------------------------------------------------
def phone(route: PreparedRoute, protocol: str = "web", **plan: object) -> Phone:
    walker_plan = WalkerPlan(pace_mps=1.25, start_at=WHEN, **plan)  # type: ignore[arg-type]
    return Phone(
        "w1",
        TOKEN,
        protocol,
        route,
        walker_plan,
        Noise(5.0, 60.0, np.random.default_rng(3)),
        phone_id="p1",
    )


def test_time_is_compressed_but_fixes_carry_the_wall_clock(route):
    clock = SimClock(WHEN, speed_up=10)
    p = phone(route)
    first = p.read(clock.sim(WHEN), WHEN)
    later = WHEN + timedelta(seconds=60)
    second = p.read(clock.sim(later), later)
    assert first is not None and second is not None
    assert (first.at, second.at) == (WHEN, later)
    lon, lat = route.point_at(750.0)  # 600 simulated seconds at 1.25 m/s
    assert distance_m(second.lon, second.lat, lon, lat) < 40
    assert (second.seq, second.speed_mps) == (2, pytest.approx(1.25, abs=0.05))


def test_a_silent_phone_stops_and_an_sos_is_raised_once(route):
    silent = phone(route, silent_after_m=500.0)
    assert silent.read(WHEN + timedelta(seconds=100), WHEN) is not None
    assert silent.read(WHEN + timedelta(seconds=500), WHEN) is None and silent.done
    assert silent.read(WHEN + timedelta(seconds=600), WHEN) is None
    sos = phone(route, sos_at_m=300.0)
    flags = [sos.read(WHEN + timedelta(seconds=s), WHEN).sos for s in range(0, 600, 60)]  # type: ignore[union-attr]
    assert flags.count(True) == 1 and flags.index(True) == 4  # 240 s × 1.25 m/s = 300 m


def test_the_phone_stops_at_the_finish(route):
    p = phone(route)
    end = WHEN + timedelta(seconds=route.length_m / 1.25 + 60)
    last = p.read(end, end)
    assert last is not None and p.done
    assert distance_m(last.lon, last.lat, *route.point_at(route.length_m)) < 40
    assert p.read(end + timedelta(minutes=1), end) is None


def test_the_walker_page_batches_the_apps_send_each_reading(route):
    web, traccar = phone(route, "web"), phone(route, "traccar")
    for p in (web, traccar):
        p.pending = [READING, READING]
    assert len(web.requests(BASE, batch_every=3)) == 1  # the first batch goes at once
    web.sent_batches = 1
    assert web.requests(BASE, batch_every=3) == []  # then every third reading
    web.pending.append(READING)
    [(request, count)] = web.requests(BASE, batch_every=3)
    assert count == 3 and len(json.loads(request.content)["fixes"]) == 3
    assert [count for _, count in traccar.requests(BASE, batch_every=3)] == [1, 1]


def test_walkers_are_varied_and_the_scenario_is_there(route):
    routes = {"40km": route, "20km": route}
    now = WHEN
    specs = walker_specs(200, routes, now, seed=4, head_start_h=2.0)
    assert specs == walker_specs(200, routes, now, seed=4, head_start_h=2.0)
    roles = Counter(s.role for s in specs)
    assert roles == {"": 195, "off_route": 3, "sos": 1, "silent": 1}
    assert next(s for s in specs if s.role == "sos").protocol == "web"
    paces = [s.plan.pace_mps * 3.6 for s in specs]
    assert min(paces) >= 3.5 and max(paces) <= 6.5 and np.std(paces) > 0.3
    assert all(
        now - timedelta(hours=2) <= s.plan.start_at <= now + timedelta(minutes=2) for s in specs
    )
    assert all(s.plan.start_at >= now for s in specs if s.role)  # the scenario starts now
    protocols = Counter(s.protocol for s in specs)
    assert (
        set(protocols) == {"web", "traccar", "owntracks"}
        and protocols["web"] > protocols["owntracks"]
    )
    assert 0.25 < sum(s.route_id == "40km" for s in specs) / 200 < 0.55
    assert len({s.bib for s in specs}) == 200


# --- through a real server -------------------------------------------------------------------
@pytest.mark.e2e
def test_every_protocol_reaches_a_real_server(server: Server, route):
    routes = {"20km": route}
    now = datetime.now(UTC)
    specs = [
        load.WalkerSpec(
            f"Sim {p}",
            "20km",
            f"L{i}",
            "",
            p,
            WalkerPlan(1.3, now - timedelta(minutes=30), rest_s=0.0),
        )
        for i, p in enumerate(load.PROTOCOLS)
    ]
    stats = Stats()

    async def scenario() -> list[dict]:
        import httpx

        async with httpx.AsyncClient(timeout=10) as client:
            rows = await load.register(client, server.url, server.token, specs)
            phones = load.make_phones(specs, rows, routes, seed=2)
            stop = asyncio.Event()
            task = asyncio.create_task(
                load.run_phones(
                    client, phones, server.url, SimClock(now), stop, 0.3, stats, batch_every=2
                )
            )
            await asyncio.sleep(2.5)
            stop.set()
            await task
            return rows

    # In a thread of its own: a session's Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        rows = pool.submit(asyncio.run, scenario()).result()
    assert stats.errors == Counter() and stats.fixes >= 5 * 3
    with server.client() as c:
        for spec, row in zip(specs, rows, strict=True):
            view = c.get(f"/api/walkers/{row['id']}", headers=server.organiser).json()
            assert view["last_fix"] is not None, spec.protocol
            assert 2000 < view["distance_along_m"] < 2600, spec.protocol  # 30 min at 4.7 km/h
