"""The organisers' dashboard in a real headless chromium, against a real server, offline.

Map tiles are the only thing the page loads from outside; here they are answered by the test
(a transparent PNG) or refused, since there is no internet. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tests.support import Server, register_walker
from tracking.web.dashboard import STATUS_STYLE

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
TILE_HOST = "tile.openstreetmap.org"
HOSTILE = '<img src=x onerror="window.__xss=1">Mallory'


def png(width: int = 1, height: int = 1) -> bytes:
    """A fully transparent RGBA PNG."""
    raw = b"".join(b"\x00" + b"\x00\x00\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def routes() -> dict[str, PreparedRoute]:
    event = load_event(event_path("antwerp-2023"))
    return {rid: er.route for rid, er in event.routes.items()}


class Dashboard:
    """A page on /organiser that records console errors and every request it makes."""

    def __init__(self, browser: Any, srv: Server, tiles: str = "blank") -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.srv = srv
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        if tiles == "blank":
            blank = png()
            self.page.route(
                f"https://{TILE_HOST}/**",
                lambda route: route.fulfill(status=200, content_type="image/png", body=blank),
            )
        else:
            self.page.route(
                f"https://{TILE_HOST}/**", lambda route: route.abort("internetdisconnected")
            )

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def open(self, sign_in: bool = True) -> Dashboard:
        self.page.goto(f"{self.srv.url}/organiser")
        if sign_in:
            self.page.fill("#rw-token", self.srv.token)
            self.page.click("#rw-signin-form button[type=submit]")
            self.page.wait_for_selector("body[data-connection=live]", timeout=15000)
        return self

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def poll(
        self, expression: str, check: Callable[[Any], bool] = bool, timeout: float = 10
    ) -> Any:
        """Evaluate until `check` holds (the page's CSP forbids Playwright's eval-based waits)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if check(value):
                return value
            assert time.monotonic() < deadline, f"{expression} stayed {value!r}"
            time.sleep(0.1)

    def walker(self, walker_id: str) -> Any:
        return self.js(f"""(() => {{
            const e = rwDashboard.state.walkers.get({walker_id!r});
            if (!e) return null;
            const m = e.marker;
            return {{status: e.w.s, shown: e.shown,
                     latlng: m ? [m.getLatLng().lat, m.getLatLng().lng] : null,
                     fill: m ? m.options.fillColor : null}};
        }})()""")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def dashboard(browser: Any, server: Server) -> Iterator[Dashboard]:
    d = Dashboard(browser, server)
    yield d
    d.close()


