"""The phone apps as walkers run them, replayed byte for byte against a real server.

Each request is written as the app writes it, rebuilt from the app's own source (named per
request; the facts are summed up in ../shared/notes/phone-apps.md) and sent over a raw socket,
so the server sees exactly these bytes: request line, headers, body.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.support import Server, register_walker
from tracking.app_setup import owntracks_config, traccar_settings

pytestmark = pytest.mark.e2e

EVENT = load_event(event_path("antwerp-2023"))
ROUTE = EVENT.routes["20km"].route


def send_raw(srv: Server, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request as raw bytes; (status, body)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += s.recv(65536)
    return int(head.split(b" ")[1]), body


def http(method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers)]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- what each app sends ---------------------------------------------------------------------


def traccar_10_android(
    token: str, at: datetime, lat: float | None, lon: float | None, **extra: str
) -> bytes:
    """traccar/traccar-client-sdk core/src/commonMain/kotlin/org/traccar/client/HttpUploader.kt:
    a form POST to the configured URL; speed in knots; `charge` always on Android; a heartbeat
    (TrackerEngine.kt) carries id, timestamp, batt and charge and no position."""
    fields = {"id": token, "timestamp": str(int(at.timestamp()))}
    if lat is not None:
        fields.update(
            lat=f"{lat}",
            lon=f"{lon}",
            accuracy="6.5",
            altitude="12.0",
            speed="2.52",
            bearing="185.0",
        )
    fields.update(
        batt="64",
        charge="false",
        battery_health="good",
        battery_voltage="3.91",
        battery_temp="27.0",
    )
    fields.update(extra)
    body = urlencode(fields).encode()
    return http(
        "POST",
        "/ingest/osmand",
        [
            ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"),
            ("User-Agent", "TraccarClient/10.1 (Android 14)"),
            ("Accept-Encoding", "gzip"),
        ],
        body,
    )


def traccar_10_ios(token: str, at: datetime, lat: float, lon: float, **extra: str) -> bytes:
    """The same HttpUploader.kt on iOS: no battery_health, voltage or temperature; `charge`
    only while charging."""
    fields = {"id": token, "timestamp": str(int(at.timestamp())), "lat": f"{lat}", "lon": f"{lon}"}
    fields.update(accuracy="5.0", altitude="11.0", speed="2.33", bearing="90.0", batt="81", **extra)
    return http(
        "POST",
        "/ingest/osmand",
        [
            ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"),
            ("User-Agent", "TraccarClient/10.1 CFNetwork/1490 Darwin/23.2.0"),
        ],
        urlencode(fields).encode(),
    )


def traccar_9_json(token: str, at: datetime, lat: float, lon: float, **location: object) -> bytes:
    """traccar/traccar-client lib/preferences.dart `_locationTemplate` (flutter_background_
    geolocation): JSON, speed in m/s, `extras` merged into `location` (so SOS is location.alarm)."""
    body = {
        "location": {
            "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "coords": {
                "latitude": lat,
                "longitude": lon,
                "accuracy": 4.7,
                "speed": 1.38,
                "heading": 211.4,
                "altitude": 12.9,
            },
            "is_moving": True,
            "odometer": 1520.3,
            "event": "",
            "battery": {"level": 0.63, "is_charging": False},
            "activity": {"type": "walking"},
            "extras": {},
            "_": f"&id={token}&lat={lat}&lon={lon}&timestamp=x&",
            **location,
        },
        "device_id": token,
    }
    return http(
        "POST",
        "/ingest/osmand",
        [("Content-Type", "application/json"), ("User-Agent", "okhttp/4.12.0")],
        json.dumps(body).encode(),
    )


def traccar_legacy_android(token: str, at: datetime, lat: float, lon: float, **extra: str) -> bytes:
    """traccar/traccar-client-android ProtocolFormatter.kt: everything in the query of a POST
    with an empty body; GPS fixes without an estimate carry accuracy=0.0."""
    query = {"id": token, "timestamp": str(int(at.timestamp())), "lat": f"{lat}", "lon": f"{lon}"}
    query.update(speed="2.0", bearing="0.0", altitude="0.0", accuracy="0.0", batt="55.0", **extra)
    return http(
        "POST",
        "/ingest/osmand?" + urlencode(query),
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"",
    )


def traccar_legacy_ios(token: str, at: datetime, lat: float, lon: float) -> bytes:
    """traccar/traccar-client-ios ProtocolFormatter.swift: the URL's query replaced, %.06f."""
    query = f"id={token}&timestamp={int(at.timestamp())}&lat={lat:.06f}&lon={lon:.06f}&speed=1.5&bearing=0.0&altitude=9.0&accuracy=10.0&batt=70.0"
    return http(
        "POST", "/ingest/osmand?" + query, [("User-Agent", "Traccar%20Client/6 CFNetwork")], b""
    )


