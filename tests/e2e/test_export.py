"""The after-event export from a real server: files read back with geopandas, pyogrio and gpxpy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import gpxpy
import pyogrio
import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.support import Server, register_walker

pytestmark = pytest.mark.e2e

HOSTILE = 'Zoë <b>&amp; "quotes"</b>'
EXPORTS = ("tracks.geojson", "fixes.geojson", "checkins.geojson", "tracks.gpkg", "tracks.gpx")


@pytest.fixture(scope="module")
def walked(module_server: Server) -> dict[str, Any]:
    """Three walkers: one walked 1 km from the start, one has a single fix, one none."""
    route = load_event(event_path("antwerp-2023")).routes["40km"].route
    srv = module_server
    walker = register_walker(srv, HOSTILE, bib="21", team="Team A", phone="+32 470 00 00 21")
    single = register_walker(srv, "Single Fix", bib="22")
    register_walker(srv, "No Fix", bib="23")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    fixes = []
    for i, along in enumerate(range(0, 1001, 100)):
        lon, lat = route.point_at(along)
        fixes.append(
            {
                "id": f"a{i}",
                "recorded_at": (start + timedelta(seconds=72 * i)).isoformat(),
                "lat": lat,
                "lon": lon,
                "accuracy_m": 5,
                "altitude_m": 12.5,
            }
        )
    lon, lat = route.point_at(550)
    fixes.append(
        {
            "id": "bad",
            "recorded_at": (start + timedelta(seconds=400)).isoformat(),
            "lat": lat,
            "lon": lon,
            "accuracy_m": 500,
        }
    )  # stored, flagged, not on the track
    with srv.client() as c:
        r = c.post(
            "/api/fixes",
            json={"fixes": fixes},
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.json()["accepted"] == 12, r.text
        lon, lat = route.point_at(5000)
        r = c.post(
            "/api/fixes",
            json={"fixes": [{"id": "s", "recorded_at": start.isoformat(), "lat": lat, "lon": lon}]},
            headers={"Authorization": f"Bearer {single['token']}"},
        )
        assert r.json()["accepted"] == 1
    return {"walker": walker, "single": single, "route": route, "start": start, "fixes": fixes}


def download(srv: Server, name: str, tmp_path: Path) -> Path:
    with srv.client() as c:
        r = c.get(f"/api/export/{name}", headers=srv.organiser)
    assert r.status_code == 200, r.text
    assert f'filename="refugee-walk-{name}"' in r.headers["content-disposition"]
    path = tmp_path / name
    path.write_bytes(r.content)
    return path


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_need_the_organiser_token(module_server: Server, name: str) -> None:
    with module_server.client() as c:
        assert c.get(f"/api/export/{name}").status_code == 401
        bad = c.get(f"/api/export/{name}", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401


def test_tracks_geojson_has_one_line_per_walker_in_time_order(
    module_server: Server, walked: dict, tmp_path: Path
) -> None:
    path = download(module_server, "tracks.geojson", tmp_path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["type"] == "FeatureCollection"
    tracks = gpd.read_file(path)
    assert list(tracks["bib"]) == ["21"]  # one fix is no line; no fix, no track
    row = tracks.iloc[0]
    assert row["name"] == HOSTILE and row["team"] == "Team A" and row["route_id"] == "40km"
    assert "phone" not in tracks.columns
    good = [f for f in walked["fixes"] if f["id"] != "bad"]
    assert row["fixes"] == len(good)
    coords = [c for xy in row.geometry.coords for c in xy]
    assert coords == pytest.approx([c for f in good for c in (f["lon"], f["lat"])])
    started = raw["features"][0]["properties"]["started_at"]  # GeoJSON has no time type: ISO text
    assert datetime.fromisoformat(started) == walked["start"]
    assert row["distance_along_m"] == pytest.approx(1000, abs=30)


def test_fixes_geojson_keeps_every_position_with_its_flags(
    module_server: Server, walked: dict, tmp_path: Path
) -> None:
    fixes = gpd.read_file(download(module_server, "fixes.geojson", tmp_path))
    assert len(fixes) == 13  # 12 for the walker (one flagged) + 1 for the single fix
    bad = fixes[fixes["flags"] != ""]
    assert list(bad["flags"]) == ["poor_accuracy"]
    assert not bad["on_track"].any()
    assert fixes.crs.to_epsg() == 4326


def test_checkins_geojson_places_each_check_in_at_its_point(
    module_server: Server, walked: dict, tmp_path: Path
) -> None:
    checkins = gpd.read_file(download(module_server, "checkins.geojson", tmp_path))
    start_point = walked["route"].checkpoints[0]
    row = checkins[checkins["walker_id"] == walked["walker"]["id"]].iloc[0]
    assert row["checkpoint_id"] == start_point.id
    assert row["checkpoint_name"] == start_point.name
    assert row["name"] == HOSTILE
    assert (row.geometry.x, row.geometry.y) == pytest.approx((start_point.lon, start_point.lat))


def test_geopackage_has_three_layers_with_proper_types(
    module_server: Server, walked: dict, tmp_path: Path
) -> None:
    path = download(module_server, "tracks.gpkg", tmp_path)
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers == {"tracks": "LineString", "fixes": "Point", "checkins": "Point"}
    tracks = gpd.read_file(path, layer="tracks")
    fixes = gpd.read_file(path, layer="fixes")
    checkins = gpd.read_file(path, layer="checkins")
    assert list(tracks["name"]) == [HOSTILE]
    assert len(fixes) == 13 and len(checkins) >= 1
    assert str(fixes["recorded_at"].dtype).startswith("datetime64")
    assert fixes["altitude_m"].dropna().tolist()[:1] == [12.5]
    assert fixes["speed_mps"].dtype.kind == "f"  # all empty, still a number column
    assert tracks.crs.to_epsg() == 4326


def test_gpx_has_a_track_per_walker_and_check_ins_as_waypoints(
    module_server: Server, walked: dict, tmp_path: Path
) -> None:
    path = download(module_server, "tracks.gpx", tmp_path)
    doc = gpxpy.parse(path.read_text(encoding="utf-8"))
    names = {t.name: t for t in doc.tracks}
    assert set(names) == {f"{HOSTILE} #21", "Single Fix #22"}  # escaped and read back intact
    points = names[f"{HOSTILE} #21"].segments[0].points
    good = [f for f in walked["fixes"] if f["id"] != "bad"]
    assert [c for p in points for c in (p.longitude, p.latitude)] == pytest.approx(
        [c for f in good for c in (f["lon"], f["lat"])]
    )
    assert points[0].time == walked["start"]
    assert points[0].elevation == 12.5
    assert [w.type for w in doc.waypoints][:1] == ["check-in"]
    assert any(w.name.startswith(HOSTILE) for w in doc.waypoints)
