"""The whole GPX corpus (../shared/gpx-corpus) through the personal-route validator.

Real files from Garmin, Strava, gpx.studio, AllTrails and others: none may crash it, the two
broken ones are refused with their reason, and planned routes measure what REFERENCE.md's
independent geodesic column says. The corpus lives beside the project; without it these skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routes.errors import GpxReadError
from routes.validation import ValidationReport, report_to_dict, validate_gpx

REL_TOLERANCE = 1e-3  # 0.1 %
READ_ERROR_CODES = {
    "too_large", "bad_encoding", "forbidden_dtd", "not_xml", "not_gpx", "broken_xml",
    "bad_value", "bad_coordinates", "too_few_points", "too_many_points",
}  # fmt: skip
# No timestamps (or, for Mojstrovka, one timestamp on every point): measured as planned.
PLANNED = {
    "georust__ecology-trail-and-lovers-lane-loop.gpx",
    "georust__outdooractive-export.gpx",
    "georust__strava_route_example.gpx",
    "georust__viking_with_route_extensions.gpx",
    "gpxpy__Mojstrovka.gpx",
    "gpxpy__cerknicko-without-times.gpx",
    "gpxstudio__with_routes.gpx",
}
# Real walks and hikes recorded by Garmin devices and MapSource.
REAL_WALKS = (
    "georust__garmin-activity.gpx",
    "georust__garmin_with_extensions.gpx",
    "togeojson__multitrackgpx.gpx",
)


def _validate(corpus_dir: Path, name: str, target_km: int = 20) -> ValidationReport:
    return validate_gpx((corpus_dir / name).read_bytes(), name, target_km)


def _geodesic_m(row: Any) -> float:
    """REFERENCE.md's geodesic length: tracks win over routes, as in the reader."""
    value = row.trk_m if (row.trkpt or 0) > 0 else row.rte_m
    assert value is not None, f"REFERENCE.md has no length for {row.file}"
    return value


def test_every_corpus_file_gets_a_report_or_a_reason(corpus_dir: Path, corpus_name: str) -> None:
    try:
        report = _validate(corpus_dir, corpus_name)
    except GpxReadError as exc:
        assert exc.code in READ_ERROR_CODES
        assert exc.source == corpus_name and len(exc.reason) > 10
        return
    data = json.loads(json.dumps(report_to_dict(report)))
    assert data["distance_m"] >= 0 and data["valid"] == (not data["problems"])
    assert all(p["code"] and p["message"] for p in data["problems"] + data["warnings"])


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("togeojson__bad.gpx", "bad_coordinates", "'undefined'"),
        ("derived__garmin-activity-truncated.gpx", "broken_xml", "cut off"),
    ],
)
def test_the_broken_files_are_refused_with_their_reason(
    corpus_dir: Path, name: str, code: str, words: str
) -> None:
    with pytest.raises(GpxReadError) as err:
        _validate(corpus_dir, name)
    assert err.value.code == code
    assert words in err.value.reason


def test_waypoint_only_files_are_refused_as_having_no_route(
    corpus_dir: Path, waypoint_only_corpus_name: str
) -> None:
    with pytest.raises(GpxReadError) as err:
        _validate(corpus_dir, waypoint_only_corpus_name)
    assert err.value.code == "too_few_points"
    assert "only waypoints" in err.value.reason


def test_route_only_files_are_measured_by_their_route_points(
    corpus_dir: Path, reference: dict[str, Any]
) -> None:
    route_only = [r for r in reference.values() if r.parses and not r.trkpt and r.rtept]
    assert len(route_only) == 2
    for row in route_only:
        report = _validate(corpus_dir, row.file)
        assert report.kind == "planned"
        assert report.points == row.rtept
        assert report.distance_m == pytest.approx(row.rte_m, rel=REL_TOLERANCE)


def test_planned_files_agree_with_the_reference_geodesic_length(
    corpus_dir: Path, reference: dict[str, Any]
) -> None:
    for name in sorted(PLANNED):
        report = _validate(corpus_dir, name)
        assert report.kind == "planned", name
        assert report.distance_m == pytest.approx(_geodesic_m(reference[name]), rel=REL_TOLERANCE)


def test_recorded_files_are_the_ones_with_times(corpus_dir: Path, reference: dict) -> None:
    for row in reference.values():
        if row.parses and (row.trkpt or 0) + (row.rtept or 0) >= 2 and row.file not in PLANNED:
            report = _validate(corpus_dir, row.file)
            assert report.kind == "recorded", row.file
            assert report.distance_m <= report.raw_distance_m + 1e-6


@pytest.mark.parametrize("name", REAL_WALKS)
def test_smoothing_changes_real_walks_by_a_few_percent_at_most(corpus_dir: Path, name: str) -> None:
    report = _validate(corpus_dir, name)
    change_pct = (report.distance_m / report.raw_distance_m - 1) * 100
    assert -3.0 < change_pct <= 0.0


def test_a_drive_is_not_on_foot(corpus_dir: Path) -> None:
    report = _validate(corpus_dir, "gpxpy__around-visnjan-with-car.gpx")
    assert "not_on_foot" in [p.code for p in report.problems]
    assert report.recorded is not None and report.recorded.max_sustained_speed_kmh > 25


def test_tracks_far_apart_are_refused_with_where_the_gaps_are(
    corpus_dir: Path, reference: dict[str, Any]
) -> None:
    name = "gpxpy__cerknicko-without-times.gpx"
    row = reference[name]
    report = _validate(corpus_dir, name)
    apart = [p for p in report.problems if p.code == "parts_apart"]
    assert len(apart) == 3 and all(p.details["distance_m"] > 1000 for p in apart)
    assert all(len(p.details["from"]) == 2 and len(p.details["to"]) == 2 for p in apart)
    joining_m = row.joined_m - row.trk_m  # what silently joining the tracks would add
    assert sum(p.details["distance_m"] for p in apart) == pytest.approx(joining_m, abs=60)
    assert report.distance_m == pytest.approx(row.trk_m, rel=REL_TOLERANCE)


@pytest.mark.parametrize(
    "name", ["gpxstudio__with_routes.gpx", "gpxstudio__with_tracks_and_segments.gpx"]
)
def test_the_belgian_files_are_placed_in_belgium(corpus_dir: Path, name: str) -> None:
    report = _validate(corpus_dir, name)
    assert report.start.country_code == "BE"
    assert report.start.province == "Vlaams-Brabant"  # nearest place; see routes/region.py
