"""The bundled events: the 2023 Antwerp routes (40 and 20 km) and the 2024 Gent edition.

The GPX files are reconstructions, so these tests pin what the tracker relies on: the lengths,
a dense enough line, check-in points in order and on the track, and closing times.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from routes.bundled import data_dir, event_path
from routes.event import Event, EventRoute, load_event
from routes.geodesy import segment_lengths_m

ROUTE_LENGTHS_M = {"40km": (40_000, 400), "20km": (20_000, 200)}
MAX_POINT_SPACING_M = 200.0
MAX_CHECKIN_OFFSET_M = 5.0
CHECKIN_SPACING_M = (4_000, 8_000)
EVENTS = ("antwerp-2023", "gent-2024")


@pytest.fixture(scope="module", params=EVENTS)
def event(request: pytest.FixtureRequest) -> Event:
    path = event_path(request.param)
    if not path.exists():
        pytest.skip(f"{path} is not written yet")
    return load_event(path)


@pytest.fixture(scope="module")
def antwerp() -> Event:
    return load_event(event_path("antwerp-2023"))


def _routes(event: Event) -> list[EventRoute]:
    return list(event.routes.values())


def test_bundled_data_is_found_from_the_package_not_the_working_directory() -> None:
    assert (data_dir() / "events" / "antwerp-2023.toml").is_file()
    assert event_path("antwerp-2023") == data_dir() / "events" / "antwerp-2023.toml"
    assert event_path() == event_path("antwerp-2023")


def test_each_event_has_a_40_and_a_20_km_route(event: Event) -> None:
    assert set(event.routes) == {"40km", "20km"}


def test_route_lengths(event: Event) -> None:
    for er in _routes(event):
        target_m, tolerance_m = ROUTE_LENGTHS_M[er.id]
        assert er.route.length_m == pytest.approx(target_m, abs=tolerance_m), er.id
        assert not er.route.gaps, f"{er.id}: a bundled route is one unbroken line"


def test_points_are_at_most_200_m_apart(event: Event) -> None:
    for er in _routes(event):
        steps = segment_lengths_m(er.route.lons, er.route.lats)
        assert float(steps.max()) <= MAX_POINT_SPACING_M, er.id


def test_check_in_points_run_from_start_to_finish(event: Event) -> None:
    for er in _routes(event):
        cps = er.route.checkpoints
        along = [cp.distance_along_m for cp in cps]
        assert along == sorted(along), er.id
        assert len(set(along)) == len(along), f"{er.id}: two check-in points at one place"
        assert cps[0].kind == "start"
        assert cps[0].distance_along_m == pytest.approx(0.0, abs=50)
        assert cps[-1].kind == "finish"
        assert cps[-1].distance_along_m == pytest.approx(er.route.length_m, abs=50)
        assert any(cp.kind == "rest" for cp in cps), f"{er.id}: no rest stop"


def test_check_in_points_are_4_to_8_km_apart(event: Event) -> None:
    low, high = CHECKIN_SPACING_M
    for er in _routes(event):
        along = [cp.distance_along_m for cp in er.route.checkpoints]
        for a, b in pairwise(along):
            assert low <= b - a <= high, f"{er.id}: {a / 1000:.1f} -> {b / 1000:.1f} km"


def test_check_in_points_lie_on_the_track(event: Event) -> None:
    for er in _routes(event):
        route = er.route
        for cp in route.checkpoints:
            assert cp.offset_m < MAX_CHECKIN_OFFSET_M, f"{er.id}/{cp.id}"
            lon, lat = route.point_at(cp.distance_along_m)
            nearest = route.locate_many(np.array([cp.lon]), np.array([cp.lat]))[0]
            assert nearest[1] < MAX_CHECKIN_OFFSET_M, f"{er.id}/{cp.id}"
            assert abs(lon - cp.lon) < 1e-4 and abs(lat - cp.lat) < 1e-4, f"{er.id}/{cp.id}"


def test_check_in_ids_are_unique_per_route(event: Event) -> None:
    for er in _routes(event):
        ids = [cp.id for cp in er.route.checkpoints]
        assert len(ids) == len(set(ids)), er.id


def test_closing_times_are_3_kmh_after_the_last_start_unless_set(event: Event) -> None:
    raw = tomllib.loads(Path(event.path).read_text(encoding="utf-8"))
    explicit = {r["id"]: r.get("closing", {}) for r in raw["routes"]}
    assert event.slowest_pace_kmh == raw.get("slowest_pace_kmh", 3.0) == 3.0
    for er in _routes(event):
        assert set(er.closing) == {cp.id for cp in er.route.checkpoints}
        for cp in er.route.checkpoints:
            if cp.id in explicit[er.id]:
                hhmm = time.fromisoformat(explicit[er.id][cp.id])
                expected = datetime.combine(event.date, hhmm, event.timezone)
            else:
                expected = er.last_start + timedelta(hours=cp.distance_along_m / 1000 / 3.0)
            assert er.closing[cp.id] == expected, f"{er.id}/{cp.id}"


def test_antwerp_40_km_stops_in_mortsel_lier_and_vremde(antwerp: Event) -> None:
    rest_names = " ".join(cp.name for cp in antwerp.route("40km").route.checkpoints)
    for place in ("Mortsel", "Lier", "Vremde"):
        assert place in rest_names


def test_antwerp_20_km_stops_in_mortsel_or_vremde(antwerp: Event) -> None:
    rests = [cp.name for cp in antwerp.route("20km").route.checkpoints if cp.kind == "rest"]
    assert any("Mortsel" in n or "Vremde" in n for n in rests)


def test_antwerp_2023_start_times(antwerp: Event) -> None:
    assert antwerp.date.isoformat() == "2023-10-08"
    assert [s.strftime("%H:%M") for s in antwerp.route("40km").starts] == ["08:00"]
    assert antwerp.route("20km").last_start.strftime("%H:%M") == "13:00"


def test_antwerp_routes_start_and_finish_at_the_zomerfabriek(antwerp: Event) -> None:
    for er in _routes(antwerp):
        assert er.route.is_loop
        first, last = er.route.checkpoints[0], er.route.checkpoints[-1]
        assert "Zomerfabriek" in first.name and "Zomerfabriek" in last.name
        # Berchem, 51.2045 N 4.4395 E (±400 m as placed)
        assert abs(first.lat - 51.2045) < 0.01 and abs(first.lon - 4.4395) < 0.01


def test_gent_2024_loads_with_its_routes_around_ghent() -> None:
    gent = load_event(event_path("gent-2024"))
    assert gent.date.isoformat() == "2024-09-29"
    for er in _routes(gent):
        min_lon, min_lat, max_lon, max_lat = er.route.bbox
        assert 3.5 < min_lon < max_lon < 4.0 and 50.9 < min_lat < max_lat < 51.2
