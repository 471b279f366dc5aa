"""Real GPX files from Garmin, Strava, gpx.studio, AllTrails and others, checked against the
independent figures in the corpus's REFERENCE.md (gpxpy + pyproj.Geod, computed apart from us).

The numbers are read from REFERENCE.md, never copied here, so a corpus update is checked too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routes.errors import GpxReadError
from routes.gpx_reader import read_gpx, read_route_gpx
from routes.measure import measure
from routes.prepared import prepare_route

REL_TOLERANCE = 1e-3  # 0.1 %
ABS_TOLERANCE_M = 0.05  # the table rounds to 0.1 m

Reference = dict[str, Any]  # file name -> conftest.ReferenceRow


def _read(corpus_dir: Path, name: str) -> bytes:
    return (corpus_dir / name).read_bytes()


def _expected_length_m(row: Any) -> float:
    """Tracks win over routes (as in the reader); route-only files use the route column."""
    value = row.trk_m if (row.trkpt or 0) > 0 else row.rte_m
    assert value is not None, f"REFERENCE.md has no length for {row.file}"
    return value


def _is_waypoint_only(row: Any) -> bool:
    return row.parses and not row.trkpt and not row.rtept and bool(row.wpt)


def test_reference_table_covers_every_corpus_file(corpus_dir: Path, reference: Reference) -> None:
    assert set(reference) == {p.name for p in corpus_dir.glob("*.gpx")}
    assert len(reference) >= 20


def test_reference_table_names_the_two_broken_files(reference: Reference) -> None:
    refused = {name for name, row in reference.items() if not row.parses}
    assert refused == {"togeojson__bad.gpx", "derived__garmin-activity-truncated.gpx"}


def test_each_file_loads_or_is_refused_as_the_reference_says(
    corpus_dir: Path, reference: Reference, corpus_name: str
) -> None:
    row = reference[corpus_name]
    if row.parses:
        doc = read_gpx(_read(corpus_dir, corpus_name), corpus_name)
        assert len(doc.points) == (row.trkpt or 0) + (0 if row.trkpt else row.rtept or 0)
        assert len(doc.waypoints) == (row.wpt or 0)
    else:
        with pytest.raises(GpxReadError) as caught:
            read_gpx(_read(corpus_dir, corpus_name), corpus_name)
        assert caught.value.source == corpus_name
        assert corpus_name in str(caught.value)
        assert caught.value.reason


def test_truncated_upload_is_refused_as_broken_xml(corpus_dir: Path) -> None:
    name = "derived__garmin-activity-truncated.gpx"
    with pytest.raises(GpxReadError) as caught:
        read_gpx(_read(corpus_dir, name), name)
    assert caught.value.code == "broken_xml"
    assert "cut off" in caught.value.reason


def test_undefined_coordinates_are_refused_as_bad_coordinates(corpus_dir: Path) -> None:
    name = "togeojson__bad.gpx"
    with pytest.raises(GpxReadError) as caught:
        read_gpx(_read(corpus_dir, name), name)
    assert caught.value.code == "bad_coordinates"
    assert "undefined" in caught.value.reason


def test_waypoint_only_files_are_read_but_are_not_routes(
    corpus_dir: Path, waypoint_only_corpus_name: str
) -> None:
    corpus_name = waypoint_only_corpus_name
    doc = read_gpx(_read(corpus_dir, corpus_name), corpus_name)
    assert doc.waypoints and not doc.points
    with pytest.raises(GpxReadError) as caught:
        read_route_gpx(_read(corpus_dir, corpus_name), corpus_name)
    assert caught.value.code == "too_few_points"
    assert "only waypoints" in caught.value.reason


def test_the_corpus_has_the_four_waypoint_only_files(reference: Reference) -> None:
    assert {n for n, row in reference.items() if _is_waypoint_only(row)} == {
        "gpxpy__unicode_with_bom_noencoding.gpx",
        "gpxpy__gpx_with_garmin_extension.gpx",
        "togeojson__wpt.gpx",
        "gpxgo__iso8859-1encoded.gpx",
    }


def test_length_agrees_with_the_geodesic_reference(
    corpus_dir: Path, reference: Reference, readable_corpus_name: str
) -> None:
    corpus_name = readable_corpus_name
    row = reference[corpus_name]
    doc = read_gpx(_read(corpus_dir, corpus_name), corpus_name)
    assert measure(doc).distance_m == pytest.approx(
        _expected_length_m(row), rel=REL_TOLERANCE, abs=ABS_TOLERANCE_M
    )


def test_gaps_between_parts_make_up_the_joined_length(
    corpus_dir: Path, reference: Reference, multipart_corpus_name: str
) -> None:
    corpus_name = multipart_corpus_name
    row = reference[corpus_name]
    measured = measure(read_gpx(_read(corpus_dir, corpus_name), corpus_name))
    assert measured.distance_m + measured.gap_m == pytest.approx(
        row.joined_m, rel=REL_TOLERANCE, abs=ABS_TOLERANCE_M
    )


def test_far_apart_tracks_report_their_gaps_apart_from_the_length(corpus_dir: Path) -> None:
    """multitrackgpx: 1.75 km walked, 23.4 km if the tracks were joined; the jumps are gaps."""
    name = "togeojson__multitrackgpx.gpx"
    measured = measure(read_gpx(_read(corpus_dir, name), name))
    assert len(measured.gaps) == 2
    assert measured.distance_m < 2_000
    assert measured.gap_m > 20_000


def test_route_only_file_is_measured_from_route_points(corpus_dir: Path) -> None:
    """AllTrails: gpxpy's length_2d() says 0 for a <rte>-only file; we must not."""
    name = "georust__ecology-trail-and-lovers-lane-loop.gpx"
    doc = read_route_gpx(_read(corpus_dir, name), name)
    assert doc.kind == "route"
    assert measure(doc).distance_m > 3_000


def test_bom_file_without_encoding_decodes_its_non_ascii_name(corpus_dir: Path) -> None:
    name = "gpxpy__unicode_with_bom_noencoding.gpx"
    doc = read_gpx(_read(corpus_dir, name), name)
    assert doc.waypoints[0].name == "bom noencoding ő"


def test_cdata_track_name_is_read_without_its_markup(corpus_dir: Path) -> None:
    name = "gpxpy__gpx-with-node-with-comments.gpx"
    doc = read_gpx(_read(corpus_dir, name), name)
    assert doc.name == "2014-05-06_132925"


def test_lon_before_lat_in_attributes_is_read_the_right_way_round(corpus_dir: Path) -> None:
    name = "togeojson__wpt.gpx"
    first = read_gpx(_read(corpus_dir, name), name).waypoints[0]
    assert (first.lon, first.lat) == (6.679844, 51.197953)


@pytest.mark.parametrize(
    "name",
    ["georust__garmin_with_extensions.gpx", "georust__strava_route_example.gpx"],
)
def test_real_device_tracks_prepare_and_match_their_own_points(corpus_dir: Path, name: str) -> None:
    doc = read_route_gpx(_read(corpus_dir, name), name)
    route = prepare_route(doc, route_id="r")
    for p in doc.points[:: max(1, len(doc.points) // 25)]:
        assert route.locate(p.lon, p.lat).offset_m < 0.5