def osmand_get(
    token: str,
    at: datetime,
    lat: float,
    lon: float,
    accuracy_m: float = 31.0,
    speed_mps: float = 1.4,
) -> bytes:
    """osmandapp/OsmAnd LiveMonitoringHelper.java: GET of the URL template the walker page gives
    (tracking/app_setup.py osmand_template): {2} epoch ms, {3} accuracy m, {5} speed m/s."""
    target = (
        f"/ingest/osmand?id={quote(token)}&units=si&lat={lat}&lon={lon}&timestamp={int(at.timestamp() * 1000)}"
        f"&hdop={accuracy_m}&altitude=10.0&speed={speed_mps}&bearing=90.0"
    )
    return http("GET", target, [("User-Agent", "OsmAnd~ 4.9.10")])


def owntracks(token: str, message: dict, ios: bool = False) -> bytes:
    """owntracks/android net/http/HttpMessageProcessorEndpoint.kt (Basic auth with user name
    and password, X-Limit-U/D) and owntracks/ios Connection.m (Authentication switch on)."""
    auth = base64.b64encode(f"walker-57:{token}".encode()).decode()
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Authorization", f"Basic {auth}"),
    ]
    if ios:
        headers.append(("User-Agent", "OwnTracks/17.3.1 CFNetwork/1490 Darwin/23.2.0"))
    else:
        headers += [
            ("X-Limit-U", "walker-57"),
            ("X-Limit-D", "phone"),
            ("User-Agent", "OwnTracks-Android/2.5.3"),
        ]
    return http("POST", "/ingest/owntracks", headers, json.dumps(message).encode())


def ot_location(at: datetime, lat: float, lon: float, **fields: object) -> dict:
    return {
        "_type": "location",
        "acc": 8,
        "alt": 12,
        "batt": 77,
        "bs": 1,
        "conn": "m",
        "lat": lat,
        "lon": lon,
        "m": 2,
        "t": "u",
        "tid": "57",
        "tst": int(at.timestamp()),
        "vac": 3,
        "vel": 5,
        "created_at": int(at.timestamp()),
        **fields,
    }


# --- every app's request is read, matched, and answered as the app expects ----------------------

APPS = (
    "traccar-10-android",
    "traccar-10-ios",
    "traccar-9",
    "traccar-legacy-android",
    "traccar-legacy-ios",
    "osmand",
    "owntracks-android",
    "owntracks-ios",
)


def one_fix(app: str, token: str, at: datetime, lat: float, lon: float) -> bytes:
    return {
        "traccar-10-android": lambda: traccar_10_android(token, at, lat, lon),
        "traccar-10-ios": lambda: traccar_10_ios(token, at, lat, lon),
        "traccar-9": lambda: traccar_9_json(token, at, lat, lon),
        "traccar-legacy-android": lambda: traccar_legacy_android(token, at, lat, lon),
        "traccar-legacy-ios": lambda: traccar_legacy_ios(token, at, lat, lon),
        "osmand": lambda: osmand_get(token, at, lat, lon),
        "owntracks-android": lambda: owntracks(token, ot_location(at, lat, lon)),
        "owntracks-ios": lambda: owntracks(token, ot_location(at, lat, lon), ios=True),
    }[app]()


