"""Check-in stations on a real server: the organiser API, the station's API, and the station
page at 390x844 in Debian's chromium (by bib, by name, offline queue sent once). Screenshots
go to docs/img/station*.png."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import PROJECT, Server, register_walker
from tracking.labels import Label, labels_pdf

IMG = PROJECT / "docs" / "img"
LINT = "lint"  # on the 40 km only
BORSBEEK = "borsbeek"  # on both routes


def poll(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def open_station(srv: Server, checkpoint_id: str) -> dict:
    with srv.client() as c:
        r = c.post("/api/stations", json={"checkpoint_id": checkpoint_id}, headers=srv.organiser)
        assert r.status_code == 201, r.text
        return r.json()


def station_post(srv: Server, token: str, code: str, cid: str) -> Any:
    with srv.client() as c:
        return c.post(
            "/api/station/checkins",
            json={"code": code, "client_id": cid},
            headers={"Authorization": f"Bearer {token}"},
        )


def walker(srv: Server, walker_id: str) -> dict:
    with srv.client() as c:
        return c.get(f"/api/walkers/{walker_id}", headers=srv.organiser).json()


def test_the_station_api_answers_every_case_clearly(server: Server) -> None:
    w40 = register_walker(server, "Amal Haddad", "40km", bib="401", phone="+32470000000")
    register_walker(server, "Jonas Peeters", "20km", bib="201")
    station = open_station(server, LINT)
    assert set(station) >= {"id", "token", "url"}
    assert station["url"].endswith(f"/s/{station['token']}")
    token = station["token"]

    first = station_post(server, token, "401", "phone-1")
    assert first.status_code == 201, first.text
    assert first.json()["result"] == "checked_in"
    (checkin,) = [c for c in walker(server, w40["id"])["checkins"] if c["checkpoint_id"] == LINT]
    assert checkin["source"] == "station"

    again = station_post(server, token, "RW:401", "phone-2")  # a scanned QR code, later
    assert again.status_code == 200
    assert again.json()["result"] == "already" and again.json()["at"] == first.json()["at"]

    resent = station_post(server, token, "401", "phone-1")  # the same check-in sent again
    assert (resent.status_code, resent.json()) == (201, first.json())

    unknown = station_post(server, token, "999", "phone-3")
    assert unknown.status_code == 404
    assert "No walker has bib 999" in unknown.json()["detail"]

    wrong = station_post(server, token, "201", "phone-4")
    assert wrong.status_code == 409
    assert "not on it" in wrong.json()["detail"] and wrong.json()["route_id"] == "20km"

    with server.client() as c:
        auth = {"Authorization": f"Bearer {token}"}
        found = c.get("/api/station/walkers", params={"q": "amal"}, headers=auth).json()
        assert found == [{"name": "Amal Haddad", "bib": "401", "route_id": "40km"}]
        assert c.get("/api/station/walkers?q=40", headers=auth).json()[0]["bib"] == "401"
        assert c.get("/api/stations", headers=auth).status_code == 401  # not an organiser
        assert c.get("/api/station", headers=auth).json()["checkpoint_name"] == "Lint"
        listed = c.get("/api/stations", headers=server.organiser).json()
        assert [s["checkins"] for s in listed] == [1]
        closed = c.post(f"/api/stations/{station['id']}/close", headers=server.organiser)
        assert closed.json()["open"] is False
        assert station_post(server, token, "401", "phone-5").status_code == 410
        assert c.get("/api/station/walkers?q=amal", headers=auth).status_code == 410
        assert station_post(server, "not-a-token", "401", "x").status_code == 401
        assert c.get(f"/s/{token}").status_code == 410
        bad = c.post("/api/stations", json={"checkpoint_id": "nowhere"}, headers=server.organiser)
        assert bad.status_code == 404

    # the check-in and the answers survive a restart; the closed station stays closed
    server.restart()
    assert station_post(server, token, "401", "phone-1").status_code == 410
    db = sqlite3.connect(server.db)
    rows = db.execute("SELECT source FROM checkins WHERE walker_id=?", (w40["id"],)).fetchall()
    assert rows == [("station",)]
    assert db.execute("SELECT COUNT(*) FROM station_checkins").fetchone()[0] == 4


def test_bib_labels_are_a_pdf_with_a_qr_code_per_walker(module_server: Server) -> None:
    for i in range(30):
        register_walker(module_server, f"Label Walker {i}", "20km", bib=str(5000 + i))
    with module_server.client() as c:
        assert c.get("/api/stations/labels.pdf").status_code == 401
        r = c.get("/api/stations/labels.pdf", headers=module_server.organiser)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-1.4") and r.content.rstrip().endswith(b"%%EOF")
    assert b"/Count 2 " in r.content or b"/Count 2>" in r.content  # 30 labels: 2 pages


def test_the_pdf_cross_reference_table_points_at_each_object() -> None:
    pdf = labels_pdf([Label("Zoë Ünal", "7", "20 km"), Label("Ахмед", "8", "40 km")])
    start = int(re.search(rb"startxref\n(\d+)", pdf)[1])  # type: ignore[index]
    lines = pdf[start:].split(b"\n")
    count = int(lines[1].split()[1])
    for n in range(1, count):
        offset = int(lines[2 + n].split()[0])
        assert pdf[offset:].startswith(b"%d 0 obj" % n)


# --- the station page in chromium ---------------------------------------------------------
@pytest.fixture
def station_phone(browser):
    contexts = []

    def open_page(url: str) -> Any:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            timezone_id="Europe/Brussels",
        )
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()


def feed_checkins(srv: Server, seen: list[tuple[float, dict]], stop: threading.Event) -> None:
    from websockets.asyncio.client import connect

    async def listen() -> None:
        async with connect(f"{srv.ws_url}/ws/live?token={srv.token}", open_timeout=10) as ws:
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.2)
                except TimeoutError:
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "checkin":
                    seen.append((time.monotonic(), msg))

    asyncio.run(listen())


def test_a_volunteer_checks_in_by_bib_and_name_and_the_dashboard_sees_it(
    server: Server, station_phone
) -> None:
    amal = register_walker(server, "Amal Haddad", "40km", bib="401")
    register_walker(server, "Jonas Peeters", "20km", bib="201")
    station = open_station(server, LINT)
    seen: list[tuple[float, dict]] = []
    stop = threading.Event()
    listener = threading.Thread(target=feed_checkins, args=(server, seen, stop), daemon=True)
    listener.start()
    time.sleep(0.5)
    page = station_phone(station["url"])
    try:
        page.fill("#bib", "401")
        clicked = time.monotonic()
        page.click("#bib-btn")
        page.wait_for_selector("#answer.ok")
        assert "Amal Haddad (bib 401) checked in at Lint" in page.text_content("#answer")
        at, msg = poll(lambda: seen[0] if seen else None, 2.0, "the dashboard's check-in")
        assert at - clicked < 2.0
        assert (msg["walker_id"], msg["checkpoint_id"], msg["source"]) == (
            amal["id"],
            LINT,
            "station",
        )
    finally:
        stop.set()
        listener.join(5)
    page.fill("#bib", "201")
    page.click("#bib-btn")
    page.wait_for_selector("#answer.bad")
    assert "not on it" in page.text_content("#answer")
    page.fill("#q", "amal")
    page.click("#results button")
    page.wait_for_selector("#answer.already")
    assert "already checked in" in page.text_content("#answer")
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "station.png"))
    page.goto(station["url"] + "?lang=nl")  # the volunteer's language: Dutch, French or English
    assert page.text_content("#bib-btn") == "Inchecken"
    page.fill("#bib", "999")
    page.click("#bib-btn")
    page.wait_for_selector("#answer.bad")
    assert page.text_content("#answer") == (
        "Geen wandelaar met nummer 999. Kijk het nummer na, of zoek de naam."
    )
    assert page.errors == []


def test_the_station_page_speaks_three_languages_with_the_same_placeholders() -> None:
    from tracking.web.stations import catalogue

    found = catalogue()
    assert sorted(found) == ["en", "fr", "nl"]
    for key, text in found["en"].items():
        for lang in ("nl", "fr"):
            assert set(re.findall(r"\{(\w+)\}", found[lang][key])) == set(
                re.findall(r"\{(\w+)\}", text)
            ), (lang, key)
    script = (PROJECT / "tracking" / "static" / "station.js").read_text()
    used = set(re.findall(r"\bt\.(\w+)", script))
    assert used <= set(found["en"]), used - set(found["en"])


def test_offline_check_ins_are_queued_and_sent_once(server: Server, station_phone) -> None:
    walkers = [register_walker(server, f"Walker {i}", "40km", bib=str(100 + i)) for i in range(3)]
    station = open_station(server, BORSBEEK)
    page = station_phone(station["url"])
    page.context.set_offline(True)
    for i in range(3):
        page.fill("#bib", str(100 + i))
        page.click("#bib-btn")
    page.wait_for_function("() => document.querySelector('#queue').textContent.startsWith('3')")
    assert "3 check-ins waiting to be sent" in page.text_content("#queue")
    assert not page.is_hidden("#net")
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "station-offline.png"))
    db = sqlite3.connect(server.db)
    assert db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0] == 0
    page.context.set_offline(False)
    page.wait_for_function(
        "() => document.querySelector('#queue').textContent === 'Nothing waiting to be sent'",
        timeout=20_000,
    )
    rows = db.execute("SELECT walker_id, source FROM checkins ORDER BY at").fetchall()
    assert sorted(rows) == sorted((w["id"], "station") for w in walkers)
    assert db.execute("SELECT COUNT(*) FROM station_checkins").fetchone()[0] == 3
    assert len(page.query_selector_all("#log li.ok")) == 3
