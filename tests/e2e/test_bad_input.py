"""Bad input at every door: nothing wrong stored, nothing earlier lost, and the right answer.

Each test starts from a walker with an established walk (60 fixes through the walker page),
sends something wrong, and checks the answer, the SQLite file and the walker's state.

Who gets what: a request that names no known walker, has bad credentials or cannot be read
gets a 4xx that says why. A known walker's phone always gets 2xx, whatever becomes of its
fixes, because the apps resend what we refuse, oldest first, forever: a refused fix is not
stored, and its reason is counted and shown to the organisers (and listed per fix in the walker
page's answer). A phone clock running ahead is not refused: the fix takes its arrival time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from tests.e2e.test_fix_path import EVENT, START, Walker, page_fix, register, send_page
from tests.support import Server, register_walker
from tracking.simulation import simulate, varied_plans

pytestmark = pytest.mark.e2e

ROUTE = EVENT.routes["20km"].route
FIXES = simulate(ROUTE, varied_plans(1, START, seed=21)[0], sigma_m=10, seed=21)
TEN_MB = 10 * 1024 * 1024


@dataclass
class Established:
    srv: Server
    walker: Walker
    view: dict
    rows: int

    @property
    def last(self):  # the last fix sent, and where a next one would be
        return FIXES[59]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.walker.token}"}

    def next_time(self, seconds: float = 10) -> datetime:
        return self.last.at + timedelta(seconds=seconds)


def rows(srv: Server, walker_id: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT recorded_at, client_id, flags FROM fixes WHERE walker_id=? ORDER BY id",
            (walker_id,),
        ).fetchall()
    finally:
        db.close()


def state(srv: Server, walker_id: str) -> dict:
    with srv.client() as c:
        v = c.get(f"/api/walkers/{walker_id}", headers=srv.organiser).json()
    return {k: v[k] for k in ("distance_along_m", "last_fix", "checkins", "offset_m")}


@pytest.fixture
def walk(module_server) -> Iterator[Established]:
    w = register(module_server, Walker("established", "20km", "page", FIXES[:60]))
    with module_server.client() as c:
        answer = send_page(c, w, list(enumerate(FIXES[:60])))
    assert answer["accepted"] == 60
    before = Established(
        module_server, w, state(module_server, w.id), len(rows(module_server, w.id))
    )
    assert before.rows == 60 and before.view["distance_along_m"] > 100
    yield before
    assert len(rows(module_server, w.id)) >= 60  # nothing earlier lost, whatever happened


def assert_nothing_changed(e: Established) -> None:
    assert len(rows(e.srv, e.walker.id)) == e.rows
    assert state(e.srv, e.walker.id) == e.view


# --- the walker page: bad fixes inside a good batch ----------------------------------------


def bad_page_fixes(e: Established) -> list[tuple[dict, str]]:
    good = page_fix(e.walker, 1000, e.last)
    good["recorded_at"] = e.next_time().isoformat()

    made: list[dict] = []

    def variant(**fields) -> dict:
        made.append({**good, "id": f"bad-{len(made)}", **fields})
        return made[-1]

    return [
        (variant(lat=91.0), "latitude 91.0 is outside -90..90"),
        (variant(lon=-180.5), "longitude -180.5 is outside -180..180"),
        (variant(lat="51,2"), "lat '51,2' is not a number"),
        (variant(lon=True), "lon True is not a number"),
        (variant(lat=None), "no lat"),
        (variant(recorded_at="2023-10-07T21:59:00Z"), "before the event day"),
        (variant(recorded_at="2023-10-07T23:59:00+02:00"), "before the event day"),
        (variant(recorded_at="8/10/2023 10:00"), "ISO-8601"),
        (variant(recorded_at="2023-10-08T10:00:00"), "time zone"),
        (variant(recorded_at=1e20), "not a possible epoch time"),
        (variant(accuracy_m="good"), "accuracy_m 'good' is not a number"),
    ]


def test_walker_page_lists_each_bad_fix_with_its_reason_and_stores_none(walk):
    cases = bad_page_fixes(walk)
    with walk.srv.client() as c:
        r = c.post("/api/fixes", json={"fixes": [f for f, _ in cases]}, headers=walk.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (0, 0)
    reasons = {x["id"]: x["reason"] for x in body["rejected"]}
    for fix, words in cases:
        assert words in reasons[fix["id"]], (fix, reasons.get(fix["id"]))
    assert_nothing_changed(walk)


def test_walker_page_nan_is_not_a_number(walk):
    raw = json.dumps(
        {
            "fixes": [
                {"id": "nan", "recorded_at": walk.next_time().isoformat(), "lat": 51.2, "lon": 4.4}
            ]
        }
    ).replace("51.2", "NaN")
    with walk.srv.client() as c:
        r = c.post(
            "/api/fixes", content=raw, headers={**walk.bearer, "Content-Type": "application/json"}
        )
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["accepted"] == 0 and "not a number" in r.json()["rejected"][0]["reason"]
    assert_nothing_changed(walk)


def test_walker_page_keeps_the_good_fixes_of_a_mixed_batch(walk):
    good = page_fix(walk.walker, 2000, FIXES[60])
    bad = {**good, "id": "bad", "lat": 123.0}
    with walk.srv.client() as c:
        r = c.post("/api/fixes", json={"fixes": [good, bad]}, headers=walk.bearer)
    assert r.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [{"id": "bad", "reason": "latitude 123.0 is outside -90..90"}],
    }
    assert [row[1] for row in rows(walk.srv, walk.walker.id)[walk.rows :]] == [good["id"]]


def test_a_phone_clock_running_ahead_is_stored_at_its_arrival_and_flagged(walk):
    ahead = page_fix(walk.walker, 4000, FIXES[60])
    ahead["recorded_at"] = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    with walk.srv.client() as c:
        r = c.post("/api/fixes", json={"fixes": [ahead]}, headers=walk.bearer)
        assert r.json()["accepted"] == 1, r.text
        device = c.get(f"/api/walkers/{walk.walker.id}", headers=walk.srv.organiser).json()
    (stored,) = rows(walk.srv, walk.walker.id)[walk.rows :]
    assert stored[2] == "clock_ahead" and stored[0] <= datetime.now(UTC).timestamp()
    assert device["device"]["flagged"] == {"clock_ahead": 1}


# --- whole requests that are wrong -----------------------------------------------------------


def big_body() -> Iterator[bytes]:
    """10 MB of JSON sent without a Content-Length (chunked), so only the reader can stop it."""
    yield b'{"fixes": ['
    item = (
        json.dumps(
            {"id": "x", "recorded_at": "2023-10-08T10:00:00Z", "lat": 51.2, "lon": 4.4}
        ).encode()
        + b","
    )
    for _ in range(TEN_MB // len(item) + 1):
        yield item
    yield b"{}]}"


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "unknown token",
        "organiser token",
        "another walker's id",
        "text/plain",
        "form content type",
        "not json",
        "no fixes list",
        "a list",
        "too many fixes",
        "10 MB declared",
        "10 MB chunked",
    ],
)
def test_walker_page_request_faults_are_4xx(walk, case):
    good = page_fix(walk.walker, 3000, FIXES[60])
    body = json.dumps({"fixes": [good]})
    headers = {**walk.bearer, "Content-Type": "application/json"}
    content: bytes | str | Iterator[bytes] = body
    expected = {
        "no token": 401,
        "unknown token": 401,
        "organiser token": 401,
        "another walker's id": 401,
        "text/plain": 415,
        "form content type": 415,
        "not json": 400,
        "no fixes list": 400,
        "a list": 400,
        "too many fixes": 400,
        "10 MB declared": 413,
        "10 MB chunked": 413,
    }[case]
    if case == "no token":
        del headers["Authorization"]
    elif case == "unknown token":
        headers["Authorization"] = "Bearer not-a-walker-token-at-all"
    elif case == "organiser token":
        headers.update(walk.srv.organiser)
    elif case == "another walker's id":
        headers["Authorization"] = f"Bearer {walk.walker.id}"
    elif case == "text/plain":
        headers["Content-Type"] = "text/plain"
    elif case == "form content type":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        content = urlencode(good)
    elif case == "not json":
        content = body[:-3]
    elif case == "no fixes list":
        content = json.dumps({"fix": good})
    elif case == "a list":
        content = json.dumps([good])
    elif case == "too many fixes":
        content = json.dumps({"fixes": [good] * 5001})
    elif case == "10 MB declared":
        content = b" " * TEN_MB
    elif case == "10 MB chunked":
        content = big_body()
    with walk.srv.client() as c:
        r = c.post("/api/fixes", content=content, headers=headers)
    assert r.status_code == expected, r.text
    assert r.json()["detail"]  # says what was wrong
    assert_nothing_changed(walk)


def test_a_revoked_token_is_refused_everywhere(walk):
    old = walk.walker.token
    with walk.srv.client() as c:
        r = c.post(f"/api/walkers/{walk.walker.id}/revoke", headers=walk.srv.organiser)
        assert r.status_code == 200 and r.json()["token"] != old
        t = walk.next_time()
        answers = [
            c.post(
                "/api/fixes",
                headers={"Authorization": f"Bearer {old}"},
                json={
                    "fixes": [{"id": "r", "recorded_at": t.isoformat(), "lat": 51.2, "lon": 4.4}]
                },
            ),
            c.get(
                "/ingest/osmand",
                params={"id": old, "timestamp": int(t.timestamp()), "lat": 51.2, "lon": 4.4},
            ),
            c.post(
                "/ingest/osmand",
                json={
                    "device_id": old,
                    "location": {
                        "timestamp": t.isoformat(),
                        "coords": {"latitude": 51.2, "longitude": 4.4},
                    },
                },
            ),
            c.post(
                "/ingest/owntracks",
                auth=("walker", old),
                json={"_type": "location", "lat": 51.2, "lon": 4.4, "tst": int(t.timestamp())},
            ),
            c.get("/api/me", headers={"Authorization": f"Bearer {old}"}),
            c.post(
                "/api/checkins",
                headers={"Authorization": f"Bearer {old}"},
                json={"lat": 51.2, "lon": 4.4, "accuracy_m": 5},
            ),
        ]
    assert [a.status_code for a in answers] == [401, 400, 404, 401, 401, 401]
    assert all(a.json()["detail"] for a in answers if a.status_code != 200)
    assert_nothing_changed(walk)


def test_a_walker_token_opens_no_organiser_door(walk, module_server):
    other = register_walker(module_server, "Other", "40km")
    with module_server.client() as c:
        for path in (
            "/api/walkers",
            f"/api/walkers/{other['id']}",
            f"/api/walkers/{other['id']}/track",
            "/api/alerts",
        ):
            r = c.get(path, headers=walk.bearer)
            assert r.status_code == 401, (path, r.text)
        me = c.get("/api/me", headers=walk.bearer).json()
    assert me["id"] == walk.walker.id and "phone" not in me


# --- Traccar Client / OsmAnd ---------------------------------------------------------------


def osmand_cases(e: Established) -> dict[str, tuple[str, dict, int, str]]:
    """label -> (method, request, expected status, words in the detail or the refusal)."""
    t = int(e.next_time().timestamp())
    ok = {"id": e.walker.token, "timestamp": str(t), "lat": "51.2", "lon": "4.42"}
    before_day = int(datetime(2023, 10, 7, 21, 0, tzinfo=UTC).timestamp())
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def q(**fields) -> dict:
        return {"params": {k: v for k, v in {**ok, **fields}.items() if v is not None}}

    def j(device_id: str = e.walker.token, timestamp: str = "", **coords) -> dict:
        timestamp = timestamp or e.next_time().isoformat()
        return {
            "json": {
                "device_id": device_id,
                "location": {
                    "timestamp": timestamp,
                    "coords": {"latitude": 51.2, "longitude": 4.42, **coords},
                },
            }
        }

    return {
        # a known device: acknowledged, nothing stored, the reason shown to the organisers
        "lat out of range": ("GET", q(lat="91.5"), 200, "latitude"),
        "lon out of range": ("POST", q(lon="200"), 200, "longitude"),
        "lat not a number": ("GET", q(lat="abc"), 200, "lat 'abc' is not a number"),
        "before the event day": ("POST", q(timestamp=str(before_day)), 200, "before the event day"),
        "absurd time": ("GET", q(timestamp="1e20"), 200, "epoch time"),
        "json lat out of range": ("POST", j(latitude=-95), 200, "-95"),
        "json no zone": ("POST", j(timestamp="2023-10-08T10:00:00"), 200, "time zone"),
        "form lat out of range": (
            "POST",
            {"content": urlencode({**ok, "lat": "-91"}), "headers": form},
            200,
            "-91",
        ),
        # no known walker, or no request to speak of: 4xx
        "unknown id": ("POST", q(id="123456"), 400, "unknown device id"),
        "another walker's id": ("POST", q(id=e.walker.id), 400, "unknown device id"),
        "no id": ("GET", q(id=None), 400, "missing id"),
        "json unknown device": ("POST", j(device_id="123456"), 404, "unknown device id"),
        "json broken": (
            "POST",
            {
                "content": b'{"device_id": "x", "location": {',
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "not valid JSON",
        ),
        "json as text/plain": (
            "POST",
            {"content": json.dumps(j()["json"]), "headers": {"Content-Type": "text/plain"}},
            400,
            "missing id",
        ),
        "10 MB form": (
            "POST",
            {"content": b"id=" + b"x" * TEN_MB, "headers": form},
            413,
            "larger than",
        ),
    }


OSMAND_CASES = [
    "lat out of range",
    "lon out of range",
    "lat not a number",
    "before the event day",
    "absurd time",
    "json lat out of range",
    "json no zone",
    "form lat out of range",
    "unknown id",
    "another walker's id",
    "no id",
    "json unknown device",
    "json broken",
    "json as text/plain",
    "10 MB form",
]


def last_refusal(e: Established) -> dict | None:
    with e.srv.client() as c:
        view = c.get(f"/api/walkers/{e.walker.id}", headers=e.srv.organiser).json()
    return view["device"]["last_refusal"]


@pytest.mark.parametrize("label", OSMAND_CASES)
def test_osmand_bad_requests_store_nothing_and_a_known_device_is_acknowledged(walk, label):
    method, request, status, words = osmand_cases(walk)[label]
    with walk.srv.client() as c:
        r = c.request(method, "/ingest/osmand", **request)
    assert r.status_code == status, r.text
    if status == 200:  # the app moves on to the next fix; the organisers see why
        refusal = last_refusal(walk)
        assert refusal is not None and words in refusal["reason"], refusal
    else:
        assert words in r.json()["detail"], r.text
    assert_nothing_changed(walk)


def test_osmand_heartbeat_without_position_is_acknowledged_and_stores_nothing(walk):
    with walk.srv.client() as c:
        r = c.post(
            "/ingest/osmand",
            params={"id": walk.walker.token, "timestamp": int(walk.next_time().timestamp())},
            content=b"",
        )
    assert r.status_code == 200 and last_refusal(walk) is None
    assert_nothing_changed(walk)


@pytest.mark.parametrize("label", ["no timestamp", "future", "future ms", "json future"])
def test_osmand_a_missing_or_future_time_is_the_arrival_time_flagged(walk, label):
    future = int((datetime.now(UTC) + timedelta(minutes=6)).timestamp())
    token = walk.walker.token
    base = {"id": token, "lat": "51.2", "lon": "4.42"}
    request = {
        "no timestamp": {"params": base},
        "future": {"params": {**base, "timestamp": str(future)}},
        "future ms": {"params": {**base, "timestamp": str(future * 1000)}},
        "json future": {
            "json": {
                "device_id": token,
                "location": {
                    "timestamp": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                    "coords": {"latitude": 51.2, "longitude": 4.42},
                },
            }
        },
    }[label]
    with walk.srv.client() as c:
        r = c.post("/ingest/osmand", **request)
    assert r.status_code == 200, r.text
    (stored,) = rows(walk.srv, walk.walker.id)[walk.rows :]
    assert stored[2] == ("no_time" if label == "no timestamp" else "clock_ahead")
    assert stored[0] <= datetime.now(UTC).timestamp()


# --- OwnTracks ------------------------------------------------------------------------------


def owntracks_cases(e: Established) -> dict[str, tuple[dict, int, str]]:
    """label -> (request, expected status, words in the detail or the refusal)."""
    t = int(e.next_time().timestamp())
    ok = {"_type": "location", "lat": 51.2, "lon": 4.42, "tst": t, "acc": 10, "tid": "WK"}
    auth = ("walker", e.walker.token)

    def m(**fields) -> dict:
        return {"json": {**ok, **fields}, "auth": auth}

    return {
        "lat out of range": (m(lat=-90.01), 200, "-90.01"),
        "lon not a number": (m(lon="east"), 200, "lon 'east' is not a number"),
        "no tst": (m(tst=None), 200, "lat, lon and tst"),
        "before the event day": (m(tst=1696000000), 200, "before the event day"),
        "encrypted": (
            {"json": {"_type": "encrypted", "data": "x"}, "auth": auth},
            200,
            "Encryption",
        ),
        "no password": ({"json": ok}, 401, "walker token as the password"),
        "wrong password": ({"json": ok, "auth": ("walker", "nope")}, 401, "unknown walker"),
        "walker id as password": (
            {"json": ok, "auth": (e.walker.token, e.walker.id)},
            401,
            "unknown walker",
        ),
        "organiser token": ({"json": ok, "auth": ("walker", e.srv.token)}, 401, "unknown walker"),
        "broken json": (
            {"content": b'{"_type": "location", "lat": 51.2', "auth": auth},
            400,
            "not valid JSON",
        ),
        "form body": (
            {
                "content": urlencode(ok),
                "auth": auth,
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "not valid JSON",
        ),
        "10 MB": ({"content": b"[" + b" " * TEN_MB + b"]", "auth": auth}, 413, "larger than"),
    }


OWNTRACKS_CASES = [
    "lat out of range",
    "lon not a number",
    "no tst",
    "before the event day",
    "encrypted",
    "no password",
    "wrong password",
    "walker id as password",
    "organiser token",
    "broken json",
    "form body",
    "10 MB",
]


@pytest.mark.parametrize("label", OWNTRACKS_CASES)
def test_owntracks_bad_requests_store_nothing_and_a_known_walker_is_acknowledged(walk, label):
    request, status, words = owntracks_cases(walk)[label]
    with walk.srv.client() as c:
        r = c.post("/ingest/owntracks", **request)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json() == []
        refusal = last_refusal(walk)
        assert refusal is not None and words in refusal["reason"], refusal
    else:
        assert words in r.json()["detail"], r.text
    assert_nothing_changed(walk)


def test_owntracks_other_messages_are_ignored_with_200(walk):
    auth = ("walker", walk.walker.token)
    with walk.srv.client() as c:
        for message in ({"_type": "lwt", "tst": 1696752000}, {"_type": "status"}):
            r = c.post("/ingest/owntracks", json=message, auth=auth)
            assert (r.status_code, r.json()) == (200, [])
        r = c.post("/ingest/owntracks", content=b"", auth=auth)
        assert (r.status_code, r.json()) == (200, [])
    assert_nothing_changed(walk)


# --- stored and flagged: poor accuracy and impossible speed -----------------------------------


def test_poor_accuracy_and_impossible_speed_are_stored_flagged_and_move_nothing(walk):
    ahead_lon, ahead_lat = ROUTE.point_at(walk.view["distance_along_m"] + 3000)
    t1, t2, t3 = walk.next_time(10), walk.next_time(20), walk.next_time(30)
    with walk.srv.client() as c:
        r = c.post(
            "/api/fixes",
            headers=walk.bearer,
            json={
                "fixes": [
                    {
                        "id": "vague",
                        "recorded_at": t1.isoformat(),
                        "lat": ahead_lat,
                        "lon": ahead_lon,
                        "accuracy_m": 150,
                    }
                ]
            },
        )
        assert r.json()["accepted"] == 1
        r = c.get(
            "/ingest/osmand",
            params={
                "id": walk.walker.token,
                "timestamp": int(t2.timestamp()),
                "lat": ahead_lat,
                "lon": ahead_lon,
                "accuracy": 8,
            },
        )
        assert r.status_code == 200
        r = c.post(
            "/ingest/owntracks",
            auth=("walker", walk.walker.token),
            json={
                "_type": "location",
                "lat": ahead_lat,
                "lon": ahead_lon,
                "tst": int(t3.timestamp()),
                "acc": 5,
            },
        )
        assert r.status_code == 200
    stored = rows(walk.srv, walk.walker.id)[walk.rows :]
    flags = [set(flags.split(",")) for _, _, flags in stored]
    assert len(flags) == 3 and "poor_accuracy" in flags[0]
    assert flags[1] == flags[2] == {"impossible_speed"}
    now = state(walk.srv, walk.walker.id)
    assert now["distance_along_m"] == walk.view["distance_along_m"]
    assert now["checkins"] == walk.view["checkins"]


# --- the check-in button ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"lat": 91, "lon": 4.4, "accuracy_m": 5}, 422, "lat"),
        ({"lon": 4.4, "accuracy_m": 5}, 422, "lat"),
        ({"lat": "x", "lon": 4.4}, 422, "lat"),
        ({"lat": 51.2, "lon": 4.4, "accuracy_m": -1}, 422, "accuracy_m"),
        ({"lat": 51.2, "lon": 4.4, "recorded_at": "soon"}, 422, "ISO-8601"),
    ],
)
def test_check_in_bad_requests_are_4xx(walk, body, status, words):
    with walk.srv.client() as c:
        r = c.post("/api/checkins", json=body, headers=walk.bearer)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert_nothing_changed(walk)


@pytest.mark.parametrize("when", ["2023-10-07T12:00:00Z", "2023-10-07T23:59:00+02:00"])
def test_a_check_in_before_the_event_day_is_refused(walk, when):
    point = ROUTE.checkpoints[1]  # not reached yet
    with walk.srv.client() as c:
        r = c.post(
            "/api/checkins",
            headers=walk.bearer,
            json={"lat": point.lat, "lon": point.lon, "accuracy_m": 5, "recorded_at": when},
        )
    assert r.status_code == 422, r.text
    assert "event day" in r.json()["detail"]
    assert_nothing_changed(walk)


def test_the_server_never_failed(module_server):
    # Runs last in this module: no request above raised inside the server.
    assert "Traceback" not in module_server.log.read_text()