def post_fixes(srv: Server, walker: dict, fixes: list[dict]) -> None:
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        r = c.post(
            "/api/fixes",
            json={"fixes": fixes},
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.status_code == 200, r.text


def fix(route: PreparedRoute, along: float, at: datetime, **extra: Any) -> dict:
    lon, lat = route.point_at(along)
    return {
        "id": f"{along}-{at.timestamp()}",
        "recorded_at": at.isoformat(),
        "lat": lat,
        "lon": lon,
        "accuracy_m": 6,
        "battery_pct": 76,
        **extra,
    }


def rounded(route: PreparedRoute, along: float) -> list[float]:
    lon, lat = route.point_at(along)
    return [round(lat, 6), round(lon, 6)]


# --- sign-in -----------------------------------------------------------------------------------
def test_sign_in_refuses_a_wrong_token_and_never_puts_it_in_the_url(dashboard: Dashboard) -> None:
    page = dashboard.open(sign_in=False).page
    assert page.is_visible("#rw-signin")
    page.fill("#rw-token", "wrong")
    page.click("#rw-signin-form button[type=submit]")
    page.wait_for_selector("#rw-signin-error:not([hidden])")
    assert "not the organiser token" in page.inner_text("#rw-signin-error")
    assert dashboard.js("rwDashboard.state.ws") is None

    page.fill("#rw-token", dashboard.srv.token)
    page.click("#rw-signin-form button[type=submit]")
    page.wait_for_selector("body[data-connection=live]")
    assert page.is_hidden("#rw-signin")
    assert dashboard.srv.token not in page.url
    assert (
        dashboard.js("sessionStorage.getItem('refugee-walk.organiser-token')")
        == dashboard.srv.token
    )

    page.reload()  # kept for the session: no second sign-in
    page.wait_for_selector("body[data-connection=live]")
    assert page.is_hidden("#rw-signin")

    page.click("#rw-signout")
    assert page.is_visible("#rw-signin")
    assert dashboard.js("sessionStorage.getItem('refugee-walk.organiser-token')") is None


def test_a_token_in_a_link_is_taken_and_removed_from_the_address(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.goto(f"{dashboard.srv.url}/organiser#token={dashboard.srv.token}")
    page.wait_for_selector("body[data-connection=live]")
    assert page.url == f"{dashboard.srv.url}/organiser"


# --- the live map ----------------------------------------------------------------------------------
def test_markers_appear_move_and_an_sos_can_be_acknowledged(
    dashboard: Dashboard, server: Server, routes: dict[str, PreparedRoute]
) -> None:
    route = routes["40km"]
    amina = register_walker(server, "Amina Peeters", bib="101", phone="+32 470 11 22 33")
    mallory = register_walker(server, HOSTILE, bib="102", team="<script>alert(1)</script>")
    waiting = register_walker(server, "Not started yet", route_id="20km", bib="103")
    now = datetime.now(UTC)
    post_fixes(
        server,
        amina,
        [fix(route, 0, now - timedelta(minutes=2)), fix(route, 120, now - timedelta(minutes=1))],
    )
    post_fixes(server, mallory, [fix(route, 6000, now - timedelta(minutes=1))])

    d = dashboard.open()
    d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == 2)
    assert d.walker(waiting["id"])["latlng"] is None  # no position, no marker
    assert d.walker(amina["id"])["latlng"] == rounded(route, 120)
    assert d.js("document.querySelectorAll('.rw-cluster, path.rw-walker').length") >= 1
    assert d.page.inner_text("#rw-kpis").replace("\n", " ").startswith("3 WALKERS")

    # a new fix moves the marker
    post_fixes(server, amina, [fix(route, 900, now)])
    d.poll(
        f"rwDashboard.state.walkers.get({amina['id']!r}).marker.getLatLng().lat",
        lambda lat: round(lat, 6) == rounded(route, 900)[0],
    )

    # an SOS: the alert is listed, the marker turns red, the organiser acknowledges it
    lon, lat = route.point_at(6010)
    with httpx.Client(base_url=server.url) as c:
        r = c.post(
            "/api/sos",
            json={"lat": lat, "lon": lon, "message": "twisted ankle"},
            headers={"Authorization": f"Bearer {mallory['token']}"},
        )
        assert r.status_code == 201
    item = d.page.wait_for_selector("li.rw-alert[data-kind=sos]")
    assert "twisted ankle" in item.inner_text()  # the walker's own words
    assert HOSTILE in item.inner_text()  # the name is text...
    assert d.js("window.__xss") is None  # ...and nothing in it ran
    assert d.js("document.querySelectorAll('#rw-side img, #rw-side script').length") == 0
    d.poll(f"rwDashboard.state.walkers.get({mallory['id']!r}).w.s", lambda s: s == "needs_help")
    assert d.walker(mallory["id"])["fill"] == STATUS_STYLE["needs_help"][1]
    assert "1" in d.page.inner_text("#rw-alert-count")

    # clicking the card shows the walker and changes nothing
    d.page.click("li.rw-alert[data-kind=sos] .rw-alert-show")
    d.page.wait_for_selector("#rw-detail:not([hidden]) h3")
    assert d.page.get_attribute("li.rw-alert[data-kind=sos]", "data-state") == "open"
    # Acknowledge takes a second, deliberate click
    ack = "li.rw-alert[data-kind=sos] button[data-action=ack]"
    d.page.click(ack)
    assert d.page.inner_text(ack) == "Yes, acknowledge"
    d.page.wait_for_timeout(300)
    assert d.page.get_attribute("li.rw-alert[data-kind=sos]", "data-state") == "open"
    d.page.click(ack)
    d.page.wait_for_selector("li.rw-alert[data-kind=sos][data-state=acknowledged]")
    with httpx.Client(base_url=server.url) as c:
        states = {
            a["kind"]: a["state"] for a in c.get("/api/alerts", headers=server.organiser).json()
        }
    assert states["sos"] == "acknowledged"

    # clicking the alert opens the walker: hostile strings stay text there too
    d.page.click("li.rw-alert[data-kind=sos] .rw-alert-who")
    d.page.wait_for_selector("#rw-detail:not([hidden]) h3")
    assert d.page.inner_text("#rw-detail h3") == HOSTILE
    assert "<script>alert(1)</script>" in d.page.inner_text("#rw-detail")
    d.poll("rwDashboard.map.getZoom()", lambda z: z >= 16)
    assert not d.errors, d.errors


def test_search_by_bib_opens_the_walker_with_track_and_check_ins(
    dashboard: Dashboard, server: Server, routes: dict[str, PreparedRoute]
) -> None:
    route = routes["40km"]
    walker = register_walker(server, "Youssef El Amrani", bib="4711", phone="+32 470 99 88 77")
    register_walker(server, "Someone Else", bib="4712")
    now = datetime.now(UTC)
    post_fixes(
        server,
        walker,
        [fix(route, a, now - timedelta(seconds=(400 - a) * 0.8)) for a in range(0, 401, 100)],
    )
    d = dashboard.open()
    d.poll("rwDashboard.state.walkers.size", lambda n: n == 2)
    d.page.fill("#rw-search", "4711")
    first = d.page.wait_for_selector("#rw-results li[data-walker-id]")
    assert first.get_attribute("data-walker-id") == walker["id"]
    d.page.press("#rw-search", "Enter")
    d.page.wait_for_selector("#rw-detail:not([hidden]) h3")
    detail = d.page.inner_text("#rw-detail")
    assert "Youssef El Amrani" in detail and "+32 470 99 88 77" in detail
    assert route.checkpoints[0].name in detail  # checked in at the start
    assert "76 %" in detail  # battery
    d.poll(
        "(() => { let n = 0; rwDashboard.map.eachLayer(l => { if (l instanceof L.Polyline && "
        "!(l instanceof L.Polygon) && l.options.color === '#14213d') n = l.getLatLngs().length; });"
        " return n; })()",
        lambda n: n == 5,
    )
    d.page.fill("#rw-search", "El Amr")
    names = d.page.inner_text("#rw-results")
    assert "Youssef El Amrani" in names and "Someone Else" not in names
    assert not d.errors, d.errors


def test_status_filter_hides_and_shows_markers(
    dashboard: Dashboard, server: Server, routes: dict[str, PreparedRoute]
) -> None:
    route = routes["40km"]
    walker = register_walker(server, "Filter Test")
    post_fixes(server, walker, [fix(route, 3000, datetime.now(UTC))])
    d = dashboard.open()
    d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == 1)
    d.page.click("#rw-status tr[data-status=walking]")
    d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == 0)
    d.page.click("#rw-status tr[data-status=walking]")
    d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == 1)


