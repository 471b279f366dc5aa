"""The walker page (/w/{token}) in a real headless chromium with a phone emulated, on a real server.

No internet: map tiles are answered by the test and any other request leaving the loopback
address is refused and reported. Screenshots of the page in its three states (walking,
checked in, offline with positions waiting) are written to tests/artifacts/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from routes.bundled import event_path
from routes.event import Event, load_event
from routes.prepared import PreparedRoute
from tests.support import PROJECT, Server, register_walker
from tracking.web.i18n import LANGUAGES, catalogue, choose_language
from tracking.web.walker_page import (
    owntracks_config,
    owntracks_link,
    qr_svg,
    traccar_link,
    traccar_qr_text,
)

ARTIFACTS = PROJECT / "tests" / "artifacts"
PAGE_BUDGET_BYTES = 30_000
# A 1×1 grey PNG: what the test's "tile server" answers.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAWk1v8QAAAABJRU5ErkJggg=="
)
M_PER_DEG_LAT = 111_320.0


def text(lang: str, key: str, **values: str) -> str:
    """A message of the page's catalogue, filled in as the page fills it."""
    message = catalogue()[lang]["page"][key]
    return re.sub(r"\{(\w+)\}", lambda m: values[m[1]], message)


def poll(check: Callable[[], Any], timeout_s: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def event() -> Event:
    return load_event(event_path("antwerp-2023"))


@pytest.fixture(scope="module")
def route20(event: Event) -> PreparedRoute:
    return event.routes["20km"].route


@dataclass
class Phone:
    """One emulated phone: its browser context, the page, and what went wrong in it."""

    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)

    def move(self, lon: float, lat: float, accuracy: float = 8.0) -> None:
        self.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": accuracy})

    def queued(self, token: str) -> list[dict]:
        raw = self.page.evaluate("k => localStorage.getItem(k)", f"rw.{token}.q")
        return json.loads(raw) if raw else []


@pytest.fixture
def phone(browser) -> Iterator[Callable[..., Phone]]:
    """Opens the walker page on an emulated phone: 390×844, touch, location allowed."""
    contexts = []

    def open_phone(url: str, at: tuple[float, float], locale: str = "en-GB") -> Phone:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            timezone_id="Europe/Brussels",
            geolocation={"latitude": at[1], "longitude": at[0], "accuracy": 8},
            permissions=["geolocation"],
        )
        contexts.append(context)
        p = Phone(context, None)

        def outside(route: Any) -> None:
            if "tile.openstreetmap.org" in route.request.url:
                p.tiles.append(route.request.url)
                route.fulfill(status=200, content_type="image/png", body=TILE)
            else:
                p.outside.append(route.request.url)
                route.abort()

        context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), outside)
        p.page = context.new_page()
        p.page.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
        p.page.on("pageerror", lambda e: p.errors.append(str(e)))
        p.page.goto(url)
        return p

    yield open_phone
    for context in contexts:
        context.close()