@pytest.mark.parametrize("app", APPS)
def test_each_app_is_matched_and_checked_in(module_server, app):
    w = register_walker(module_server, app, "20km")
    fort = next(cp for cp in ROUTE.checkpoints if cp.id == "fort-4")
    t0 = datetime.now(UTC) - timedelta(minutes=40)
    for k in range(0, 24):
        along = fort.distance_along_m - 600 + 50 * k
        lon, lat = ROUTE.point_at(along)
        status, body = send_raw(
            module_server, one_fix(app, w["token"], t0 + timedelta(seconds=40 * k), lat, lon)
        )
        assert status == 200, body
        if app.startswith("owntracks"):
            assert json.loads(body) == []
    with module_server.client() as c:
        view = c.get(f"/api/walkers/{w['id']}", headers=module_server.organiser).json()
    assert view["distance_along_m"] == pytest.approx(fort.distance_along_m + 550, abs=30)
    assert "fort-4" in {x["checkpoint_id"] for x in view["checkins"]}
    assert view["device"]["interval_s"] == pytest.approx(40, abs=1)
    assert view["device"]["app"], view["device"]


def test_units_are_read_per_request_osmand_metres_and_mps_traccar_knots(module_server):
    w = register_walker(module_server, "Units", "20km")
    now = datetime.now(UTC) - timedelta(minutes=5)
    lon, lat = ROUTE.point_at(3000)
    assert (
        send_raw(
            module_server, osmand_get(w["token"], now, lat, lon, accuracy_m=31.0, speed_mps=1.4)
        )[0]
        == 200
    )
    lon, lat = ROUTE.point_at(3040)
    assert (
        send_raw(
            module_server, traccar_10_android(w["token"], now + timedelta(seconds=30), lat, lon)
        )[0]
        == 200
    )
    rows = stored(module_server, w["id"], "accuracy_m, speed_mps, flags")
    assert rows[0] == (31.0, 1.4, "")  # OsmAnd: metres and m/s, as sent; not flagged
    assert rows[1][0] == 6.5 and rows[1][1] == pytest.approx(2.52 * 1852 / 3600)  # knots


def test_legacy_android_accuracy_zero_is_unknown(module_server):
    w = register_walker(module_server, "Legacy", "20km")
    lon, lat = ROUTE.point_at(1000)
    assert (
        send_raw(
            module_server,
            traccar_legacy_android(w["token"], datetime.now(UTC) - timedelta(minutes=1), lat, lon),
        )[0]
        == 200
    )
    assert stored(module_server, w["id"], "accuracy_m") == [(None,)]


def stored(srv: Server, walker_id: str, columns: str) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True)
    try:
        return db.execute(
            f"SELECT {columns} FROM fixes WHERE walker_id=? ORDER BY recorded_at", (walker_id,)
        ).fetchall()
    finally:
        db.close()


# --- SOS in every shape, charging, OwnTracks regions and encrypted messages --------------------


@pytest.mark.parametrize(
    "shape",
    ["10.x alarm=sos", "9.x location.alarm", "9.x extras.alarm", "9.x event", "legacy alarm"],
)
def test_sos_from_every_app_shape_raises_an_alert(module_server, shape):
    w = register_walker(module_server, shape, "20km")
    at = datetime.now(UTC) - timedelta(minutes=2)
    lon, lat = ROUTE.point_at(5000)
    request = {
        "10.x alarm=sos": lambda: traccar_10_android(w["token"], at, lat, lon, alarm="sos"),
        "9.x location.alarm": lambda: traccar_9_json(w["token"], at, lat, lon, alarm="sos"),
        "9.x extras.alarm": lambda: traccar_9_json(
            w["token"], at, lat, lon, extras={"alarm": "sos"}
        ),
        "9.x event": lambda: traccar_9_json(w["token"], at, lat, lon, event="sos"),
        "legacy alarm": lambda: traccar_legacy_android(w["token"], at, lat, lon, alarm="sos"),
    }[shape]()
    assert send_raw(module_server, request)[0] == 200
    with module_server.client() as c:
        alerts = c.get("/api/alerts", headers=module_server.organiser).json()
    assert [a["kind"] for a in alerts if a["walker_id"] == w["id"]] == ["sos"]


