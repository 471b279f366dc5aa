"""The walker page survives no signal: a service worker keeps it, its script, style and map.

The walker opens their page once with signal, closes it, walks into a dead zone (the phone is
offline and, to be sure nothing can answer, the server is down too), opens the page again:
it shows their progress and the next point, keeps a check-in and an SOS, and sends both once
when the signal returns.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.support import Server, register_walker
from tracking.web.i18n import catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CACHE = "rw-walker-v1"


def poll(check: Any, timeout_s: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_reopened_without_signal_it_shows_the_walk_and_sends_check_in_and_sos_once(
    browser: Any, tmp_path: Any
) -> None:
    route = load_event(event_path("antwerp-2023")).routes["20km"].route
    fort4 = next(cp for cp in route.checkpoints if cp.name.startswith("Fort 4"))
    srv = Server(db=tmp_path / "walk.sqlite3").start()
    walker = register_walker(srv, "Nadia", "20km")
    now = datetime.now(UTC)
    fixes = []
    for k, along in enumerate(range(0, 4001, 500)):
        lon, lat = route.point_at(along)
        at = now - timedelta(seconds=(4000 - along) / 1.4)
        fixes.append({"id": f"s{k}", "recorded_at": at.isoformat(), "lat": lat, "lon": lon})
    with srv.client() as c:
        auth = {"Authorization": f"Bearer {walker['token']}"}
        assert c.post("/api/fixes", json={"fixes": fixes}, headers=auth).status_code == 200

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        geolocation={"latitude": fort4.lat, "longitude": fort4.lon, "accuracy": 8},
        permissions=["geolocation"],
    )
    errors: list[str] = []
    url = f"{srv.url}/w/{walker['token']}"
    T = catalogue()["en"]["page"]
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        kept = (
            f"caches.open('{CACHE}').then(c => Promise.all([location.pathname,"
            " location.pathname + '/map', '/vendor/leaflet/leaflet.js'].map(u => c.match(u))))"
            ".then(hits => hits.every(Boolean))"
        )
        poll(lambda: page.evaluate(kept), what="the page and its map kept by the service worker")
        assert "Fort 4" in page.inner_text("#next")
        page.close()

        context.set_offline(True)  # a dead zone; and nothing could answer anyway:
        srv.stop()
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#checkin-btn")
        assert "Fort 4" in page.inner_text("#next")  # progress and the next point, as last known
        assert page.inner_text("#done") != "–"
        page.click("#checkin-btn")
        page.wait_for_function(
            "t => document.getElementById('checkin-msg').textContent === t", arg=T["checkin_saved"]
        )
        page.click("#sos-btn")
        page.click("#sos-yes")
        page.wait_for_function(
            "t => document.getElementById('sos-msg').textContent === t", arg=T["sos_saved"]
        )

        srv.start()  # the same server, port and database
        context.set_offline(False)

        def arrived() -> tuple[list, list] | None:
            with srv.client() as c:
                view = c.get(f"/api/walkers/{walker['id']}", headers=srv.organiser).json()
                alerts = c.get("/api/alerts", headers=srv.organiser).json()
            sos = [a for a in alerts if a["walker_id"] == walker["id"] and a["kind"] == "sos"]
            done = [ci for ci in view["checkins"] if ci["checkpoint_id"] == fort4.id]
            return (done, sos) if done and sos else None

        poll(arrived, timeout_s=40, what="the check-in and the SOS at the server")
        time.sleep(1.5)  # any second delivery would land now
        done, sos = arrived() or ([], [])
        assert len(done) == 1 and done[0]["source"] == "manual"
        assert len(sos) == 1
        page.wait_for_function(
            "t => document.getElementById('sos-msg').textContent === t", arg=T["sos_sent"]
        )
        assert page.evaluate(f"localStorage.getItem('rw.{walker['token']}.ci')") in (None, "null")
        assert not errors, errors
    finally:
        context.close()
        srv.stop()


def test_the_manifest_opens_the_walkers_own_page(tmp_path: Any) -> None:
    srv = Server(db=tmp_path / "walk.sqlite3").start()
    try:
        walker = register_walker(srv, "Nadia", "20km")
        with srv.client() as c:
            manifest = c.get(f"/w/{walker['token']}/manifest.webmanifest").json()
            worker = c.get("/w/sw.js")
            page = c.get(f"/w/{walker['token']}").text
        assert manifest["start_url"] == f"/w/{walker['token']}"
        assert manifest["display"] == "standalone"
        assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
        assert f'rel="manifest" href="/w/{walker["token"]}/manifest.webmanifest"' in page
    finally:
        srv.stop()