# --- helpers ---------------------------------------------------------------------------------
def seed_walk(
    srv: Server, walker: dict, route: PreparedRoute, upto_m: float, end: datetime
) -> None:
    """An earlier session of the page: a fix every 500 m at 5 km/h, the last at `end`."""
    pace = 5 / 3.6
    fixes = []
    for i, along in enumerate(range(0, int(upto_m) + 1, 500)):
        lon, lat = route.point_at(along)
        at = end - timedelta(seconds=(upto_m - along) / pace)
        fixes.append(
            {
                "id": f"seed-{i}",
                "recorded_at": at.isoformat(),
                "lat": lat,
                "lon": lon,
                "accuracy_m": 6,
                "battery_pct": 84,
            }
        )
    with srv.client() as c:
        r = c.post(
            "/api/fixes",
            json={"fixes": fixes},
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.status_code == 200 and r.json()["accepted"] == len(fixes), r.text


def stored(srv: Server, walker_id: str) -> list[tuple]:
    """(row id, client id, lat, lon) of the walker's fixes in the server's SQLite file."""
    with contextlib.closing(sqlite3.connect(srv.db)) as db:
        return db.execute(
            "SELECT id, client_id, lat, lon FROM fixes WHERE walker_id=? AND source='web' ORDER BY id",
            (walker_id,),
        ).fetchall()


def walker_view(srv: Server, walker_id: str) -> dict:
    with srv.client() as c:
        return c.get(f"/api/walkers/{walker_id}", headers=srv.organiser).json()  # type: ignore[no-any-return]


def checkpoint(route: PreparedRoute, name_start: str) -> Any:
    return next(cp for cp in route.checkpoints if cp.name.startswith(name_start))


def north_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    return lon, lat + metres / M_PER_DEG_LAT


def shoot(p: Phone, name: str, section: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if section:
        p.page.evaluate("id => document.getElementById(id).scrollIntoView()", section)
    else:
        p.page.evaluate("() => window.scrollTo(0, 0)")
    p.page.screenshot(path=str(ARTIFACTS / f"walker-{name}.png"))
    p.page.screenshot(path=str(PROJECT / "docs" / "img" / f"walker-{name}.png"))  # the README's


def far_checkin(p: Phone, route: PreparedRoute) -> tuple[str, str]:
    """Check in 300 m north of Borsbeek; (expected distance text, point name)."""
    borsbeek = checkpoint(route, "Borsbeek")
    p.move(*north_of(borsbeek.lon, borsbeek.lat, 300))
    p.page.click("#checkin-btn")
    return "300 m", borsbeek.name


# --- pure parts: language, catalogue, app set-up -----------------------------------------------
@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, "nl-BE,nl;q=0.9,en;q=0.8", "nl"),
        (None, None, "fr-BE,fr;q=0.9", "fr"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, "de-BE,de;q=0.9", "nl"),  # a Belgian browser in none of the three
        (None, None, "", "nl"),
        (None, None, "ar,de;q=0.5", "en"),
        (None, None, "de;q=0.9,fr;q=0.8,nl;q=0.1", "fr"),
        (None, None, "nl;q=0,en", "en"),
        (None, "fr", "nl-BE", "fr"),  # the switch's choice beats the browser
        ("en", "fr", "nl-BE", "en"),  # and ?lang= beats both
        ("xx", None, "fr", "fr"),
    ],
)
def test_language_is_chosen_from_the_switch_then_the_browser(query, cookie, header, expected):
    assert choose_language(query, cookie, header) == expected


def test_every_message_exists_in_the_three_languages_with_the_same_placeholders():
    cat = catalogue()
    assert set(cat) == set(LANGUAGES)
    for section in ("page", "setup"):
        keys = set(cat["en"][section])
        for lang in LANGUAGES:
            assert set(cat[lang][section]) == keys, (lang, section)
            for key in keys:
                holes = sorted(re.findall(r"\{\w+\}", cat[lang][section][key]))
                assert holes == sorted(re.findall(r"\{\w+\}", cat["en"][section][key])), (lang, key)
                assert cat[lang][section][key].strip(), (lang, key)
    # Dutch and French are translations, not copies of the English.
    same = [k for k in cat["en"]["page"] if cat["nl"]["page"][k] == cat["en"]["page"][k]]
    assert set(same) <= {"sos_short"}, same


def test_every_message_the_script_uses_is_in_the_catalogue():
    script = (PROJECT / "tracking" / "static" / "walker.js").read_text(encoding="utf-8")
    used = set(re.findall(r"\bT\.(\w+)", script))
    assert used and used <= set(catalogue()["en"]["page"]), used - set(catalogue()["en"]["page"])


def test_the_app_set_up_carries_this_walkers_credentials():
    base, token = "https://walk.example.org", "tok-123_abc"
    config = owntracks_config(base, token, "w1a2b3c4", "57")
    link = owntracks_link(config)
    assert link.startswith("owntracks:///config?inline=")
    decoded = json.loads(base64.b64decode(unquote(link.partition("inline=")[2])))
    assert decoded == config
    assert decoded["_type"] == "configuration" and decoded["mode"] == 3
    assert decoded["url"] == "https://walk.example.org/ingest/owntracks"
    assert decoded["auth"] is True and decoded["password"] == token and len(decoded["tid"]) == 2
    # Traccar Client's scanner takes the server URL from the address and the rest from the query.
    qr = urlsplit(traccar_qr_text(base, token))
    assert f"{qr.scheme}://{qr.netloc}{qr.path}" == "https://walk.example.org/ingest/osmand"
    assert dict(parse_qsl(qr.query))["id"] == token
    deep = urlsplit(traccar_link(base, token))
    params = dict(parse_qsl(deep.query))
    assert deep.scheme == "org.traccar.client"
    assert params["url"] == "https://walk.example.org/ingest/osmand" and params["id"] == token