def test_charging_suppresses_and_clears_the_battery_alert(module_server):
    w = register_walker(module_server, "Power bank", "20km")
    t = datetime.now(UTC) - timedelta(minutes=10)
    lon, lat = ROUTE.point_at(2000)

    def battery(seconds: int, batt: str, charge: str) -> None:
        at = t + timedelta(seconds=seconds)
        assert (
            send_raw(
                module_server,
                traccar_10_android(w["token"], at, lat, lon, batt=batt, charge=charge),
            )[0]
            == 200
        )

    def battery_alerts() -> list[str]:
        with module_server.client() as c:
            return [
                a["state"]
                for a in c.get("/api/alerts", headers=module_server.organiser).json()
                if a["walker_id"] == w["id"]
            ]

    battery(0, "9", "true")  # low, but on a power bank: no alert
    assert battery_alerts() == []
    battery(30, "8", "false")  # unplugged: an alert
    assert battery_alerts() == ["open"]
    battery(60, "8", "true")  # plugged in again: cleared by itself
    assert battery_alerts() == ["resolved"]


def test_owntracks_entering_a_check_in_region_checks_in_between_sparse_fixes(module_server):
    w = register_walker(module_server, "Regions", "20km")
    fort = next(cp for cp in ROUTE.checkpoints if cp.id == "fort-4")
    t = datetime.now(UTC) - timedelta(minutes=30)
    lon, lat = ROUTE.point_at(fort.distance_along_m - 900)
    assert send_raw(module_server, owntracks(w["token"], ot_location(t, lat, lon)))[0] == 200
    config = owntracks_config(
        "http://x", w["token"], w["id"], "57", ROUTE.checkpoints, EVENT.checkin_radius_m
    )
    region = next(r for r in config["waypoints"] if r["rid"] == "fort-4")
    enter = {
        "_type": "transition",
        "event": "enter",
        "desc": region["desc"],
        "rid": region["rid"],
        "wtst": region["tst"],
        "lat": fort.lat + 0.0002,
        "lon": fort.lon,
        "acc": 12,
        "tst": int((t + timedelta(minutes=12)).timestamp()),
        "t": "c",
        "tid": "57",
    }
    assert send_raw(module_server, owntracks(w["token"], enter))[0] == 200
    lon, lat = ROUTE.point_at(fort.distance_along_m + 900)
    assert (
        send_raw(
            module_server, owntracks(w["token"], ot_location(t + timedelta(minutes=24), lat, lon))
        )[0]
        == 200
    )
    with module_server.client() as c:
        view = c.get(f"/api/walkers/{w['id']}", headers=module_server.organiser).json()
    found = {x["checkpoint_id"]: x for x in view["checkins"]}
    assert "fort-4" in found
    assert datetime.fromisoformat(found["fort-4"]["at"]) <= t + timedelta(minutes=13)


def test_owntracks_encrypted_payload_is_acknowledged_and_organisers_are_told(module_server):
    w = register_walker(module_server, "Encrypted", "20km")
    status, body = send_raw(
        module_server, owntracks(w["token"], {"_type": "encrypted", "data": "c2VjcmV0"})
    )
    assert (status, json.loads(body)) == (200, [])
    with module_server.client() as c:
        device = c.get(f"/api/walkers/{w['id']}", headers=module_server.organiser).json()["device"]
    assert (
        device["last_refusal"]["code"] == "encrypted"
        and "Encryption key" in device["last_refusal"]["reason"]
    )


def test_the_set_up_carries_the_heartbeat_and_owntracks_move_mode_interval():
    traccar = traccar_settings("https://walk.example", "tok")
    assert (traccar["heartbeat"], traccar["accuracy"], traccar["interval"]) == (
        "300",
        "highest",
        "30",
    )
    config = owntracks_config("https://walk.example", "tok", "w1", "57", ROUTE.checkpoints)
    assert config["moveModeLocatorInterval"] == 30 and config["monitoring"] == 2
    assert config["auth"] is True and config["username"] and config["password"] == "tok"
    assert [r["rid"] for r in config["waypoints"]] == [cp.id for cp in ROUTE.checkpoints]


