"""Reading GPX: hostile and broken files are refused quickly, naming the file and the reason;
the odd but valid shapes phones and websites write are read correctly."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod

from routes.errors import GpxReadError, GpxTooLargeError
from routes.gpx_reader import read_gpx, read_route_gpx
from routes.measure import measure

NAME = "walker-upload.gpx"
MAX_SECONDS = 1.0
MAX_PEAK_BYTES = 20 * 1024 * 1024
GEOD = Geod(ellps="WGS84")

BERCHEM = (4.4395, 51.2045)
MORTSEL = (4.4557, 51.1713)
LIER = (4.5795, 51.1262)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE gpx [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>&lol9;</name><trkseg>
    <trkpt lat="51.2" lon="4.4"/><trkpt lat="51.3" lon="4.5"/>
  </trkseg></trk>
</gpx>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE gpx [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>&xxe;</name><trkseg>
    <trkpt lat="51.2" lon="4.4"/><trkpt lat="51.3" lon="4.5"/>
  </trkseg></trk>
</gpx>
"""


def refused(reader: Any, data: bytes, **limits: int) -> GpxReadError:
    """The error `reader` raises for `data`, checked to come fast, cheaply, and named."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        reader(data, NAME, **limits)
    except GpxReadError as exc:
        error = exc
    else:
        pytest.fail("the file was accepted")
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS
    assert peak < MAX_PEAK_BYTES
    assert error.source == NAME
    assert str(error).startswith(f"{NAME}: ")
    assert len(error.reason) > 10
    return error


def geodesic_m(*points: tuple[float, float]) -> float:
    lons, lats = zip(*points, strict=True)
    return float(GEOD.line_length(lons, lats))


# --- refused -----------------------------------------------------------------------------


def test_not_xml_is_refused() -> None:
    error = refused(read_gpx, b"Date,Lat,Lon\n2023-10-08,51.2,4.4\n")
    assert error.code == "not_xml"


def test_xml_that_is_not_gpx_is_refused(gpx: Any) -> None:
    kml = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'
    error = refused(read_gpx, kml)
    assert error.code == "not_gpx"


def test_entity_bomb_is_refused_before_expansion() -> None:
    error = refused(read_gpx, BILLION_LAUGHS.encode())
    assert error.code == "forbidden_dtd"
    assert "lol" not in error.reason


def test_entity_bomb_in_utf16_is_refused_too() -> None:
    error = refused(read_gpx, BILLION_LAUGHS.replace('<?xml version="1.0"?>', "").encode("utf-16"))
    assert error.code == "forbidden_dtd"


def test_external_entity_is_refused_and_never_read() -> None:
    error = refused(read_gpx, EXTERNAL_ENTITY.encode())
    assert error.code == "forbidden_dtd"
    passwd = Path("/etc/passwd")
    secret_lines = passwd.read_text().splitlines()[:3] if passwd.exists() else ["root:x:0:0"]
    for line in filter(None, secret_lines):
        assert line not in str(error)
    assert "root:" not in str(error)


def test_lowercase_doctype_is_refused_too(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL)).replace(b"<gpx", b"<!doctype gpx>\n<gpx", 1)
    assert refused(read_gpx, data).code == "forbidden_dtd"


@pytest.mark.parametrize(
    ("lat", "lon", "words"),
    [
        ("95", "4.4", "latitude 95"),
        ("51.2", "200", "longitude 200"),
        ("-91", "4.4", "latitude -91"),
        ("51.2", "-180.5", "longitude -180.5"),
        ("NaN", "4.4", "latitude nan"),
        ("51.2", "inf", "longitude inf"),
        ("undefined", "undefined", "undefined"),
        ("", "4.4", "not a number"),
    ],
)
def test_impossible_coordinates_are_refused(gpx: Any, lat: str, lon: str, words: str) -> None:
    body = (
        f'<trk><trkseg><trkpt lat="51.2" lon="4.4"/><trkpt lat="{lat}" lon="{lon}"/></trkseg></trk>'
    )
    error = refused(read_gpx, gpx.doc(body))
    assert error.code == "bad_coordinates"
    assert words in error.reason.lower()


def test_impossible_waypoint_coordinates_are_refused(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL) + gpx.wpt(4.4, 95.0, "North of the pole"))
    assert refused(read_gpx, data).code == "bad_coordinates"


@pytest.mark.parametrize("points", [(), (BERCHEM,)])
def test_a_route_needs_two_points(gpx: Any, points: tuple[tuple[float, float], ...]) -> None:
    error = refused(read_route_gpx, gpx.doc(gpx.trk(*points)))
    assert error.code == "too_few_points"
    assert "two points" in error.reason


def test_a_single_point_track_is_still_readable_as_a_file(gpx: Any) -> None:
    assert len(read_gpx(gpx.doc(gpx.trk(BERCHEM))).points) == 1


def test_repeated_single_place_counts_as_points_but_has_no_length(gpx: Any) -> None:
    doc = read_route_gpx(gpx.doc(gpx.trk(BERCHEM, BERCHEM, BERCHEM)))
    assert measure(doc).distance_m == 0.0


def test_file_above_the_size_limit_is_refused_before_parsing() -> None:
    junk = b"x" * 2_000_001  # not even XML: the size check must come first
    error = refused(read_gpx, junk, max_bytes=1_000_000)
    assert isinstance(error, GpxTooLargeError)
    assert error.code == "too_large"
    assert "limit" in error.reason


def test_file_at_the_size_limit_is_read(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL))
    assert len(read_gpx(data, NAME, max_bytes=len(data)).points) == 2


def test_too_many_points_are_refused(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(*[(4.4 + i * 1e-3, 51.2) for i in range(50)]))
    error = refused(read_gpx, data, max_points=10)
    assert error.code == "too_many_points"


def test_undeclared_latin1_bytes_are_refused_as_bad_encoding(gpx: Any) -> None:
    body = gpx.trk(BERCHEM, MORTSEL, name="Liège–Église")
    data = (
        gpx.doc(body, declaration='<?xml version="1.0"?>\n').decode().encode("latin-1", "replace")
    )
    error = refused(read_gpx, data)
    assert error.code == "bad_encoding"
    assert "UTF-8" in error.reason


def test_unknown_declared_encoding_is_refused(gpx: Any) -> None:
    data = gpx.doc(
        gpx.trk(BERCHEM, MORTSEL), declaration='<?xml version="1.0" encoding="klingon"?>'
    )
    assert refused(read_gpx, data).code == "bad_encoding"


def test_truncated_xml_is_refused_as_broken(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL, LIER))
    assert refused(read_gpx, data[: len(data) // 2]).code == "broken_xml"


# --- read ------------------------------------------------------------------------------------


def test_declared_iso_8859_1_with_non_ascii_names_loads(gpx: Any) -> None:
    text = gpx.doc(
        gpx.trk(BERCHEM, MORTSEL, name="Rue de l'Église, Liège")
        + gpx.wpt(*LIER, "Café Zoë", "rest"),
        declaration='<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>\n',
    ).decode()
    doc = read_gpx(text.encode("latin-1"), NAME)
    assert doc.name == "Rue de l'Église, Liège"
    assert doc.waypoints[0].name == "Café Zoë"


def test_utf8_bom_is_read(gpx: Any) -> None:
    doc = read_route_gpx(b"\xef\xbb\xbf" + gpx.doc(gpx.trk(BERCHEM, MORTSEL, name="Vremde ő")))
    assert doc.name == "Vremde ő"
    assert len(doc.points) == 2


def test_crlf_line_ends_are_read(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL, LIER)).replace(b"\n", b"\r\n")
    assert b"\r\n" in data
    assert len(read_route_gpx(data).points) == 3


def test_gpx_1_0_is_read(gpx: Any) -> None:
    data = gpx.doc(
        gpx.trk(BERCHEM, MORTSEL), version="1.0", namespace="http://www.topografix.com/GPX/1/0"
    )
    doc = read_route_gpx(data)
    assert [(p.lon, p.lat) for p in doc.points] == [BERCHEM, MORTSEL]


def test_no_namespace_and_no_declaration_is_read(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL), namespace=None, declaration="")
    assert len(read_route_gpx(data).points) == 2


def test_route_only_file_is_measured_from_its_route_points(gpx: Any) -> None:
    doc = read_route_gpx(gpx.doc(gpx.rte(BERCHEM, MORTSEL, LIER)))
    assert doc.kind == "route"
    assert measure(doc).distance_m == pytest.approx(geodesic_m(BERCHEM, MORTSEL, LIER), rel=1e-9)


def test_tracks_are_preferred_over_routes_when_both_exist(gpx: Any) -> None:
    doc = read_route_gpx(gpx.doc(gpx.trk(BERCHEM, MORTSEL) + gpx.rte(MORTSEL, LIER)))
    assert doc.kind == "track"
    assert [(p.lon, p.lat) for p in doc.points] == [BERCHEM, MORTSEL]


def test_several_segments_are_measured_apart_and_their_gaps_reported(gpx: Any) -> None:
    first, second = [BERCHEM, MORTSEL], [(4.50, 51.16), LIER]
    doc = read_route_gpx(gpx.doc(gpx.trk_segments(first, [], second)))
    measured = measure(doc)
    assert len(doc.parts) == 2  # the empty segment is dropped
    assert measured.distance_m == pytest.approx(geodesic_m(*first) + geodesic_m(*second), rel=1e-9)
    assert len(measured.gaps) == 1
    gap = measured.gaps[0]
    assert (gap.from_lon, gap.from_lat, gap.to_lon, gap.to_lat) == (*MORTSEL, 4.50, 51.16)
    assert gap.distance_m == pytest.approx(geodesic_m(MORTSEL, (4.50, 51.16)), rel=1e-9)


def test_times_become_aware_utc(gpx: Any) -> None:
    body = (
        "<trk><trkseg>"
        '<trkpt lat="51.2" lon="4.4"><time>2023-10-08T08:00:00+02:00</time></trkpt>'
        '<trkpt lat="51.3" lon="4.5"><time>2023-10-08T06:10:00Z</time></trkpt>'
        "</trkseg></trk>"
    )
    doc = read_route_gpx(gpx.doc(body))
    times = [p.time for p in doc.points]
    assert all(t is not None and t.utcoffset().total_seconds() == 0 for t in times)
    assert times[0] is not None and times[0].hour == 6


# --- bounded before any tree work (issue 10) -------------------------------------------------


def _nested(depth: int) -> bytes:
    head = (
        b'<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        b'<trkpt lat="51.2" lon="4.4"><extensions>'
    )
    tail = b'</extensions></trkpt><trkpt lat="51.21" lon="4.41"/></trkseg></trk></gpx>'
    return head + b"<a>" * depth + b"</a>" * depth + tail


def test_deep_nesting_in_extensions_is_refused_before_gpxpy_runs() -> None:
    started = time.perf_counter()
    error = refused(read_gpx, _nested(150_000))
    assert error.code == "too_deep"
    assert "32" in error.reason
    assert time.perf_counter() - started < 0.5


def test_ordinary_extension_depth_is_read() -> None:
    assert len(read_gpx(_nested(10)).points) == 2


def test_element_count_is_bounded_while_reading() -> None:
    flat = _nested(0).replace(b"<extensions>", b"<extensions>" + b"<a/>" * 2000)
    assert refused(read_gpx, flat, max_elements=1000).code == "too_many_elements"


def test_points_are_counted_before_parsing(gpx: Any) -> None:
    data = gpx.doc(gpx.trk(*[(4.4 + i * 1e-5, 51.2) for i in range(20_000)]))
    started = time.perf_counter()
    error = refused(read_gpx, data, max_points=1000)
    assert error.code == "too_many_points"
    assert time.perf_counter() - started < 0.3  # gpxpy alone takes longer for 20,000 points


@pytest.mark.parametrize("stamp", ["0001-01-01T00:30:00+02:00", "9999-12-31T23:30:00-02:00"])
def test_times_outside_utc_years_are_refused(gpx: Any, stamp: str) -> None:
    data = gpx.doc(gpx.trk(BERCHEM, MORTSEL)).replace(
        b'"/>', f'"><time>{stamp}</time></trkpt>'.encode(), 1
    )
    error = refused(read_gpx, data)
    assert error.code == "bad_time"
    assert stamp in error.reason