# --- against a real server, without a browser ---------------------------------------------------
@pytest.mark.e2e
def test_an_unknown_link_gets_a_friendly_page_in_three_languages(module_server: Server):
    with module_server.client() as c:
        for path in ("/w/not-a-token", "/w/not-a-token/apps", "/w/not-a-token/map"):
            r = c.get(path, headers={"Accept-Language": "fr-BE"})
            assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
            for lang in LANGUAGES:
                assert catalogue()[lang]["setup"]["nf_text"] in r.text.replace("&#x27;", "'")
            assert r.text.index('lang="fr"') < r.text.index('lang="nl"')  # the browser's first


@pytest.mark.e2e
def test_the_app_set_up_page_shows_this_walkers_settings_and_qr_codes(module_server: Server):
    walker = register_walker(module_server, "Yonas", "20km", bib="77")
    token = walker["token"]
    with module_server.client() as c:
        r = c.get(f"/w/{token}/apps", headers={"Accept-Language": "nl-BE"})
    assert r.status_code == 200 and '<html lang="nl">' in r.text
    base = module_server.url
    assert f"<code>{base}/ingest/osmand</code>" in r.text
    assert f"<code>{base}/ingest/owntracks</code>" in r.text
    assert r.text.count(f"<code>{token}</code>") == 2  # Traccar device id, OwnTracks password
    # The QR codes encode exactly the set-up for this walker.
    assert qr_svg(traccar_qr_text(base, token)) in r.text
    event = load_event(event_path("antwerp-2023"))
    config = owntracks_config(
        base,
        token,
        walker["id"],
        "77",
        event.routes["20km"].route.checkpoints,
        event.checkin_radius_m,
        int(event.day_start.timestamp()),
    )
    assert qr_svg(owntracks_link(config)) in r.text
    assert catalogue()["nl"]["setup"]["apps_intro"] in r.text
    assert r.headers["cache-control"] == "no-store"


# --- in the browser ----------------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.browser
def test_the_page_loads_small_fast_and_clean_and_shows_only_this_walker(
    module_server: Server, phone, route20: PreparedRoute
):
    other = register_walker(module_server, "Zainab Otherwalker", "40km", bib="901")
    walker = register_walker(module_server, "Lotte", "20km", bib="902")
    sizes: dict[str, int] = {}
    p = phone(f"{module_server.url}/w/{walker['token']}", route20.point_at(300))

    p.page.wait_for_selector("#map iframe")
    p.page.wait_for_load_state("networkidle")
    assert p.errors == [] and p.outside == []
    # Page weight: the HTML, script and style the page itself needs (Leaflet is the map's).
    for entry in p.page.evaluate(
        "() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
        ".map(e => [e.name, e.initiatorType, e.decodedBodySize])"
    ):
        name, kind, size = entry
        if kind in ("navigation", "script", "link") and "/vendor/" not in name:
            sizes[name] = size
    assert any(n.endswith("walker.js") or "walker.js?" in n for n in sizes), sizes
    assert sum(sizes.values()) < PAGE_BUDGET_BYTES, sizes
    html = p.page.content()
    assert "Lotte · 902" in html
    assert other["token"] not in html and "Otherwalker" not in html
    # Large touch targets, and the plain warning about locked phones with the way out.
    for selector in ("#share-btn", "#checkin-btn", "#sos-btn", "#sos-top", ".langs a"):
        for box in p.page.eval_on_selector_all(
            selector, "els => els.map(e => e.getBoundingClientRect().height)"
        ):
            assert box >= 44, selector
    note = p.page.inner_text("#share .note")
    assert text("en", "lock_warn") in note
    assert p.page.get_attribute("#share .note a", "href") == f"/w/{walker['token']}/apps?lang=en"


