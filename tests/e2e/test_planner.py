"""The personal-route check end to end: a real server process, real HTTP, headless chromium.

The server's tile URL points at a closed loopback port, so every map tile fails, as it would
offline: the planner must stay usable without them. Leaflet comes from the server itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from routes.errors import GpxReadError
from routes.findings import render
from routes.gpx_reader import read_route_gpx
from routes.validation import validate_gpx
from tests.routes.test_validation import gpx_bytes, loop_route, recorded_walk
from tests.support import CORPUS, PROJECT, Server

pytestmark = pytest.mark.e2e

UPLOAD_LIMIT = 1_000_000
ARTIFACTS = PROJECT / "tests" / "artifacts"
MORTSEL_VIEW = (51.170, 4.455, 13)  # lat, lon, zoom: about 12 m per pixel


@pytest.fixture(scope="module")
def srv(tmp_path_factory) -> Iterator[Server]:
    env = {
        "REFUGEE_WALK_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
        "REFUGEE_WALK_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        # one address checks ~100 files here; a walker checks far fewer
        "REFUGEE_WALK_CPU_REQUESTS_BURST": "400",
    }
    server = Server(db=tmp_path_factory.mktemp("planner") / "walk.sqlite3", env=env).start()
    yield server
    server.stop()


def post(srv: Server, data: bytes | None, distance: str | None = "20", name="route.gpx"):
    """A multipart form as a browser sends it; the fields left out are not sent at all."""
    parts: dict = {"note": (None, "planner test")}
    if data is not None:
        parts["file"] = (name, data, "application/gpx+xml")
    if distance is not None:
        parts["distance_km"] = (None, distance)
    return httpx.post(f"{srv.url}/api/personal-routes/validate", files=parts, timeout=60)


# --- the API ----------------------------------------------------------------------------


def test_a_planned_route_that_counts(srv: Server) -> None:
    r = post(srv, gpx_bytes([loop_route(20_600)]))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["valid"] is True and report["kind"] == "planned"
    assert report["distance_m"] == pytest.approx(20_600, abs=1)
    assert report["region"]["province"] == "Antwerpen"


def test_a_recording_is_measured_without_its_gps_noise(srv: Server) -> None:
    r = post(srv, recorded_walk(4_000, seed=31, pauses=1), distance="20")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["kind"] == "recorded" and report["valid"] is False
    assert report["distance_m"] < report["raw_distance_m"]
    assert report["recorded"]["moving_time_s"] > 0


def test_an_unreadable_file_gets_422_with_the_reason(srv: Server) -> None:
    r = post(srv, b"<gpx><trk><trkseg><trkpt lat='51' lon='4'>", name="cut.gpx")
    assert r.status_code == 422
    assert "cut.gpx" in r.json()["detail"] and "cut off" in r.json()["detail"]


def test_a_file_over_the_limit_gets_413(srv: Server) -> None:
    r = post(srv, b"<gpx>" + b" " * (UPLOAD_LIMIT + 10) + b"</gpx>")
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]


def test_an_endless_upload_is_cut_off_with_413(srv: Server) -> None:
    def endless() -> Iterator[bytes]:
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.gpx"\r\n\r\n'
        yield head
        for _ in range(10_000):  # up to 640 MB, never all sent
            yield b"<!-- padding -->" * 4096

    r = httpx.post(
        f"{srv.url}/api/personal-routes/validate",
        content=endless(),
        headers={"content-type": "multipart/form-data; boundary=b"},
        timeout=60,
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("data", "distance", "status", "words"),
    [
        (None, "20", 422, "form field 'file'"),
        (b"<gpx/>", "30", 422, "20 or 40"),
        (b"<gpx/>", None, 422, "20 or 40"),
    ],
)
def test_a_missing_file_or_wrong_distance_is_explained(srv, data, distance, status, words) -> None:
    r = post(srv, data, distance)
    assert r.status_code == status
    assert words in r.json()["detail"]


def test_a_body_that_is_not_a_form_gets_415(srv: Server) -> None:
    r = httpx.post(f"{srv.url}/api/personal-routes/validate", json={"distance_km": 20})
    assert r.status_code == 415
    assert "multipart/form-data" in r.json()["detail"]


def test_the_planner_page_loads_leaflet_from_the_server(srv: Server) -> None:
    html = httpx.get(f"{srv.url}/plan").text
    assert '<script src="/vendor/leaflet/leaflet.js">' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # no CDN
    assert httpx.get(f"{srv.url}/vendor/leaflet/leaflet.js").status_code == 200
    assert httpx.get(f"{srv.url}/static/plan.js").status_code == 200


def test_the_planner_config_carries_the_tile_url_and_the_rules(srv: Server) -> None:
    config = httpx.get(f"{srv.url}/api/personal-routes/config").json()
    assert config["tile_url"].startswith("http://127.0.0.1:9/")
    assert config["targets_km"] == [20, 40]
    assert config["rules"]["distance_tolerance_pct"] == 2.0


# --- the page in chromium ---------------------------------------------------------------


def open_planner(browser, srv: Server, locale: str = "nl-BE", **context):
    ctx = browser.new_context(locale=locale, accept_downloads=True, **context)
    page = ctx.new_page()
    page.goto(f"{srv.url}/plan")
    page.wait_for_selector("body[data-ready=true]")
    return ctx, page


def set_view(page, lat: float, lon: float, zoom: int) -> None:
    page.evaluate(f"window.planner.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")


def draw_rectangle(page, width_px: int, height_px: int, step_px: int) -> None:
    """Click points around a rectangle in the middle of the map, then the first point."""
    box = page.locator("#map").bounding_box()
    x0 = box["x"] + (box["width"] - width_px) / 2
    y0 = box["y"] + (box["height"] - height_px) / 2
    corners = [(0, 0), (width_px, 0), (width_px, height_px), (0, height_px), (0, 0)]
    points = []
    for (ax, ay), (bx, by) in itertools.pairwise(corners):
        n = max(1, round(max(abs(bx - ax), abs(by - ay)) / step_px))
        points += [(ax + (bx - ax) * k / n, ay + (by - ay) * k / n) for k in range(n)]
    for x, y in points:
        page.mouse.click(x0 + x, y0 + y)
    page.mouse.click(x0, y0)  # the first point: close the loop


def verdict(page) -> dict:
    page.wait_for_selector("#verdict[data-valid=true], #verdict[data-valid=false], #verdict.error")
    return page.eval_on_selector(
        "#verdict",
        "el => ({valid: el.dataset.valid, m: +el.dataset.distanceM, text: el.innerText})",
    )


@pytest.mark.browser
def test_draw_a_loop_see_it_count_and_download_it(browser, srv: Server, tmp_path: Path) -> None:
    ctx, page = open_planner(browser, srv, locale="nl-BE")
    set_view(page, *MORTSEL_VIEW)
    draw_rectangle(page, 560, 320, 70)
    result = verdict(page)
    assert result["valid"] == "true", result["text"]
    assert "Deze route telt voor 20 km" in result["text"]
    live_m = float(page.get_attribute("#live-km", "data-m"))
    assert live_m == pytest.approx(result["m"], rel=1e-3)  # page and server agree
    assert 19_600 < result["m"] < 25_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "planner.png"))
    page.screenshot(path=str(PROJECT / "docs" / "img" / "planner.png"))
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "drawn.gpx"
    download.value.save_as(saved)
    again = validate_gpx(saved.read_bytes(), saved.name, 20)
    assert again.valid and again.is_loop
    assert again.distance_m == pytest.approx(result["m"], rel=1e-4)
    ctx.close()


@pytest.mark.browser
def test_undo_and_dragging_a_point_change_the_distance(browser, srv: Server) -> None:
    ctx, page = open_planner(browser, srv, locale="en-GB")
    set_view(page, *MORTSEL_VIEW)
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx in (-120, -40, 40):
        page.mouse.click(cx + dx, cy)
    three = float(page.get_attribute("#live-km", "data-m"))
    assert three == pytest.approx(160 * 12, rel=0.1)  # 160 px at about 12 m per pixel
    page.mouse.move(cx + 40, cy)
    page.mouse.down()
    page.mouse.move(cx + 80, cy, steps=5)
    page.mouse.up()
    dragged = float(page.get_attribute("#live-km", "data-m"))
    assert dragged == pytest.approx(three + 40 * 12, rel=0.1)
    page.click("#undo")
    assert float(page.get_attribute("#live-km", "data-m")) == pytest.approx(three, rel=1e-6)
    page.click("#undo")
    assert float(page.get_attribute("#live-km", "data-m")) == pytest.approx(80 * 12, rel=0.1)
    ctx.close()


@pytest.mark.browser
def test_a_gap_is_refused_and_drawn_on_the_map(browser, srv: Server) -> None:
    ctx, page = open_planner(browser, srv, locale="fr-BE")
    set_view(page, *MORTSEL_VIEW)
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(cx - 150, cy)
    page.mouse.click(cx + 150, cy)  # 3.6 km in one straight line
    result = verdict(page)
    assert result["valid"] == "false"
    assert "ne compte pas encore" in result["text"] and "ligne droite" in result["text"]
    assert page.locator("path.issue-gap").count() == 1
    ctx.close()


@pytest.mark.browser
def test_upload_a_gpx_and_see_the_verdict(browser, srv: Server, tmp_path: Path) -> None:
    route = tmp_path / "loop.gpx"
    route.write_bytes(gpx_bytes([loop_route(17_000)]))
    ctx, page = open_planner(browser, srv, locale="en-US")
    page.set_input_files("#file", str(route))
    result = verdict(page)
    assert result["valid"] == "false"
    assert "does not count for 20 km yet" in result["text"]
    assert "17.00 km" in result["text"] and "Antwerpen" in result["text"]
    page.check("input[name=target][value='40']")
    page.wait_for_function("() => document.querySelector('#verdict').innerText.includes('40 km')")
    broken = tmp_path / "broken.gpx"
    broken.write_bytes(b"<gpx><trk><trkseg><trkpt lat='51' lon='4'>")
    page.set_input_files("#file", str(broken))
    page.wait_for_selector("#verdict.error")
    assert "broken.gpx cannot be read" in page.inner_text("#verdict")
    ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("locale", "lang", "undo"),
    [("nl-BE", "nl", "Ongedaan maken"), ("fr-FR", "fr", "Annuler"), ("en-US", "en", "Undo"),
     ("de-BE", "nl", "Ongedaan maken"), ("de-DE", "en", "Undo")],
)  # fmt: skip
def test_the_language_follows_the_browser(browser, srv: Server, locale, lang, undo) -> None:
    ctx, page = open_planner(browser, srv, locale=locale)
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.inner_text("#undo") == undo
    page.click("button[data-lang=fr]")
    assert page.inner_text("#undo") == "Annuler"
    ctx.close()


@pytest.mark.browser
def test_on_a_phone_without_tiles_the_page_still_works(browser, srv: Server) -> None:
    ctx, page = open_planner(
        browser, srv, locale="nl-BE", viewport={"width": 390, "height": 844}, is_mobile=True,
        has_touch=True,
    )  # fmt: skip
    page.wait_for_selector("#notice:not([hidden])")  # the tiles failed, and it says so
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    map_box, panel = page.locator("#map").bounding_box(), page.locator("#panel").bounding_box()
    assert map_box["height"] > 300 and panel["y"] >= map_box["y"] + map_box["height"] - 1
    set_view(page, *MORTSEL_VIEW)
    page.touchscreen.tap(map_box["x"] + 100, map_box["y"] + 150)
    page.touchscreen.tap(map_box["x"] + 200, map_box["y"] + 150)
    page.wait_for_function("() => +document.querySelector('#live-km').dataset.m > 800")
    assert verdict(page)["valid"] == "false"
    ctx.close()


# --- unreadable files of the corpus, in each language ------------------------------------------


def unreadable_corpus() -> list[tuple[str, str]]:
    """(file name, refusal code) of every corpus file the reader refuses."""
    if not CORPUS.is_dir():
        return []
    refused = []
    for path in sorted(CORPUS.glob("*.gpx")):
        try:
            read_route_gpx(path.read_bytes(), path.name)
        except GpxReadError as exc:
            refused.append((path.name, exc.code))
    return refused


UNREADABLE = unreadable_corpus()


def drawn_lines(page) -> int:
    """Lines with at least two points on the map (the empty drawing line does not count)."""
    return int(
        page.evaluate(
            "(() => { let n = 0; window.planner.map.eachLayer(l => { if (l instanceof L.Polyline"
            " && l.getLatLngs().flat(2).length >= 2) n++; }); return n; })()"
        )
    )


@pytest.mark.browser
@pytest.mark.skipif(not UNREADABLE, reason=f"the GPX corpus is not at {CORPUS}")
@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
@pytest.mark.parametrize(("name", "code"), UNREADABLE or [("none", "none")])
def test_an_unreadable_corpus_file_replaces_the_old_route_with_a_clear_message(
    browser, srv: Server, tmp_path: Path, name: str, code: str, lang: str
) -> None:
    good = tmp_path / "loop.gpx"
    good.write_bytes(gpx_bytes([loop_route(17_000)]))
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{srv.url}/plan?lang={lang}")
    page.wait_for_selector("body[data-ready=true]")
    page.set_input_files("#file", str(good))
    assert verdict(page)["valid"] == "false"
    assert drawn_lines(page) >= 1  # the first route is drawn

    page.set_input_files("#file", str(CORPUS / name))
    page.wait_for_selector("#verdict.error")
    shown = page.inner_text("#verdict")
    assert name in shown
    assert render(code, {}, lang) in shown  # the reason, in the page's language
    assert page.get_attribute("#verdict", "data-code") == code
    assert drawn_lines(page) == 0  # the old route is gone, and nothing of this file is drawn
    assert page.is_hidden("#live")  # no second distance
    assert page.locator("#verdict dl").count() == 0  # no old verdict left
    assert not errors, errors  # no JavaScript error (tiles fail here on purpose: not counted)
    ctx.close()


def test_a_warning_never_says_the_route_counts_under_a_refusal() -> None:
    for lang in ("nl", "fr", "en"):
        text = render(
            "well_above_target", {"distance_km": 45, "over_pct": 12, "target_km": 40}, lang
        )
        assert not re.search(r"\b(Ze telt|Il compte|It counts)\b", text), text
