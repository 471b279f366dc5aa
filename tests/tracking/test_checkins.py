"""Check-ins detected from the stream of fixes, and the walker's own check-in button.

Routes are drawn in metres on a local plane around Antwerp (x east, y north).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from routes.geodesy import LocalProjection
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint, GpxWaypoint
from routes.prepared import PreparedRoute, prepare_route
from tracking.checkins import CheckIn, Passage, TooFar, detect_passages, manual_checkin
from tracking.fixes import Fix
from tracking.progress import StepParams, step_round
from tracking.simulation import Noise
from tracking.storage.base import WalkerRecord
from tracking.validation import Limits
from tracking.walker_state import WalkerState

PLANE = LocalProjection.around(4.40, 51.20)
T0 = datetime(2023, 10, 8, 8, 0, tzinfo=UTC)
RADIUS_M = 75.0
CAP_M = 50.0
PARAMS = StepParams(
    radius_m=RADIUS_M,
    max_speed_mps=15 / 3.6,
    off_route_m=100.0,
    back_on_route_m=60.0,
    off_route_after_s=180.0,
    limits=Limits(
        now=T0 + timedelta(days=2),
        not_before=T0 - timedelta(hours=8),
        future_tolerance_s=300,
        max_accuracy_m=100,
        max_speed_kmh=15,
    ),
)


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = PLANE.to_lonlat(np.array([float(x)]), np.array([float(y)]))
    return float(lon[0]), float(lat[0])


def make_route(xy, waypoints=()) -> PreparedRoute:
    points = tuple(GpxPoint(*lonlat(x, y)) for x, y in xy)
    wpts = tuple(GpxWaypoint(*lonlat(x, y), name, kind, "") for name, kind, x, y in waypoints)
    doc = GpxDocument("test", "test route", "", "test", (GpxPart("track", "", points),), wpts)
    return prepare_route(doc, route_id="test")


def fix_at(x: float, y: float, seconds: float, accuracy_m: float = 8.0) -> Fix:
    lon, lat = lonlat(x, y)
    return Fix(T0 + timedelta(seconds=seconds), lat, lon, "test", accuracy_m=accuracy_m)


def passage(route: PreparedRoute, x: float, y: float, seconds: float, along: float) -> Passage:
    rx, ry = route.to_xy(*lonlat(x, y))
    return Passage(rx, ry, T0 + timedelta(seconds=seconds), along)


def walk(route: PreparedRoute, fixes: list[Fix]) -> list[CheckIn]:
    state, found = WalkerState(WalkerRecord("w", "t", "Walker", "test"), route), []
    for fix in fixes:
        (step,) = step_round([(state, fix)], PARAMS)
        found += step.checkins
    return found


@pytest.fixture(scope="module")
def line() -> PreparedRoute:
    """2 km east, with check-in points at 0, 700 (30 m beside the line), 1,400 and 2,000 m."""
    return make_route(
        [(0, 0), (2000, 0)],
        [
            ("Start", "start", 0, 0),
            ("Chapel", "checkpoint", 700, 30),
            ("Rest stop Mill", "rest", 1400, 0),
            ("Finish", "finish", 2000, 0),
        ],
    )


@pytest.fixture(scope="module")
def loop() -> PreparedRoute:
    """A 4 km square; start and finish at the same corner, a check-in point opposite."""
    return make_route(
        [(0, 0), (1000, 0), (1000, 1000), (0, 1000), (0, 0)],
        [
            ("Start", "start", 0, 0),
            ("Far corner", "checkpoint", 1000, 1000),
            ("Finish", "finish", 0, 0),
        ],
    )


def test_checkpoints_are_placed_along_the_route(line, loop):
    assert [c.id for c in line.checkpoints] == ["start", "chapel", "rest-stop-mill", "finish"]
    assert [round(c.distance_along_m) for c in line.checkpoints] == [0, 700, 1400, 2000]
    assert [round(c.distance_along_m) for c in loop.checkpoints] == [0, 2000, 4000]


def test_a_segment_that_passes_within_the_radius_checks_in_with_no_fix_inside(line):
    # Fixes 110 m before and after the point, 60 m to its side: neither is within 75 m.
    a = passage(line, 1290, 60, 0, 1290)
    b = passage(line, 1510, 60, 170, 1510)
    (found,) = detect_passages(line, a, b, RADIUS_M, frozenset())
    assert found.checkpoint_id == "rest-stop-mill" and found.source == "auto"
    assert found.at == T0 + timedelta(seconds=85)  # halfway along the segment
    assert not found.out_of_order


def test_a_segment_that_stays_outside_the_radius_does_not(line):
    a = passage(line, 1290, 90, 0, 1290)
    b = passage(line, 1510, 90, 170, 1510)
    assert detect_passages(line, a, b, RADIUS_M, frozenset()) == ()


def test_the_first_fix_alone_checks_in_when_inside(line):
    (found,) = detect_passages(line, None, passage(line, 20, 30, 0, 20), RADIUS_M, frozenset())
    assert found.checkpoint_id == "start" and found.at == T0


def test_a_point_already_checked_in_is_not_found_again(line):
    a = passage(line, 1290, 10, 0, 1290)
    b = passage(line, 1510, 10, 170, 1510)
    assert detect_passages(line, a, b, RADIUS_M, frozenset({"rest-stop-mill"})) == ()


def test_out_of_order_is_flagged(line):
    a = passage(line, 650, 20, 0, 650)
    b = passage(line, 750, 20, 80, 750)
    (late,) = detect_passages(line, a, b, RADIUS_M, frozenset({"start", "rest-stop-mill"}))
    assert late.checkpoint_id == "chapel" and late.out_of_order
    (in_order,) = detect_passages(line, a, b, RADIUS_M, frozenset({"start"}))
    assert not in_order.out_of_order


def test_start_and_finish_are_told_apart_by_progress(loop):
    near = passage(loop, 10, 10, 0, 10)
    (start,) = detect_passages(loop, None, near, RADIUS_M, frozenset())
    assert start.checkpoint_id == "start"
    end_a = passage(loop, 0, 150, 0, 3850)
    end_b = passage(loop, 5, 5, 110, 3995)
    (finish,) = detect_passages(loop, end_a, end_b, RADIUS_M, frozenset({"start"}))
    assert finish.checkpoint_id == "finish"


def test_a_whole_walk_checks_in_at_every_point_once_in_order(loop):
    noise = Noise(sigma_m=10.0, tau_s=60.0, rng=np.random.default_rng(3))
    fixes = []
    for k in range(0, 310):
        along = min(k * 13.0, loop.length_m)
        x, y = loop.to_xy(*loop.point_at(along))
        dx, dy = noise.step(10.0)
        lon, lat = loop.projection.to_lonlat(np.array([x + dx]), np.array([y + dy]))
        fixes.append(
            Fix(
                T0 + timedelta(seconds=k * 10),
                float(lat[0]),
                float(lon[0]),
                "test",
                accuracy_m=10.0,
            )
        )
    found = walk(loop, fixes)
    assert [c.checkpoint_id for c in found] == ["start", "far-corner", "finish"]
    assert not any(c.out_of_order for c in found)
    # Checked in on reaching the radius: about 75 m / 1.3 m/s before the true passage.
    true_times = [T0, T0 + timedelta(seconds=2000 / 1.3), T0 + timedelta(seconds=4000 / 1.3)]
    for c, truth in zip(found[1:], true_times[1:], strict=True):
        assert -100 <= (c.at - truth).total_seconds() <= 10


def test_waiting_at_a_rest_stop_checks_in_once(line):
    noise = Noise(sigma_m=10.0, tau_s=60.0, rng=np.random.default_rng(5))
    fixes = [fix_at(k * 13.0, 0, k * 10) for k in range(0, 108)]  # to 1,400 m
    t = 1080
    for _ in range(90):  # a quarter of an hour at the rest stop, GPS wandering
        dx, dy = noise.step(10.0)
        fixes.append(fix_at(1400 + dx, dy, t))
        t += 10
    fixes += [fix_at(1400 + k * 13.0, 0, t + k * 10) for k in range(1, 47)]
    found = walk(line, fixes)
    assert [c.checkpoint_id for c in found] == ["start", "chapel", "rest-stop-mill", "finish"]


def test_standing_at_the_start_never_checks_in_at_the_finish(loop):
    noise = Noise(sigma_m=15.0, tau_s=60.0, rng=np.random.default_rng(6))
    fixes = [fix_at(*noise.step(10.0), k * 10) for k in range(180)]  # half an hour
    assert [c.checkpoint_id for c in walk(loop, fixes)] == ["start"]


def test_a_walker_who_stops_halfway_is_not_checked_in_further(line):
    fixes = [fix_at(k * 13.0, 5, k * 10) for k in range(0, 80)]  # to 1,027 m
    assert [c.checkpoint_id for c in walk(line, fixes)] == ["start", "chapel"]


def test_a_flagged_fix_never_checks_in(line):
    fixes = [fix_at(1300, 0, 0), fix_at(1400, 0, 60, accuracy_m=300)]
    assert walk(line, fixes) == []


# --- the check-in button --------------------------------------------------------------------


def press(
    route: PreparedRoute,
    x: float,
    y: float,
    accuracy_m: float = 10.0,
    progress_m: float = 0.0,
    done: frozenset[str] = frozenset(),
) -> CheckIn | TooFar:
    lon, lat = lonlat(x, y)
    return manual_checkin(route, lon, lat, accuracy_m, T0, RADIUS_M, CAP_M, progress_m, done)


def test_manual_check_in_within_the_radius(line):
    result = press(line, 1400, 60)
    assert isinstance(result, CheckIn)
    assert (result.checkpoint_id, result.source, result.at) == ("rest-stop-mill", "manual", T0)


def test_manual_check_in_allows_the_phone_accuracy_up_to_a_cap(line):
    assert isinstance(press(line, 1400, 110, accuracy_m=40), CheckIn)  # 75 + 40 m
    assert isinstance(press(line, 1400, 120, accuracy_m=500), CheckIn)  # 75 + 50 m at most
    assert isinstance(press(line, 1400, 130, accuracy_m=500), TooFar)


def test_manual_check_in_too_far_names_the_nearest_point_still_to_do(line):
    result = press(line, 1000, 0, done=frozenset({"start", "chapel"}))
    assert isinstance(result, TooFar)
    assert result.checkpoint.id == "rest-stop-mill"
    assert result.distance_m == pytest.approx(400, abs=1)


def test_manual_check_in_at_the_shared_start_and_finish_follows_progress(loop):
    start = press(loop, 5, 5, progress_m=0)
    finish = press(loop, 5, 5, progress_m=3950, done=frozenset({"start", "far-corner"}))
    assert isinstance(start, CheckIn) and start.checkpoint_id == "start"
    assert isinstance(finish, CheckIn) and finish.checkpoint_id == "finish"
    assert not finish.out_of_order


def test_manual_check_in_out_of_order_is_flagged(line):
    result = press(line, 700, 30, progress_m=1500, done=frozenset({"start", "rest-stop-mill"}))
    assert isinstance(result, CheckIn) and result.checkpoint_id == "chapel"
    assert result.out_of_order


def test_a_refusal_at_1_4_km_on_the_20_km_route_names_fort_4_three_km_ahead():
    from routes.bundled import event_path
    from routes.event import load_event

    route = load_event(event_path("antwerp-2023")).routes["20km"].route
    lon, lat = route.point_at(1400)
    result = manual_checkin(route, lon, lat, 10, T0, 75, 50, 1400, frozenset({"start"}))
    assert isinstance(result, TooFar)
    assert result.checkpoint.name.startswith("Fort 4")
    assert result.distance_m == pytest.approx(result.checkpoint.distance_along_m - 1400, abs=5)
    assert 2_800 < result.distance_m < 3_200  # "3.0 km", by the route