@pytest.mark.e2e
@pytest.mark.browser
def test_sharing_sends_positions_and_the_map_follows(module_server: Server, phone, route20):
    walker = register_walker(module_server, "Hana", "20km", bib="903")
    seed_walk(module_server, walker, route20, 7050, datetime.now(UTC) - timedelta(minutes=3))
    here = route20.point_at(7300)
    p = phone(f"{module_server.url}/w/{walker['token']}", here)

    assert p.page.inner_text("#share-text") == text("en", "share_off")
    assert p.page.inner_text("#queue-n") == text("en", "queue_nothing")  # not "all sent" yet
    p.page.click("#share-btn")
    poll(
        lambda: any(abs(f[2] - here[1]) < 1e-6 for f in stored(module_server, walker["id"])),
        what="the first position at the server",
    )
    p.page.wait_for_function(
        "t => document.getElementById('queue-n').textContent === t", arg=text("en", "queue_none")
    )
    assert p.page.inner_text("#share-text") == text("en", "share_on")
    assert p.page.inner_text("#share-btn") == text("en", "share_stop")
    view = walker_view(module_server, walker["id"])
    assert view["last_fix"]["lat"] == pytest.approx(here[1], abs=1e-6)
    assert view["distance_along_m"] == pytest.approx(7300, abs=5)
    # My walk: progress, km done and to go, the next check-in point.
    p.page.wait_for_function("() => document.getElementById('done').textContent.includes('km')")
    assert p.page.inner_text("#done") == "7.3 km" and p.page.inner_text("#togo") == "12.7 km"
    assert "Rest stop Vremde" in p.page.inner_text("#next")
    # The small map shows the route and moves the walker's marker to the phone's position.
    frame = p.page.frame_locator("#map iframe")
    assert frame.locator("path.leaflet-interactive").count() > 3
    map_frame = next(f for f in p.page.frames if f.url.endswith("/map"))
    position = poll(
        lambda: map_frame.evaluate(
            "() => { const m = window.refugeeWalk.me.position; return m.options.opacity === 1 && m.getLatLng(); }"
        ),
        what="the walker's marker on the map",
    )
    assert position["lat"] == pytest.approx(here[1], abs=1e-6)
    assert p.tiles and p.outside == [] and p.errors == []
    shoot(p, "walking")


@pytest.mark.e2e
@pytest.mark.browser
def test_check_in_near_a_point_succeeds_and_far_away_says_how_far(
    module_server: Server, phone, route20
):
    walker = register_walker(module_server, "Tesfay", "20km", bib="904")
    vremde = checkpoint(route20, "Rest stop Vremde")
    seed_walk(
        module_server,
        walker,
        route20,
        vremde.distance_along_m - 300,
        datetime.now(UTC) - timedelta(minutes=4),
    )
    p = phone(
        f"{module_server.url}/w/{walker['token']}", route20.point_at(vremde.distance_along_m - 30)
    )
    p.page.click("#share-btn")
    poll(
        lambda: (
            walker_view(module_server, walker["id"])["distance_along_m"]
            > vremde.distance_along_m - 60
        ),
        what="the position near the rest stop",
    )

    p.page.click("#checkin-btn")
    done = text("en", "checkin_ok", name=vremde.name, km=f"{vremde.distance_along_m / 1000:.1f} km")
    p.page.wait_for_function(
        "t => document.getElementById('checkin-msg').textContent === t", arg=done
    )
    assert "ok" in p.page.get_attribute("#checkin-msg", "class")
    assert vremde.id in {
        c["checkpoint_id"] for c in walker_view(module_server, walker["id"])["checkins"]
    }
    p.page.wait_for_function(
        "n => document.getElementById('checked').textContent.includes(n)", arg=vremde.name
    )
    shoot(p, "checked-in", "checkin")

    p.page.click("#share-btn")  # stop sharing: the check-in asks for a position of its own
    far, name = far_checkin(p, route20)
    expected = text("en", "checkin_far", dist=far, name=name)
    assert expected.startswith(
        "Not at a check-in point yet. The next one is Borsbeek, 300 m further"
    )
    p.page.wait_for_function(
        "t => document.getElementById('checkin-msg').textContent === t", arg=expected
    )
    assert "bad" in p.page.get_attribute("#checkin-msg", "class")
    assert p.outside == []


