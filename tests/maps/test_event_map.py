"""The event map: one colour per route, start and finish, check-in points a page script can
find, a legend with lengths, a layer control, and bounds around everything."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import folium
import pytest
from pyproj import Geod

from maps.elements import JS_NAMESPACE, escape_text
from maps.event_map import (
    PALETTE,
    add_route_layer,
    bounds_of,
    checkin_class,
    checkin_key,
    event_map,
    line_pieces,
    route_colour,
)
from maps.offline import InlineMap, ServedMap, page_html
from routes.bundled import event_path
from routes.event import load_event
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint, GpxWaypoint
from routes.prepared import PreparedRoute, prepare_route

GEOD = Geod(ellps="WGS84")


def walk(lon: float, lat: float, azimuth: float, n: int, step_m: float = 300.0) -> list:
    points = [(lon, lat)]
    for _ in range(n):
        lon, lat, _ = GEOD.fwd(lon, lat, azimuth, step_m)
        points.append((lon, lat))
    return points


def route_of(
    parts: list[list[tuple[float, float]]], checkins: list[tuple[int, int, str, str]] = ()
) -> PreparedRoute:
    """A route from point lists; `checkins` are (part, index, name, type) waypoints."""
    gpx_parts = tuple(
        GpxPart("track", "", tuple(GpxPoint(lon, lat) for lon, lat in pts)) for pts in parts
    )
    wpts = tuple(GpxWaypoint(*parts[p][i], name, kind, "") for p, i, name, kind in checkins)
    return prepare_route(GpxDocument("t", "t", "", "", gpx_parts, wpts), route_id="r")


@pytest.fixture(scope="module")
def two_routes() -> list[tuple[str, str, PreparedRoute]]:
    east = walk(4.44, 51.20, 90.0, 20)  # 6.0 km eastwards
    south = walk(4.44, 51.20, 180.0, 10)  # 3.0 km southwards
    return [
        (
            "6km",
            "Six",
            route_of(
                [east],
                [(0, 0, "Start", "start"), (0, 10, "Mortsel", "rest"), (0, 20, "Finish", "finish")],
            ),
        ),
        ("3km", "Three", route_of([south], [(0, 5, "Hove", "checkpoint")])),
    ]


@pytest.fixture(scope="module")
def page(two_routes: list) -> str:
    return page_html(event_map(two_routes, mode="served"))


def polylines(page: str) -> list[tuple[list, dict]]:
    """(locations, options) of every L.polyline in the page."""
    found = re.findall(r"L\.polyline\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", page, re.DOTALL)
    return [(json.loads(locs), json.loads(opts)) for locs, opts in found]


def circle_markers(page: str) -> list[tuple[list, dict]]:
    found = re.findall(r"L\.circleMarker\(\s*(\[.*?\]),\s*(\{.*?\})\s*\)", page, re.DOTALL)
    return [(json.loads(loc), json.loads(opts)) for loc, opts in found]


def tooltips(page: str) -> list[str]:
    return [t.strip() for t in re.findall(r"bindTooltip\(\s*`<div>(.*?)</div>`", page, re.DOTALL)]


def test_each_route_has_its_own_colour_blind_safe_colour(page: str) -> None:
    colours = [opts["color"] for _, opts in polylines(page)]
    assert colours == [PALETTE[0], PALETTE[1]]
    assert len(set(PALETTE)) == len(PALETTE)
    assert route_colour(len(PALETTE)) == PALETTE[0]


def test_route_lines_follow_the_route_in_lat_lon_order(page: str, two_routes: list) -> None:
    route = two_routes[0][2]
    locations, _ = polylines(page)[0]
    assert len(locations) == len(route.lons)
    assert locations[0] == pytest.approx([route.lats[0], route.lons[0]], abs=1e-6)
    assert locations[-1] == pytest.approx([route.lats[-1], route.lons[-1]], abs=1e-6)


def test_check_in_points_have_a_tooltip_with_name_and_distance(page: str) -> None:
    tips = tooltips(page)
    assert "Mortsel — 3.0 km" in tips
    assert "Hove — 1.5 km" in tips
    assert "Finish — 6.0 km" in tips
    assert "Start — 0.0 km" in tips


def test_check_in_markers_are_reachable_from_page_scripts(page: str) -> None:
    for route_id, cp_id in [("6km", "mortsel"), ("6km", "finish"), ("3km", "hove")]:
        assert json.dumps(checkin_key(route_id, cp_id)) in page
        assert checkin_class(route_id, cp_id) in page
    assert f'window["{JS_NAMESPACE}"]' in page
    assert '"routes"' in page and '"checkins"' in page
    classes = [opts.get("className", "") for _, opts in circle_markers(page)]
    assert sum("rw-checkin " in c for c in classes) == 4


def test_start_and_finish_are_marked_apart_from_check_ins(page: str) -> None:
    tips = tooltips(page)
    assert "Six: start" in tips
    assert "Six: finish (6.0 km)" in tips
    assert "Three: start" in tips


def test_a_loop_has_one_start_and_finish_ring() -> None:
    out = walk(4.44, 51.20, 90.0, 5)
    back = walk(*out[-1], 270.0, 5)
    tips = tooltips(page_html(event_map([("loop", "Loop", route_of([out + back[1:]]))])))
    assert "Loop: start and finish (3.0 km)" in tips
    assert not any(t.startswith("Loop: finish") for t in tips)


def test_legend_lists_every_route_with_its_length(page: str) -> None:
    legend = re.search(r"div\.innerHTML = (\".*?\");", page)
    assert legend is not None
    text = json.loads(legend.group(1))
    assert "Six — 6.0 km" in text
    assert "Three — 3.0 km" in text
    assert "Check-in point" in text
    assert "L.control({position:" in page


def test_layer_control_lists_the_routes(page: str) -> None:
    assert "L.control.layers(" in page
    assert '"Six (6.0 km)"' in page
    assert '"Three (3.0 km)"' in page


def test_map_fits_all_routes(page: str, two_routes: list) -> None:
    [[south, west], [north, east]] = bounds_of(two_routes)
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page, re.DOTALL)
    assert fit is not None
    assert json.loads(fit.group(1)) == [[south, west], [north, east]]
    for _, _, route in two_routes:
        assert south <= route.lats.min() and route.lats.max() <= north
        assert west <= route.lons.min() and route.lons.max() <= east


def test_gaps_between_gpx_parts_are_dashed_not_walked() -> None:
    first = walk(4.44, 51.20, 90.0, 5)
    second = walk(*GEOD.fwd(*first[-1], 90.0, 800.0)[:2], 90.0, 5)
    route = route_of([first, second])
    pieces, gaps = line_pieces(route)
    assert [len(p) for p in pieces] == [6, 6]
    assert len(gaps) == 1
    page = page_html(event_map([("r", "Gappy", route)]))
    dashed = [opts for _, opts in polylines(page) if opts.get("dashArray")]
    assert len(dashed) == 1
    assert "Gap in the GPX file" in page


def test_names_from_gpx_cannot_break_the_page() -> None:
    name = "Café `Den Buiten` ${alert(1)} <script>x</script>"
    route = route_of([walk(4.44, 51.20, 90.0, 4)], [(0, 2, name, "rest")])
    page = page_html(event_map([("r", "R", route)]))
    assert "<script>x</script>" not in page
    assert "${alert(1)}" not in page
    assert escape_text(name) in page


def test_add_route_layer_works_on_any_map() -> None:
    fmap = folium.Map(tiles=None)
    route = route_of([walk(4.44, 51.20, 90.0, 4)], [(0, 2, "Lier", "rest")])
    group = add_route_layer(fmap, "r", "R", route, "#123456")
    assert isinstance(group, folium.FeatureGroup)
    assert group in fmap._children.values()
    assert '"color": "#123456"' in page_html(fmap)


@pytest.mark.parametrize(("mode", "cls"), [("served", ServedMap), ("inline", InlineMap)])
def test_event_map_mode(two_routes: list, mode: str, cls: type) -> None:
    fmap = event_map(two_routes, mode=mode)  # type: ignore[arg-type]
    assert isinstance(fmap, cls)
    assert "cdn" not in page_html(fmap)


def test_event_map_leaves_folium_defaults_alone(two_routes: list) -> None:
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    event_map(two_routes, mode="inline").get_root().render()
    event_map(two_routes, mode="served").get_root().render()
    assert (folium.Map.default_js, folium.Map.default_css) == before


def test_bundled_event_map_shows_every_check_in_point() -> None:
    event = load_event(event_path("antwerp-2023"))
    routes = [(er.id, er.name, er.route) for er in event.routes.values()]
    page = page_html(event_map(routes, mode="served"))
    for er in event.routes.values():
        for cp in er.route.checkpoints:
            assert json.dumps(checkin_key(er.id, cp.id)) in page
            assert escape_text(cp.name) in page


@pytest.mark.browser
def test_standalone_map_draws_routes_with_no_network(
    browser: Any, two_routes: list, tmp_path: Path
) -> None:
    """In chromium with every request refused: no script error, routes and legend drawn."""
    path = tmp_path / "map.html"
    path.write_text(page_html(event_map(two_routes, mode="inline")), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("http*://**", lambda request: request.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(".rw-legend")
    assert errors == []
    assert page.locator("path.leaflet-interactive").count() >= 2 + 4
    assert page.locator("path.rw-checkin").count() == 4
    keys = page.evaluate(f"Object.keys(window.{JS_NAMESPACE}.checkins).sort()")
    assert keys == sorted(["6km/start", "6km/mortsel", "6km/finish", "3km/hove"])
    assert "Six — 6.0 km" in page.inner_text(".rw-legend")
    page.close()
