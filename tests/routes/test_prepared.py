"""Properties of a prepared route on generated walks: `locate` and `point_at` undo each other,
reversing keeps the length, a repeated point changes nothing, and the local projection measures
as well in Namur or Nijmegen as in Antwerp. Lengths are checked against pyproj.Geod directly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from routes.gpx_model import GpxDocument, GpxPart, GpxPoint, GpxWaypoint
from routes.measure import measure
from routes.prepared import PreparedRoute, prepare_route

GEOD = Geod(ellps="WGS84")
ROUND_TRIP_M = 0.5

Points = list[tuple[float, float]]

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def doc_of(points: Points, waypoints: tuple[GpxWaypoint, ...] = ()) -> GpxDocument:
    part = GpxPart("track", "", tuple(GpxPoint(lon, lat) for lon, lat in points))
    return GpxDocument("test", "walk", "", "", (part,), waypoints)


def prepared(points: Points) -> PreparedRoute:
    return prepare_route(doc_of(points), route_id="r")


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def line_length_m(points: Points) -> float:
    lons, lats = zip(*points, strict=True)
    return float(GEOD.line_length(lons, lats))


def walk(lon: float, lat: float, steps: list[tuple[float, float]]) -> Points:
    """Points reached by walking (distance_m, azimuth_deg) steps on the ellipsoid."""
    points = [(lon, lat)]
    for distance_m, azimuth in steps:
        lon, lat, _ = GEOD.fwd(lon, lat, azimuth, distance_m)
        points.append((lon, lat))
    return points


@st.composite
def walks(draw: st.DrawFn, eastward: bool = False) -> Points:
    """2-200 points in Belgium and around, 5-500 m apart.

    `eastward` walks keep within 60 degrees of east, so x grows at every step: the route never
    comes back near itself, and a place on it has only one distance along.
    """
    lon = draw(st.floats(2.6, 6.3))
    lat = draw(st.floats(49.6, 53.3))
    n = draw(st.integers(2, 200))
    azimuths = st.floats(30.0, 150.0) if eastward else st.floats(0.0, 360.0)
    steps = draw(
        st.lists(st.tuples(st.floats(5.0, 500.0), azimuths), min_size=n - 1, max_size=n - 1)
    )
    return walk(lon, lat, steps)


fractions = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10)


@PROPERTY_SETTINGS
@given(walks(), fractions)
def test_point_at_locate_round_trips_for_places_on_the_route(
    points: Points, where: list[float]
) -> None:
    route = prepared(points)
    for f in where:
        lon, lat = route.point_at(f * route.length_m)
        match = route.locate(lon, lat)
        assert match.offset_m < ROUND_TRIP_M
        assert geodesic_m(lon, lat, *route.point_at(match.distance_along_m)) < ROUND_TRIP_M


@PROPERTY_SETTINGS
@given(walks())
def test_each_gpx_point_is_found_on_the_route(points: Points) -> None:
    route = prepared(points)
    for lon, lat in points[:: max(1, len(points) // 20)]:
        match = route.locate(lon, lat)
        assert match.offset_m < ROUND_TRIP_M
        assert geodesic_m(lon, lat, *route.point_at(match.distance_along_m)) < ROUND_TRIP_M


@PROPERTY_SETTINGS
@given(walks(eastward=True), fractions)
def test_locate_point_at_gives_back_the_distance_on_routes_that_never_come_back(
    points: Points, where: list[float]
) -> None:
    route = prepared(points)
    for f in where:
        d = f * route.length_m
        assert route.locate(*route.point_at(d)).distance_along_m == pytest.approx(
            d, abs=ROUND_TRIP_M
        )


@PROPERTY_SETTINGS
@given(walks())
def test_length_is_the_geodesic_length(points: Points) -> None:
    route = prepared(points)
    expected = line_length_m(points)
    assert route.length_m == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert measure(doc_of(points)).distance_m == pytest.approx(expected, rel=1e-9, abs=1e-6)


@PROPERTY_SETTINGS
@given(walks())
def test_reversing_a_route_keeps_its_length(points: Points) -> None:
    forward, backward = prepared(points), prepared(points[::-1])
    assert backward.length_m == pytest.approx(forward.length_m, rel=1e-6)
    assert measure(doc_of(points[::-1])).distance_m == pytest.approx(
        measure(doc_of(points)).distance_m, rel=1e-6
    )


@PROPERTY_SETTINGS
@given(walks(eastward=True), st.data())
def test_a_place_reversed_is_the_same_distance_from_the_other_end(
    points: Points, data: st.DataObject
) -> None:
    forward, backward = prepared(points), prepared(points[::-1])
    d = data.draw(st.floats(0.0, 1.0)) * forward.length_m
    lon, lat = forward.point_at(d)
    assert backward.locate(lon, lat).distance_along_m == pytest.approx(
        backward.length_m - d, abs=ROUND_TRIP_M
    )


@PROPERTY_SETTINGS
@given(walks(), st.data())
def test_a_repeated_point_changes_nothing(points: Points, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(points) - 1))
    doubled = [*points[: k + 1], points[k], *points[k + 1 :]]
    plain, with_repeat = prepared(points), prepared(doubled)
    assert with_repeat.length_m == plain.length_m
    assert measure(doc_of(doubled)).distance_m == pytest.approx(
        measure(doc_of(points)).distance_m, rel=1e-12, abs=1e-9
    )
    probe = data.draw(st.lists(st.tuples(st.floats(-300, 300), st.floats(-300, 300)), max_size=5))
    lon0, lat0 = points[0]
    for dx, dy in probe:
        lon, lat, _ = GEOD.fwd(lon0, lat0, float(np.degrees(np.arctan2(dx, dy))), np.hypot(dx, dy))
        assert with_repeat.locate(lon, lat) == plain.locate(lon, lat)


@PROPERTY_SETTINGS
@given(walks(), st.lists(st.tuples(st.floats(0, 1), st.floats(0, 360), st.floats(0, 300))))
def test_locate_many_agrees_with_locate(
    points: Points, probes: list[tuple[float, float, float]]
) -> None:
    route = prepared(points)
    places = [
        GEOD.fwd(*route.point_at(f * route.length_m), azimuth, offset)[:2]
        for f, azimuth, offset in probes
    ]
    assume(places)
    lons, lats = np.array([p[0] for p in places]), np.array([p[1] for p in places])
    batch = route.locate_many(lons, lats)
    for (lon, lat), (_, offset_m) in zip(places, batch, strict=True):
        assert route.locate(lon, lat).offset_m == pytest.approx(offset_m, abs=1e-6)


@PROPERTY_SETTINGS
@given(walks(), st.floats(0, 1), st.floats(0, 1))
def test_locate_stays_inside_its_window(points: Points, a: float, b: float) -> None:
    route = prepared(points)
    lo, hi = sorted((a * route.length_m, b * route.length_m))
    lon, lat = route.point_at(route.length_m / 2)
    along = route.locate(lon, lat, lo_m=lo, hi_m=hi).distance_along_m
    assert lo - 1e-6 <= along <= hi + 1e-6


# --- examples ---------------------------------------------------------------------------------


def test_point_at_clamps_beyond_the_ends() -> None:
    points = walk(4.44, 51.20, [(400.0, 120.0)] * 10)
    route = prepared(points)
    assert geodesic_m(*route.point_at(-50.0), *points[0]) < 1e-3
    assert geodesic_m(*route.point_at(route.length_m + 50.0), *points[-1]) < 1e-3


def test_a_loop_prefers_first_or_last_pass_at_its_start() -> None:
    out = walk(4.44, 51.20, [(450.0, 90.0)] * 6 + [(450.0, 180.0)] * 4)
    back = walk(*out[-1], [(450.0, 270.0)] * 6 + [(450.0, 0.0)] * 4)
    route = prepared(out + back[1:])
    assert route.is_loop
    start = out[0]
    assert route.locate(*start, prefer="first").distance_along_m == pytest.approx(0.0, abs=0.5)
    assert route.locate(*start, prefer="last").distance_along_m == pytest.approx(
        route.length_m, abs=0.5
    )


def test_a_waypoint_typed_checkpoint_is_placed_along_the_route() -> None:
    points = walk(4.44, 51.20, [(250.0, 100.0)] * 20)
    mid_lon, mid_lat = points[10]
    wpts = (
        GpxWaypoint(mid_lon, mid_lat, "Rest stop Mortsel", "rest", ""),
        GpxWaypoint(mid_lon, mid_lat + 0.01, "Café (not a check-in)", "poi", ""),
    )
    route = prepare_route(doc_of(points, wpts), route_id="r")
    assert [cp.id for cp in route.checkpoints] == ["rest-stop-mortsel"]
    assert route.checkpoints[0].distance_along_m == pytest.approx(2_500.0, rel=1e-3)


@pytest.mark.parametrize(
    ("place", "lon", "lat"),
    [("Namur", 4.87, 50.46), ("Nijmegen", 5.86, 51.84), ("Antwerp", 4.44, 51.20)],
)
def test_routes_elsewhere_are_measured_as_exactly(place: str, lon: float, lat: float) -> None:
    """A 30 km eastward zigzag: lengths along it and offsets beside it, against pyproj.Geod."""
    rng = np.random.default_rng(7)
    lengths, azimuths = rng.uniform(200, 400, 100), rng.uniform(30, 150, 100)
    points = walk(lon, lat, [(float(s), float(a)) for s, a in zip(lengths, azimuths, strict=True)])
    route = prepared(points)
    geod_m = line_length_m(points)
    assert route.length_m == pytest.approx(geod_m, rel=1e-4), place
    planar_m = float(np.hypot(np.diff(route.xs), np.diff(route.ys)).sum())
    assert planar_m == pytest.approx(geod_m, rel=1e-4), place
    for i in (5, 50, 95):  # the middle of a segment, 20 m to its right
        (lon1, lat1), (lon2, lat2) = points[i], points[i + 1]
        heading, _, seg_m = GEOD.inv(lon1, lat1, lon2, lat2)
        mid_lon, mid_lat, _ = GEOD.fwd(lon1, lat1, heading, seg_m / 2)
        off_lon, off_lat, _ = GEOD.fwd(mid_lon, mid_lat, heading + 90.0, 20.0)
        match = route.locate(off_lon, off_lat)
        assert match.offset_m == pytest.approx(20.0, abs=0.02), place
        assert match.distance_along_m == pytest.approx(
            line_length_m(points[: i + 1]) + seg_m / 2, abs=0.5
        ), place
