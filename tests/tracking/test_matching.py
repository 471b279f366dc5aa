"""Windowed route matching: the walker's last anchor decides where on the route a fix can be.

Routes are built in metres on a local plane (x east, y north) around Antwerp, so each test
reads as a drawing: a loop whose start and finish share a corner, an out-and-back stem.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routes.geodesy import LocalProjection
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint, GpxWaypoint
from routes.prepared import PreparedRoute, prepare_route
from tracking.matching import FIRST, Anchor, match_fix, match_windows, off_route_m

PLANE = LocalProjection.around(4.40, 51.20)
T0 = datetime(2023, 10, 8, 8, 0, tzinfo=UTC)
MAX_SPEED_MPS = 15 / 3.6

SQUARE = [(0, 0), (1000, 0), (1000, 1000), (0, 1000), (0, 0)]  # 4 km, start = finish
# Out along a 1 km stem, round a 2.4 km loop, back along the same stem: 4.4 km.
LOLLIPOP = [(0, 0), (1000, 0), (1000, 600), (1600, 600), (1600, 0), (1000, 0), (0, 0)]


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = PLANE.to_lonlat(np.array([float(x)]), np.array([float(y)]))
    return float(lon[0]), float(lat[0])


def make_route(xy: list[tuple[float, float]], waypoints=()) -> PreparedRoute:
    """A route through `xy` (metres), with (name, type, x, y) waypoints."""
    points = tuple(GpxPoint(*lonlat(x, y)) for x, y in xy)
    wpts = tuple(GpxWaypoint(*lonlat(x, y), name, kind, "") for name, kind, x, y in waypoints)
    doc = GpxDocument("test", "test route", "", "test", (GpxPart("track", "", points),), wpts)
    return prepare_route(doc, route_id="test")


def match_at(
    route: PreparedRoute,
    x: float,
    y: float,
    seconds: float,
    anchor: Anchor | None,
    accuracy_m: float | None = 10.0,
):
    rx, ry = route.to_xy(*lonlat(x, y))
    return match_fix(
        route, rx, ry, T0 + timedelta(seconds=seconds), accuracy_m, anchor, MAX_SPEED_MPS
    )


@pytest.fixture(scope="module")
def square() -> PreparedRoute:
    return make_route(SQUARE)


@pytest.fixture(scope="module")
def lollipop() -> PreparedRoute:
    return make_route(LOLLIPOP)


def test_a_first_fix_at_the_shared_start_and_finish_is_the_start(square):
    assert square.length_m == pytest.approx(4000, abs=1)
    match = match_at(square, 4, -3, 0, anchor=None)
    assert match.distance_along_m < 10 and match.offset_m < 5


def test_near_the_end_the_anchor_keeps_the_walker_at_the_finish(square):
    anchor = Anchor(3900, T0.timestamp())
    match = match_at(square, 3, 6, 80, anchor)
    assert match.distance_along_m > 3990


def test_out_and_back_stem_going_out(lollipop):
    match = match_at(lollipop, 500, 4, 80, Anchor(400, T0.timestamp()))
    assert match.distance_along_m == pytest.approx(500, abs=5)


def test_out_and_back_stem_coming_back(lollipop):
    # 3,900 m along is x = 500 on the way back; the same place as 500 m along on the way out.
    match = match_at(lollipop, 500, 4, 80, Anchor(3800, T0.timestamp()))
    assert match.distance_along_m == pytest.approx(3900, abs=5)


def test_the_window_ignores_a_nearer_place_behind_the_walker(lollipop):
    # At (1000, 0) the stem meets the loop twice (1,000 m and 3,400 m along): after going
    # round the loop the walker is at the second passage, not back at the first.
    match = match_at(lollipop, 1005, 20, 60, Anchor(3350, T0.timestamp()))
    assert match.distance_along_m == pytest.approx(3400, abs=25)


def test_the_window_reaches_as_far_as_a_fast_walker_can_go(square):
    # 100 s after an anchor at 500 m nobody can be at 1,500 m: the match stays in the window.
    far = match_at(square, 1000, 500, 100, Anchor(500, T0.timestamp()))
    assert far.distance_along_m <= 500 + MAX_SPEED_MPS * 100 + 80 + 10 + 1e-6
    assert far.offset_m > 100
    # After 10 minutes the same fix is reachable and matches where it lies.
    later = match_at(square, 1000, 500, 600, Anchor(500, T0.timestamp()))
    assert later.distance_along_m == pytest.approx(1500, abs=1) and later.offset_m < 1


def test_slack_behind_allows_noise_against_the_direction_of_walking(square):
    match = match_at(square, 470, 3, 10, Anchor(500, T0.timestamp()))
    assert match.distance_along_m == pytest.approx(470, abs=1)


def test_off_route_distance_looks_at_the_whole_route(lollipop):
    # Beside the far end of the loop, far from the walker's window near the start.
    x, y = lollipop.to_xy(*lonlat(1700, 300))
    assert off_route_m(lollipop, x, y) == pytest.approx(100, abs=1)


def test_a_whole_walk_with_noise_stays_on_the_right_pass(lollipop):
    rng = np.random.default_rng(4)
    anchor = None
    errors = []
    for step in range(0, 340):  # 1.3 m/s, a fix every 10 s
        truth = min(step * 13.0, lollipop.length_m)
        rx, ry = lollipop.to_xy(*lollipop.point_at(truth))
        rx, ry = rx + rng.normal(0, 8), ry + rng.normal(0, 8)
        at = T0 + timedelta(seconds=step * 10)
        match = match_fix(lollipop, rx, ry, at, 10.0, anchor, MAX_SPEED_MPS)
        along = max(anchor.distance_along_m if anchor else 0.0, match.distance_along_m)
        anchor = Anchor(along, at.timestamp())
        errors.append(abs(along - truth))
    assert np.median(errors) < 15 and max(errors) < 60


# --- the batched kernel against the plain per-fix search ------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-300, 1900),  # x
            st.floats(-300, 900),  # y
            st.floats(0, 4390),  # window start (the route is 4.4 km)
            st.floats(0, 3000),  # window length
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_batched_kernel_finds_what_a_search_per_fix_finds(cases):
    route = LOLLIPOP_ROUTE
    x = np.array([c[0] for c in cases])
    y = np.array([c[1] for c in cases])
    lo = np.array([c[2] for c in cases])
    hi = lo + np.array([c[3] for c in cases])
    got = match_windows(route, x, y, lo, hi, np.full(len(cases), FIRST))
    for i in range(len(cases)):
        want = route.locate_xy(float(x[i]), float(y[i]), float(lo[i]), float(hi[i]), "first")
        assert got.offset_m[i] == pytest.approx(want.offset_m, abs=1e-6)
        assert got.distance_along_m[i] == pytest.approx(want.distance_along_m, abs=1e-6)


LOLLIPOP_ROUTE = make_route(LOLLIPOP)