@pytest.mark.e2e
@pytest.mark.browser
def test_an_hour_offline_every_position_arrives_once_the_live_one_first(
    module_server: Server, phone, route20
):
    walker = register_walker(module_server, "Omar", "20km", bib="905")
    token = walker["token"]
    start = 2000
    p = phone(f"{module_server.url}/w/{token}", route20.point_at(start))
    p.page.click("#share-btn")
    first = poll(lambda: stored(module_server, walker["id"]), what="the first position")
    assert len(first) == 1

    p.context.set_offline(True)
    p.page.wait_for_selector("#net", state="visible")
    positions = [route20.point_at(start + 60 * i) for i in range(1, 13)]
    for i, (lon, lat) in enumerate(positions, start=1):
        p.move(lon, lat)
        poll(lambda i=i: len(p.queued(token)) == i, what=f"position {i} in the phone's queue")
    assert p.page.inner_text("#queue-n") == text("en", "queue_many", n="12")
    queue = p.queued(token)
    assert len({f["id"] for f in queue}) == 12
    assert stored(module_server, walker["id"]) == first  # nothing got through while offline
    shoot(p, "offline")

    p.context.set_offline(False)
    rows = poll(
        lambda: (r := stored(module_server, walker["id"])) and len(r) >= 13 and r,
        what="the queued positions at the server",
    )
    time.sleep(0.5)  # let any (wrong) second delivery land before counting
    rows = stored(module_server, walker["id"])
    ids = [r[1] for r in rows]
    assert len(rows) == 13 and len(set(ids)) == 13  # each exactly once
    assert {(round(r[3], 6), round(r[2], 6)) for r in rows[1:]} == {
        (round(lon, 6), round(lat, 6)) for lon, lat in positions
    }
    # The live (newest) position first, then the backlog oldest first.
    sent = [r[1] for r in rows[1:]]
    assert sent == [queue[-1]["id"]] + [f["id"] for f in queue[:-1]]
    p.page.wait_for_function(
        "t => document.getElementById('queue-n').textContent === t", arg=text("en", "queue_none")
    )
    assert p.page.is_hidden("#net") and p.queued(token) == []


@pytest.mark.e2e
@pytest.mark.browser
def test_the_queue_survives_a_reload_and_sharing_resumes(module_server: Server, phone, route20):
    walker = register_walker(module_server, "Semhar", "20km", bib="907")
    token = walker["token"]
    p = phone(f"{module_server.url}/w/{token}", route20.point_at(4000))
    p.page.click("#share-btn")
    poll(lambda: stored(module_server, walker["id"]), what="the first position")
    p.context.route("**/api/fixes", lambda route: route.abort())  # the server out of reach
    for i in range(1, 4):
        p.move(*route20.point_at(4000 + 80 * i))
        poll(lambda i=i: len(p.queued(token)) == i, what=f"position {i} in the queue")
    waiting = {f["id"] for f in p.queued(token)}

    p.page.reload()
    p.page.wait_for_function(
        "t => document.getElementById('share-text').textContent === t", arg=text("en", "share_on")
    )
    assert waiting <= {f["id"] for f in p.queued(token)}  # kept across the reload
    p.context.unroute("**/api/fixes")
    p.context.set_offline(True)  # a flicker of the signal: sent when it returns
    p.context.set_offline(False)
    p.page.wait_for_function(
        "t => document.getElementById('queue-n').textContent === t", arg=text("en", "queue_none")
    )
    ids = [r[1] for r in stored(module_server, walker["id"])]
    assert waiting <= set(ids) and len(ids) == len(set(ids))