# --- resting is not silence ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory):
    srv = Server(
        db=tmp_path_factory.mktemp("sweep") / "walk.sqlite3",
        env={"REFUGEE_WALK_SWEEP_EVERY_S": "0.5"},
    ).start()
    yield srv
    srv.stop()


REST_APPS = ("traccar-10-android", "traccar-9", "osmand", "owntracks-android", "owntracks-ios")


def resting_requests(app: str, token: str, t0: datetime, lat: float, lon: float) -> list[bytes]:
    """25 minutes of rest, as each app reports it when set up as the walker page says."""
    if app == "traccar-10-android":  # stop detection: no positions, a heartbeat every 5 minutes
        return [
            traccar_10_android(token, t0 + timedelta(minutes=m), None, None)
            for m in range(5, 26, 5)
        ]
    if app == "traccar-9":  # the plugin's heartbeat carries the last position, is_moving false
        return [
            traccar_9_json(
                token,
                t0 + timedelta(minutes=m),
                lat,
                lon,
                is_moving=False,
                event="heartbeat",
                activity={"type": "still"},
            )
            for m in range(5, 26, 5)
        ]
    if app == "osmand":  # its own interval, standing still
        return [osmand_get(token, t0 + timedelta(seconds=s), lat, lon) for s in range(30, 1501, 30)]
    ios = app == "owntracks-ios"
    return [
        owntracks(token, ot_location(t0 + timedelta(seconds=s), lat, lon), ios=ios)
        for s in range(30, 1501, 30)
    ]


@pytest.mark.parametrize("app", REST_APPS)
def test_a_walker_resting_25_minutes_is_resting_not_silent(quick_sweep, app):
    srv = quick_sweep
    w = register_walker(srv, f"Rest {app}", "20km")
    now = datetime.now(UTC)
    t0 = now - timedelta(minutes=25)  # the rest began 25 minutes ago, between check-in points
    walked = [ROUTE.point_at(6200 + 60 * k) for k in range(6)]
    for k, (lon, lat) in enumerate(walked):
        assert (
            send_raw(srv, one_fix(app, w["token"], t0 - timedelta(seconds=40 * (6 - k)), lat, lon))[
                0
            ]
            == 200
        )
    lon, lat = walked[-1]
    for request in resting_requests(app, w["token"], t0, lat, lon):
        assert send_raw(srv, request)[0] == 200
    time.sleep(2)  # a few sweeps
    with srv.client() as c:
        view = c.get(f"/api/walkers/{w['id']}", headers=srv.organiser).json()
        open_kinds = [
            a["kind"]
            for a in c.get("/api/alerts", headers=srv.organiser).json()
            if a["walker_id"] == w["id"] and a["state"] != "resolved"
        ]
    assert view["status"] in ("resting", "not_moving"), view["status"]
    # (the test replays 25 minutes in a second: a sweep may catch the first minutes as silent
    # before the rest arrives; the phone's reports then resolve it, as they would live)
    assert "silent" not in open_kinds


def test_a_phone_that_stops_reporting_is_silent(quick_sweep):
    srv = quick_sweep
    w = register_walker(srv, "Quiet phone", "20km")
    t0 = datetime.now(UTC) - timedelta(minutes=25)
    for k in range(6):
        lon, lat = ROUTE.point_at(6200 + 60 * k)
        assert (
            send_raw(
                srv, traccar_10_android(w["token"], t0 - timedelta(seconds=40 * (6 - k)), lat, lon)
            )[0]
            == 200
        )
    deadline = time.monotonic() + 5
    kinds: list[str] = []
    while time.monotonic() < deadline and "silent" not in kinds:
        time.sleep(0.5)
        with srv.client() as c:
            kinds = [
                a["kind"]
                for a in c.get("/api/alerts", headers=srv.organiser).json()
                if a["walker_id"] == w["id"]
            ]
            view = c.get(f"/api/walkers/{w['id']}", headers=srv.organiser).json()
    assert "silent" in kinds and view["status"] == "silent"
