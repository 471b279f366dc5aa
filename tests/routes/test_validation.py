"""Personal-route validation on generated routes and walks whose true length is known.

Recorded walks are simulated as a walker on a street-like path logging one fix a second, with
the correlated error of a phone's GPS (a Gauss-Markov process: sigma of metres, correlation
time of minutes) plus a little white jitter, and pauses where the error keeps wandering.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routes.errors import GpxReadError
from routes.geodesy import LocalProjection
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint
from routes.gpx_reader import read_route_gpx
from routes.recorded import JumpLimits
from routes.region import nearest_places, province_name
from routes.smoothing import smooth_in_time
from routes.speeds import windowed_speeds_kmh
from routes.validation import (
    ValidationRules,
    report_to_dict,
    rules_from,
    validate_gpx,
    validate_route,
)

GEOD = pyproj.Geod(ellps="WGS84")
MORTSEL = (4.455, 51.170)
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
Lonlat = tuple[float, float]


# --- generators -------------------------------------------------------------------------


def loop_route(length_m: float, center: Lonlat = MORTSEL, steps: int = 120) -> list[Lonlat]:
    """A near-regular polygon of `steps` equal geodesic steps adding up to exactly `length_m`."""
    radius = length_m / (2 * math.pi)
    lon, lat, _ = GEOD.fwd(center[0], center[1], 180.0, radius)
    points = [(lon, lat)]
    for i in range(steps):
        lon, lat, _ = GEOD.fwd(lon, lat, 90.0 - 360.0 * (i + 0.5) / steps, length_m / steps)
        points.append((lon, lat))
    return points


def gpx_bytes(
    parts: Sequence[Sequence[Lonlat]],
    times: Sequence[Sequence[datetime]] | None = None,
    kind: str = "trk",
) -> bytes:
    """GPX 1.1 with one track segment (or one route) per part, timed when `times` is given."""
    tag = "trkpt" if kind == "trk" else "rtept"
    bodies = []
    for k, part in enumerate(parts):
        pts = "".join(
            f'<{tag} lat="{lat:.8f}" lon="{lon:.8f}">'
            + (f"<time>{times[k][i].strftime('%Y-%m-%dT%H:%M:%SZ')}</time>" if times else "")
            + f"</{tag}>"
            for i, (lon, lat) in enumerate(part)
        )
        bodies.append(f"<trkseg>{pts}</trkseg>" if kind == "trk" else f"<rte>{pts}</rte>")
    body = f"<trk>{''.join(bodies)}</trk>" if kind == "trk" else "".join(bodies)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>'
    ).encode()


def street_path(length_m: float, rng: np.random.Generator) -> np.ndarray:
    """Straight blocks of 80-400 m with right-angle turns or slight bends, in metres."""
    pts, heading, total = [(0.0, 0.0)], rng.uniform(0, 2 * math.pi), 0.0
    while total < length_m - 1e-6:
        block = min(rng.uniform(80, 400), length_m - total)
        x, y = pts[-1]
        pts.append((x + block * math.cos(heading), y + block * math.sin(heading)))
        total += block
        turn = rng.choice([-math.pi / 2, math.pi / 2]) if rng.random() < 0.5 else 0.0
        heading += turn + rng.uniform(-0.4, 0.4)
    return np.array(pts)


def walk(path: np.ndarray, speed_mps: float, rng: np.random.Generator, pauses: int = 3):
    """Positions one second apart along `path`, standing still 2-10 minutes `pauses` times."""
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    stops = sorted(rng.uniform(0.1, 0.9, pauses) * cum[-1])
    along = [0.0]
    while along[-1] < cum[-1]:
        nxt = min(along[-1] + speed_mps * rng.uniform(0.9, 1.1), cum[-1])
        if stops and along[-1] < stops[0] <= nxt:
            along.extend([along[-1]] * int(rng.uniform(120, 600)))
            stops.pop(0)
        along.append(nxt)
    s = np.array(along)
    return np.interp(s, cum, path[:, 0]), np.interp(s, cum, path[:, 1])


def gps_error(n: int, rng: np.random.Generator, sigma_m=7.0, tau_s=300.0, white_m=0.3):
    """Correlated (Gauss-Markov) error of `sigma_m` with correlation time `tau_s`, plus jitter."""
    rho = math.exp(-1.0 / tau_s)
    shocks = rng.normal(0.0, sigma_m * math.sqrt(1 - rho**2), n)
    err = np.empty(n)
    err[0] = rng.normal(0.0, sigma_m)
    for i in range(1, n):
        err[i] = rho * err[i - 1] + shocks[i]
    return err + rng.normal(0.0, white_m, n)


def recorded(xs: np.ndarray, ys: np.ndarray, rng: np.random.Generator, noise: bool = True):
    """(lon, lat) fixes and their times from metric positions around Mortsel, with GPS error."""
    if noise:
        xs, ys = xs + gps_error(len(xs), rng), ys + gps_error(len(ys), rng)
    lons, lats = LocalProjection.around(*MORTSEL).to_lonlat(xs, ys)
    points = list(zip(lons.tolist(), lats.tolist(), strict=True))
    return points, [T0 + timedelta(seconds=i) for i in range(len(points))]


def recorded_walk(length_m: float, seed: int, speed_kmh: float = 5.0, **kw) -> bytes:
    rng = np.random.default_rng(seed)
    xs, ys = walk(street_path(length_m, rng), speed_kmh / 3.6, rng, kw.pop("pauses", 3))
    points, times = recorded(xs, ys, rng, **kw)
    return gpx_bytes([points], [times])


def doc_of(points: Sequence[Lonlat], source: str = "test") -> GpxDocument:
    part = GpxPart("route", "", tuple(GpxPoint(lon, lat) for lon, lat in points))
    return GpxDocument(source, "", "", "", (part,), ())


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# --- planned routes ---------------------------------------------------------------------


def test_a_planned_20_6_km_loop_counts_for_20_km() -> None:
    report = validate_gpx(gpx_bytes([loop_route(20_600)]), "loop.gpx", 20)
    assert report.valid, report.problems
    assert report.kind == "planned"
    assert report.distance_m == pytest.approx(20_600, rel=1e-6)
    assert report.is_loop and report.start_finish_m < 50
    assert (report.start.country_code, report.start.province) == ("BE", "Antwerpen")


def test_a_17_km_loop_is_too_short_and_says_by_how_much() -> None:
    report = validate_gpx(gpx_bytes([loop_route(17_000)]), "loop.gpx", 20)
    assert not report.valid
    assert codes(report.problems) == ["too_short"]
    details = report.problems[0].details
    assert details["required_m"] == pytest.approx(19_600)
    assert "2.60 km" in report.problems[0].message  # what is missing


def test_a_route_as_rte_is_measured_by_its_route_points() -> None:
    report = validate_gpx(gpx_bytes([loop_route(40_500)], kind="rte"), "rte.gpx", 40)
    assert report.valid and report.kind == "planned"
    assert report.distance_m == pytest.approx(40_500, rel=1e-6)


def test_well_above_the_target_is_a_warning_not_an_error() -> None:
    report = validate_gpx(gpx_bytes([loop_route(26_000)]), "long.gpx", 20)
    assert report.valid
    assert codes(report.warnings) == ["well_above_target"]


def test_a_straight_line_over_1_km_in_a_planned_route_is_a_located_gap() -> None:
    route = loop_route(21_000)
    lon, lat, _ = GEOD.fwd(*route[60], 0.0, 1_500)
    with_jump = [*route[:61], (lon, lat), *route[61:]]
    report = validate_route(doc_of(with_jump), 20)
    assert not report.valid
    gap = next(f for f in report.problems if f.code == "gap")
    assert gap.details["distance_m"] > 1_000
    assert gap.details["from"] == [round(c, 6) for c in route[60]]


def test_parts_far_apart_are_refused_and_never_added_up() -> None:
    east = [(lon + 0.3, lat) for lon, lat in loop_route(10_000)]
    report = validate_gpx(gpx_bytes([loop_route(10_000), east]), "two.gpx", 20)
    assert not report.valid
    apart = next(f for f in report.problems if f.code == "parts_apart")
    assert apart.details["distance_m"] > 15_000
    assert report.distance_m == pytest.approx(20_000, rel=1e-6)  # the gap is not counted


def test_a_small_gap_between_parts_is_a_warning_and_not_counted() -> None:
    route = loop_route(20_400)
    near = [(lon, lat + 0.0013) for lon, lat in route[60:]]  # the rest, ~145 m north
    report = validate_gpx(gpx_bytes([route[:61], near]), "near.gpx", 20)
    assert "part_gap" in codes(report.warnings)
    gap = next(f for f in report.warnings if f.code == "part_gap")
    assert 100 < gap.details["distance_m"] < 200


def test_a_route_outside_belgium_is_fine_and_says_where_it_is() -> None:
    lille = (3.06, 50.63)
    report = validate_gpx(gpx_bytes([loop_route(20_300, center=lille)]), "lille.gpx", 20)
    assert report.valid
    assert report.start.country_code == "FR"
    assert report.start.province == ""  # provinces are named for Belgium only
    assert report_to_dict(report)["region"]["country"] == "France"


# --- recorded walks ---------------------------------------------------------------------


def test_a_noisy_recording_of_a_41_km_walk_counts_for_40_km() -> None:
    report = validate_gpx(recorded_walk(41_000, seed=1), "walk.gpx", 40)
    assert report.kind == "recorded"
    assert report.valid, report.problems
    assert report.raw_distance_m > 41_000 * 1.05  # the noise the raw sum would count
    assert report.distance_m == pytest.approx(41_000, rel=0.02)
    assert report.recorded is not None and len(report.recorded.pauses) == 3


def test_a_noisy_18_5_km_walk_whose_raw_length_exceeds_20_km_does_not_pass() -> None:
    report = validate_gpx(recorded_walk(18_500, seed=2), "walk.gpx", 20)
    assert report.raw_distance_m > 20_000  # raw point-to-point would have passed
    assert not report.valid
    assert codes(report.problems) == ["too_short"]
    assert report.distance_m == pytest.approx(18_500, rel=0.02)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_smoothing_barely_shortens_a_clean_recording(seed: int) -> None:
    report = validate_gpx(recorded_walk(20_000, seed=seed, noise=False), "clean.gpx", 20)
    assert report.distance_m == pytest.approx(report.raw_distance_m, rel=0.015)
    assert report.valid


def test_moving_time_pauses_and_pace_of_a_recorded_walk() -> None:
    rng = np.random.default_rng(6)
    xs, ys = walk(street_path(20_500, rng), 5.0 / 3.6, rng, pauses=2)
    points, times = recorded(xs, ys, rng)
    report = validate_gpx(gpx_bytes([points], [times]), "walk.gpx", 20)
    stats = report.recorded
    assert stats is not None
    paused = sum(p.duration_s for p in stats.pauses)
    assert len(stats.pauses) == 2 and all(120 <= p.duration_s <= 660 for p in stats.pauses)
    assert stats.moving_time_s == pytest.approx(stats.elapsed_s - paused, abs=180)
    pace_kmh = report.distance_m / stats.moving_time_s * 3.6
    assert 4.5 < pace_kmh < 5.5
    assert stats.max_sustained_speed_kmh < 7


def test_a_40_km_ride_at_18_km_h_is_not_on_foot() -> None:
    report = validate_gpx(recorded_walk(40_000, seed=7, speed_kmh=18, pauses=0), "ride.gpx", 40)
    assert not report.valid
    fast = next(f for f in report.problems if f.code == "not_on_foot")
    assert fast.details["fast_share_pct"] > 90
    assert fast.details["stretches"] and len(fast.details["stretches"][0]["line"]) >= 2
    assert "jump" not in codes(report.problems)


def test_a_6_km_jump_in_a_recording_is_refused_and_not_measured() -> None:
    rng = np.random.default_rng(8)
    xs, ys = walk(street_path(21_000, rng), 5.0 / 3.6, rng, pauses=0)
    half = len(xs) // 2
    xs = np.concatenate([xs[:half], xs[half:] + 6_000.0])  # teleported 6 km east
    points, times = recorded(xs, ys, rng)
    report = validate_gpx(gpx_bytes([points], [times]), "jump.gpx", 20)
    assert not report.valid
    jump = next(f for f in report.problems if f.code == "jump")
    assert jump.details["distance_m"] == pytest.approx(6_000, abs=150)
    assert jump.details["seconds"] == 1.0
    assert report.distance_m < 21_000 * 1.03  # the 6 km are not walked


def test_two_recorded_10_km_segments_far_apart_are_refused() -> None:
    rng = np.random.default_rng(9)
    parts, times = [], []
    for k in range(2):
        xs, ys = walk(street_path(10_200, rng), 5.0 / 3.6, rng, pauses=0)
        pts, ts = recorded(xs + 30_000.0 * k, ys, rng)
        parts.append(pts)
        times.append([t + timedelta(hours=3 * k) for t in ts])
    report = validate_gpx(gpx_bytes(parts, times), "two.gpx", 20)
    assert not report.valid
    assert "parts_apart" in codes(report.problems)
    assert report.distance_m == pytest.approx(20_400, rel=0.02)


def test_timestamps_that_do_not_advance_are_measured_as_planned() -> None:
    route = loop_route(20_500)
    report = validate_gpx(gpx_bytes([route], [[T0] * len(route)]), "same-time.gpx", 20)
    assert report.kind == "planned" and report.valid
    assert codes(report.warnings) == ["times_unusable"]


# --- the report as JSON and the rules ---------------------------------------------------


def test_report_to_dict_is_json_with_the_documented_keys() -> None:
    report = validate_gpx(recorded_walk(20_500, seed=10), "walk.gpx", 20)
    data = json.loads(json.dumps(report_to_dict(report)))
    assert {"valid", "target_km", "distance_m", "kind", "problems", "warnings", "start"} <= set(
        data
    )
    assert {"finish", "bbox", "region", "regions", "recorded", "measurement"} <= set(data)
    assert data["kind"] == "recorded" and data["measurement"]["sigma_s"] == 5.0
    assert data["recorded"]["moving_time_s"] > 0 and data["recorded"]["pace_s_per_km"] > 600
    assert data["bbox"][0] < data["bbox"][2] and data["bbox"][1] < data["bbox"][3]


def test_rules_come_from_settings_fields_of_the_same_name() -> None:
    class FakeSettings:
        distance_tolerance_pct = 5.0
        unrelated = "ignored"

    rules = rules_from(FakeSettings())
    assert rules.distance_tolerance_pct == 5.0
    assert rules.max_step_m == ValidationRules().max_step_m


def test_every_rule_has_a_reason() -> None:
    for f in ValidationRules.__dataclass_fields__.values():
        assert len(f.metadata.get("help", "")) > 20, f.name


def test_a_tighter_tolerance_changes_the_verdict() -> None:
    doc = read_route_gpx(gpx_bytes([loop_route(19_700)]), "loop.gpx")
    assert validate_route(doc, 20).valid
    assert not validate_route(doc, 20, replace(ValidationRules(), distance_tolerance_pct=1.0)).valid


def test_unreadable_input_raises_a_read_error_with_its_reason() -> None:
    with pytest.raises(GpxReadError) as err:
        validate_gpx(b"<gpx><trk><trkseg><trkpt lat='1' lon='1'/>", "cut.gpx", 20)
    assert err.value.code == "broken_xml" and err.value.source == "cut.gpx"


# --- the parts --------------------------------------------------------------------------


def test_smoothing_leaves_a_steady_straight_line_in_place() -> None:
    t = np.arange(100, dtype=float)
    xs, ys = smooth_in_time(t, 1.4 * t, np.zeros(100), sigma_s=5.0)
    assert np.allclose(xs[20:80], 1.4 * t[20:80]) and np.allclose(ys, 0.0)


def test_smoothing_hardly_moves_sparse_fixes() -> None:
    t = np.array([0.0, 30.0, 60.0, 90.0])
    xs, ys = smooth_in_time(t, np.array([0.0, 40.0, 40.0, 80.0]), np.array([0.0, 0, 40, 40]), 5.0)
    assert np.allclose(xs, [0, 40, 40, 80]) and np.allclose(ys, [0, 0, 40, 40])


def test_smoothing_a_stuck_clock_stays_cheap() -> None:
    n = 20_000
    xs, _ = smooth_in_time(np.zeros(n), np.arange(n, dtype=float), np.zeros(n), 5.0)
    assert len(xs) == n and np.all(np.isfinite(xs))


def test_speeds_are_sustained_over_the_window_not_per_fix() -> None:
    from routes.gpx_model import GpxDocument as Doc
    from routes.recorded import timed_parts

    rng = np.random.default_rng(11)
    xs, ys = walk(street_path(2_000, rng), 5.0 / 3.6, rng, pauses=0)
    xs[300] += 40.0  # one fix 40 m off: fast for a second, not for a minute
    points, times = recorded(xs, ys, rng, noise=False)
    pts = tuple(GpxPoint(lon, lat, None, t) for (lon, lat), t in zip(points, times, strict=True))
    doc = Doc("t", "", "", "", (GpxPart("track", "", pts),), ())
    (part,) = timed_parts(doc, 5.0, JumpLimits(25.0, 50.0))
    assert windowed_speeds_kmh(part, 60.0).max() < 10.0


def test_province_names_lose_their_administrative_prefix() -> None:
    assert province_name("Provincie Antwerpen") == "Antwerpen"
    assert province_name("Province de Liege") == "Liege"
    assert province_name("Province du Brabant Wallon") == "Brabant Wallon"


def test_nearest_places_in_belgium_name_the_province() -> None:
    (mortsel, namur) = nearest_places([MORTSEL, (4.87, 50.47)])
    assert (mortsel.country_code, mortsel.province) == ("BE", "Antwerpen")
    assert (namur.country_code, namur.province) == ("BE", "Namur")


# --- properties -------------------------------------------------------------------------


@st.composite
def routes_m(draw, total_m: float | None = None):
    """A random planned route: 80-160 steps with random headings, from anywhere on land-ish."""
    n = draw(st.integers(80, 160))
    weights = draw(st.lists(st.floats(1.0, 1.5), min_size=n, max_size=n))
    headings = draw(st.lists(st.floats(0.0, 360.0), min_size=n, max_size=n))
    lon = draw(st.floats(-170.0, 170.0))
    lat = draw(st.floats(-60.0, 65.0))
    total = total_m if total_m is not None else draw(st.floats(15_000.0, 50_000.0))
    scale = total / sum(weights)
    points = [(lon, lat)]
    for w, az in zip(weights, headings, strict=True):
        lon, lat, _ = GEOD.fwd(lon, lat, az, w * scale)
        points.append((lon, lat))
    return points


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(route=routes_m(), target=st.sampled_from([20, 40]))
def test_reversing_a_route_changes_neither_distance_nor_verdict(route, target) -> None:
    forward = validate_route(doc_of(route), target)
    backward = validate_route(doc_of(route[::-1]), target)
    assert backward.distance_m == pytest.approx(forward.distance_m, rel=1e-9)
    assert backward.valid == forward.valid
    assert sorted(codes(backward.problems)) == sorted(codes(forward.problems))


@PROPERTY
@given(route=routes_m(), target=st.sampled_from([20, 40]), data=st.data())
def test_a_duplicate_point_changes_neither_distance_nor_verdict(route, target, data) -> None:
    i = data.draw(st.integers(0, len(route) - 1))
    doubled = [*route[: i + 1], route[i], *route[i + 1 :]]
    before, after = validate_route(doc_of(route), target), validate_route(doc_of(doubled), target)
    assert after.distance_m == pytest.approx(before.distance_m, rel=1e-9)
    assert (after.valid, codes(after.problems)) == (before.valid, codes(before.problems))


@PROPERTY
@given(target=st.sampled_from([20, 40]), data=st.data())
def test_a_route_at_target_minus_3_percent_fails_and_plus_1_percent_passes(target, data) -> None:
    short = data.draw(routes_m(total_m=target * 1000 * 0.97))
    enough = data.draw(routes_m(total_m=target * 1000 * 1.01))
    short_report = validate_route(doc_of(short), target)
    assert codes(short_report.problems) == ["too_short"]
    assert validate_route(doc_of(enough), target).valid
