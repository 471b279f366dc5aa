"""Following a walker, on a real server and in Debian's chromium: the link is the walker's
choice, shows progress within seconds of a fix, shows the position only when precise, ends at
once (404) and expires (410). Screenshots go to docs/img/follow*.png."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.support import PROJECT, Server, register_walker
from tracking.follow import expires_at

IMG = PROJECT / "docs" / "img"
FOLLOW_KEYS = {
    "display_name",
    "route_id",
    "distance_along_m",
    "progress_pct",
    "checkins",
    "eta",
    "finished",
    "position",
}


def poll(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def route20():
    return load_event(event_path("antwerp-2023")).routes["20km"].route


@pytest.fixture(scope="module")
def follow_server(tmp_path_factory):
    """The bundled 2023 event, with follow links that last (the event day is long past)."""
    srv = Server(
        db=tmp_path_factory.mktemp("follow") / "walk.sqlite3",
        env={"REFUGEE_WALK_FOLLOW_EXPIRY_HOURS": "1000000"},
    ).start()
    yield srv
    srv.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send_fix(srv: Server, token: str, route, index: int, n: int) -> None:
    with srv.client() as c:
        r = c.post(
            "/api/fixes",
            json={
                "fixes": [
                    {
                        "id": f"t-{n}",
                        "recorded_at": datetime.now(UTC).isoformat(),
                        "lat": float(route.lats[index]),
                        "lon": float(route.lons[index]),
                        "accuracy_m": 5,
                    }
                ]
            },
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text


def test_the_follow_api_shows_only_what_the_walker_chose(follow_server: Server, route20) -> None:
    w = register_walker(follow_server, "Amal Haddad", "20km", bib="77", phone="+32471234567")
    with follow_server.client() as c:
        assert c.get("/api/me/follow", headers=bearer(w["token"])).status_code == 404
        made = c.post(
            "/api/me/follow",
            json={"precise": False, "display_name": "Amal"},
            headers=bearer(w["token"]),
        )
        assert made.status_code == 201, made.text
        link = made.json()
        assert set(link) >= {"url", "token", "expires_at", "precise"} and link["precise"] is False
        assert link["url"].endswith(f"/f/{link['token']}")
        send_fix(follow_server, w["token"], route20, 40, 1)
        data = c.get(f"/api/follow/{link['token']}").json()
        assert set(data) >= FOLLOW_KEYS
        assert data["display_name"] == "Amal" and data["route_id"] == "20km"
        assert data["position"] is None and data["distance_along_m"] > 0
        page = c.get(f"/f/{link['token']}").text
        for secret in (w["token"], "Haddad", "+32471234567", "4712"):
            assert secret not in page and secret not in str(data)
        assert '"lat"' not in page

        precise = c.post("/api/me/follow", json={"precise": True}, headers=bearer(w["token"]))
        new = precise.json()
        assert c.get(f"/api/follow/{link['token']}").status_code == 404  # the old link ended
        pos = c.get(f"/api/follow/{new['token']}").json()
        assert pos["display_name"] == "" and pos["position"]["lat"] == pytest.approx(
            float(route20.lats[40]), abs=1e-5
        )
        assert c.delete("/api/me/follow", headers=bearer(w["token"])).status_code == 204
        assert c.get(f"/api/follow/{new['token']}").status_code == 404
        assert c.get(f"/f/{new['token']}").status_code == 404
        assert c.delete("/api/me/follow", headers=bearer(w["token"])).status_code == 404
        assert c.post("/api/me/follow", json={}, headers=bearer("nope")).status_code == 401


def test_the_follow_page_updates_within_5_s_and_hides_the_position(
    follow_server: Server, browser, route20
) -> None:
    w = register_walker(follow_server, "Jonas Peeters", "20km", bib="78")
    with follow_server.client() as c:
        plain = c.post("/api/me/follow", json={"display_name": "Jonas"}, headers=bearer(w["token"]))
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-BE")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(plain.json()["url"])
        assert page.text_content("h1") == "Jonas"
        assert "0,0 van 20,0 km" in page.text_content("#walked")
        send_fix(follow_server, w["token"], route20, 60, 1)
        sent = time.monotonic()
        page.wait_for_function(
            "() => !document.querySelector('#walked').textContent.startsWith('0,0')", timeout=5000
        )
        assert time.monotonic() - sent < 5.0
        assert page.is_hidden("#map") and page.is_visible("#nopos")
        IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG / "follow.png"), full_page=True)

        with follow_server.client() as c:
            precise = c.post(
                "/api/me/follow",
                json={"display_name": "Jonas", "precise": True},
                headers=bearer(w["token"]),
            ).json()
        page.goto(precise["url"] + "?lang=en")
        page.wait_for_selector("#dot")
        assert page.is_visible("#map") and page.is_hidden("#nopos")
        before = page.get_attribute("#dot", "cx")
        send_fix(follow_server, w["token"], route20, 200, 2)
        page.wait_for_function(
            f"() => document.querySelector('#dot').getAttribute('cx') !== '{before}'", timeout=5000
        )
        page.screenshot(path=str(IMG / "follow-precise.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_the_walker_makes_and_ends_the_link_from_their_page(follow_server: Server, browser) -> None:
    w = register_walker(follow_server, "Zoë Maes", "40km", bib="79")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{follow_server.url}/w/{w['token']}")
        page.click("#follow a")
        page.wait_for_load_state("load")  # the form's script is attached
        assert page.input_value("#name") == "Zoë"
        with page.expect_navigation():
            page.click("#make button")
        page.wait_for_selector("#live svg", timeout=10_000)
        url = page.get_attribute("#link", "href")
        page.click("text=Back to my walk")  # the walker page shows the link, its QR and Share
        assert page.get_attribute("#follow-url", "href") == url
        assert page.evaluate("() => document.querySelector('#follow img').naturalWidth") > 0
        assert page.is_visible("#follow-share")
        IMG.mkdir(parents=True, exist_ok=True)
        page.locator("#follow").screenshot(path=str(IMG / "walker-follow.png"))
        page.click("#follow a.btn")
        page.wait_for_load_state("load")
        with follow_server.client() as c:
            assert c.get(url).status_code == 200
            page.click("#stop")
            page.wait_for_selector("#msg:not([hidden])")
            assert c.get(url).status_code == 404
    finally:
        context.close()


def test_links_expire_after_the_event_day_and_the_feature_can_be_off(tmp_path) -> None:
    event = load_event(event_path("antwerp-2023"))
    day_end = expires_at(event, 0)
    hours = (datetime.now(UTC) + timedelta(seconds=15) - day_end).total_seconds() / 3600
    srv = Server(db=tmp_path / "a.sqlite3", env={"REFUGEE_WALK_FOLLOW_EXPIRY_HOURS": str(hours)})
    srv.start()
    try:
        w = register_walker(srv, "Nour Karimi", "20km")
        with srv.client() as c:
            link = c.post("/api/me/follow", json={}, headers=bearer(w["token"])).json()
            assert c.get(f"/api/follow/{link['token']}").status_code == 200
            poll(lambda: c.get(f"/api/follow/{link['token']}").status_code == 410, 25, "410")
            assert c.get(f"/f/{link['token']}").status_code == 410
            assert c.post("/api/me/follow", json={}, headers=bearer(w["token"])).status_code == 410
    finally:
        srv.stop()
    off = Server(db=tmp_path / "b.sqlite3", env={"REFUGEE_WALK_FOLLOW_ENABLED": "false"}).start()
    try:
        w = register_walker(off, "Nour Karimi", "20km")
        with off.client() as c:
            assert c.post("/api/me/follow", json={}, headers=bearer(w["token"])).status_code == 403
    finally:
        off.stop()


def test_deleting_the_walker_ends_their_link(follow_server: Server) -> None:
    w = register_walker(follow_server, "Lotte Janssens", "20km")
    with follow_server.client() as c:
        link = c.post("/api/me/follow", json={}, headers=bearer(w["token"])).json()
        assert c.get(f"/api/follow/{link['token']}").status_code == 200
        gone = c.delete(f"/api/walkers/{w['id']}", headers=follow_server.organiser)
        assert gone.status_code == 204
        assert c.get(f"/api/follow/{link['token']}").status_code == 404