def test_the_page_stays_usable_without_tiles_and_loads_nothing_from_a_cdn(
    browser: Any, server: Server, routes: dict[str, PreparedRoute]
) -> None:
    walker = register_walker(server, "Offline Walker")
    post_fixes(server, walker, [fix(routes["20km"], 2000, datetime.now(UTC))])
    d = Dashboard(browser, server, tiles="fail")
    try:
        d.open()
        d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == 1)
        d.page.wait_for_selector("#rw-tiles-note:not([hidden])")
        drawn = d.js("document.querySelectorAll('.leaflet-overlay-pane path').length")
        assert drawn >= 2  # both routes (and the check-in points) are vectors
        hosts = {urlparse(u).netloc for u in d.requests if not u.startswith(("data:", "blob:"))}
        assert hosts <= {f"127.0.0.1:{server.port}", TILE_HOST}, hosts
        scripts = d.js("[...document.scripts].map(s => s.src).filter(Boolean)")
        assert scripts and all(s.startswith(server.url) for s in scripts)
        others = [e for e in d.errors if TILE_HOST not in e]
        assert not others, others
    finally:
        d.close()


# --- a realistic picture for the README -----------------------------------------------------------
def seed_event(srv: Server, routes: dict[str, PreparedRoute], n: int = 400) -> dict[str, dict]:
    """n walkers at realistic places: most walking, some finished, off route, silent, one SOS."""
    first = [
        "Amina",
        "Jonas",
        "Lotte",
        "Youssef",
        "Sara",
        "Pieter",
        "Fatima",
        "Noah",
        "Elif",
        "Wout",
        "Mira",
        "Bram",
        "Hanna",
        "Omar",
        "Lise",
        "Daan",
    ]
    last = [
        "Peeters",
        "Janssens",
        "El Amrani",
        "Maes",
        "Claes",
        "Yilmaz",
        "Wouters",
        "De Smet",
        "Diallo",
        "Vermeulen",
    ]
    rows = ["name,route,bib,team,phone"]
    for i in range(n):
        route = "20km" if i % 3 == 0 else "40km"
        rows.append(
            f"{first[i % 16]} {last[(i * 7) % 10]},{route},{1000 + i},Team {i % 9},+32 470 {i:06d}"
        )
    with srv.client() as c:
        made = c.post(
            "/api/walkers/import", content="\n".join(rows).encode(), headers=srv.organiser
        ).json()["rows"]
    now = datetime.now(UTC)
    special: dict[str, dict] = {}
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        for i, w in enumerate(made):
            route = routes[w["route_id"]]
            length = route.length_m
            spread = ((i * 0.6180339887) % 1.0) ** 1.3  # more walkers early on the routes
            along = 200 + spread * (length - 1500)
            times = [now - timedelta(seconds=60 * (3 - k)) for k in range(4)]
            offsets = [0.0, 0.0, 0.0, 0.0]
            if i % 37 == 5:
                continue  # registered, no phone yet
            if i % 29 == 3:
                along = length - 200  # finishing
                points = [along, along + 100, length - 10, length]
            else:
                points = [along - 180 + 60 * k for k in range(4)]
            if i % 41 == 9:
                times = [t - timedelta(minutes=40) for t in times]  # silent
            if i % 53 == 11:
                offsets = [0.0, 0.00135, 0.00225, 0.0027]  # drifting 150-300 m off, 4.5 min
                times = [now - timedelta(seconds=90 * (3 - k)) for k in range(4)]
            fixes = []
            for k, (a, t) in enumerate(zip(points, times, strict=True)):
                lon, lat = route.point_at(max(0.0, a))
                fixes.append(
                    {
                        "id": f"s{k}",
                        "recorded_at": t.isoformat(),
                        "lat": lat + offsets[k],
                        "lon": lon,
                        "accuracy_m": 8,
                        "battery_pct": 90 - (i % 60),
                    }
                )
            r = c.post(
                "/api/fixes",
                json={"fixes": fixes},
                headers={"Authorization": f"Bearer {w['token']}"},
            )
            assert r.status_code == 200, r.text
            if i == 17:
                lon, lat = route.point_at(points[-1])
                c.post(
                    "/api/sos",
                    json={"lat": lat, "lon": lon, "message": "knee pain, cannot walk"},
                    headers={"Authorization": f"Bearer {w['token']}"},
                )
                special["sos"] = w
    return special