@pytest.mark.e2e
@pytest.mark.browser
def test_sos_asks_first_then_reaches_the_organisers(module_server: Server, phone, route20):
    walker = register_walker(module_server, "Aster", "20km", bib="906")
    here = route20.point_at(5200)
    p = phone(f"{module_server.url}/w/{walker['token']}", here)

    def sos_alerts() -> list[dict]:
        with module_server.client() as c:
            alerts = c.get("/api/alerts", headers=module_server.organiser).json()
        return [a for a in alerts if a["walker_id"] == walker["id"] and a["kind"] == "sos"]

    p.page.click("#sos-top")
    assert p.page.is_visible("#sos-dialog")
    assert p.page.inner_text("#sos-question") == text("en", "sos_question")
    p.page.click("#sos-no")
    assert p.page.is_hidden("#sos-dialog") and sos_alerts() == []

    p.page.click("#sos-btn")
    p.page.click("#sos-yes")
    p.page.wait_for_function(
        "t => document.getElementById('sos-msg').textContent === t", arg=text("en", "sos_sent")
    )
    alerts = poll(sos_alerts, what="the SOS alert")
    assert len(alerts) == 1 and alerts[0]["state"] == "open"
    assert alerts[0]["lat"] == pytest.approx(here[1], abs=1e-6)
    # the bundled event's number is a placeholder: walkers get no button that calls nobody
    assert p.page.locator("a.call").count() == 0


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.parametrize(("locale", "lang"), [("nl-BE", "nl"), ("en-GB", "en"), ("fr-BE", "fr")])
def test_each_language_renders_including_the_api_errors(
    module_server: Server, phone, route20, locale, lang
):
    walker = register_walker(module_server, f"Walker {lang}", "20km")
    p = phone(f"{module_server.url}/w/{walker['token']}", route20.point_at(100), locale=locale)

    assert p.page.get_attribute("html", "lang") == lang
    assert p.page.inner_text("#share h2") == text(lang, "share_title")
    assert p.page.inner_text("#share-btn") == text(lang, "share_start")
    assert p.page.inner_text("#walk h2") == text(lang, "walk_title")
    assert p.page.inner_text("#sos-btn") == text(lang, "sos_btn")
    assert p.page.inner_text("#next") == text(lang, "walk_nofix")
    far, name = far_checkin(p, route20)
    expected = text(lang, "checkin_far", dist=far, name=name)
    p.page.wait_for_function(
        "t => document.getElementById('checkin-msg').textContent === t", arg=expected
    )
    body = p.page.inner_text("body")
    assert "{" not in body and "undefined" not in body
    # The switch: another language at once, and it stays chosen.
    other = "en" if lang != "en" else "fr"
    p.page.click(f".langs a[hreflang={other}]")
    p.page.wait_for_url(f"**/w/{walker['token']}?lang={other}")
    assert p.page.inner_text("#share h2") == text(other, "share_title")
    p.page.goto(f"{module_server.url}/w/{walker['token']}")
    assert p.page.get_attribute("html", "lang") == other
    assert p.outside == []


@pytest.mark.e2e
def test_a_check_in_at_1_4_km_on_the_20_km_route_points_to_fort_4(module_server: Server, route20):
    walker = register_walker(module_server, "Early Walker", "20km")
    now = datetime.now(UTC)
    headers = {"Authorization": f"Bearer {walker['token']}"}
    with module_server.client() as c:
        fixes = []
        for k, along in enumerate((0, 400, 800, 1200, 1400)):
            lon, lat = route20.point_at(along)
            at = now - timedelta(seconds=60 * (5 - k))
            fixes.append({"id": f"e{k}", "recorded_at": at.isoformat(), "lat": lat, "lon": lon})
        assert c.post("/api/fixes", json={"fixes": fixes}, headers=headers).status_code == 200
        lon, lat = route20.point_at(1400)
        r = c.post("/api/checkins", json={"lat": lat, "lon": lon, "accuracy_m": 8}, headers=headers)
    assert r.status_code == 422
    nearest = r.json()["nearest"]
    assert nearest["name"] == "Fort 4"
    assert nearest["distance_m"] == pytest.approx(
        checkpoint(route20, "Fort 4").distance_along_m - 1400, abs=10
    )
    assert "3.0 km" in r.json()["detail"] and "Fort 4" in r.json()["detail"]