def test_screenshot_of_a_busy_event(
    browser: Any, server: Server, routes: dict[str, PreparedRoute]
) -> None:
    special = seed_event(server, routes)
    with httpx.Client(base_url=server.url) as c:
        overview = c.get("/api/overview", headers=server.organiser).json()
    d = Dashboard(browser, server)
    try:
        d.open()
        with_position = sum(
            n
            for r in overview["routes"].values()
            for s, n in r["statuses"].items()
            if s != "registered"
        )
        d.poll("rwDashboard.cluster.getLayers().length", lambda n: n == with_position)
        assert overview["walkers"] == 400
        statuses = overview["routes"]["40km"]["statuses"]
        assert statuses["finished"] > 0 and statuses["silent"] > 0 and statuses["off_route"] > 0
        # the status table shows the server's numbers
        total = d.page.inner_text("#rw-status tfoot").split()
        assert total[-1] == "400"
        d.poll("document.querySelectorAll('#rw-chart rect').length", lambda n: n > 20)
        d.js(f"rwDashboard.select({special['sos']['id']!r}, {{fly: false}})")
        d.page.wait_for_selector("#rw-detail:not([hidden]) h3")
        d.page.wait_for_timeout(800)  # let the cluster animation settle
        ARTIFACTS.mkdir(exist_ok=True)
        d.page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
        d.page.screenshot(path=str(DOCS_IMG / "dashboard.png"))
        d.js("document.getElementById('rw-side').scrollTop = 10000")
        d.page.screenshot(path=str(ARTIFACTS / "dashboard-sidebar.png"))
        assert (ARTIFACTS / "dashboard.png").stat().st_size > 50_000
        assert not d.errors, d.errors
    finally:
        d.close()
