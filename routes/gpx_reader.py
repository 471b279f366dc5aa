"""Read GPX bytes into a `GpxDocument`, refusing hostile or broken files with a clear reason.

gpxpy parses; this module guards it: a size limit before anything is parsed, no DOCTYPE or
entity declaration (entity bombs, external entities), text decoded by its declared encoding,
a streaming pre-scan (`routes.gpx_scan`) that bounds nesting depth, element, point and
waypoint counts before gpxpy builds or copies any tree, coordinates checked for range and
finiteness (gpxpy accepts latitude 95 and NaN), and times that exist in UTC.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import gpxpy
import gpxpy.gpx

from routes.errors import GpxReadError, GpxTooLargeError
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint, GpxWaypoint
from routes.gpx_scan import ScanLimits, scan

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_POINTS = 50_000  # a 40 km walk recorded every second for 12 hours has 43,200
DEFAULT_MAX_WAYPOINTS = 10_000
DEFAULT_MAX_DEPTH = 32  # GPX with extensions nests about 7 deep
DEFAULT_MAX_ELEMENTS = 600_000  # 50,000 points with time, elevation and a few extensions

_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?gpx[\s>/]")


def read_gpx(
    data: bytes,
    source: str = "upload",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_points: int = DEFAULT_MAX_POINTS,
    max_waypoints: int = DEFAULT_MAX_WAYPOINTS,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
) -> GpxDocument:
    """Parse a GPX file; raise `GpxReadError` naming `source` and the reason when it is unusable.

    Every limit is checked while the text streams through expat, before gpxpy runs, so the
    work spent on a refused file is bounded by its size.
    """
    if len(data) > max_bytes:
        raise GpxTooLargeError(
            source,
            "too_large",
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
        )
    text = _decode(data, source)
    _refuse_unsafe_or_foreign(text, source)
    scan(text, source, ScanLimits(max_depth, max_elements, max_points, max_waypoints))
    gpx = _parse(text, source)
    doc = _document(gpx, source)
    if len(doc.points) > max_points:
        raise GpxReadError(
            source, "too_many_points", f"{len(doc.points)} points; the limit is {max_points}"
        )
    return doc


def read_route_gpx(data: bytes, source: str = "upload", **limits: int) -> GpxDocument:
    """Like `read_gpx`, but also refuse files with fewer than two track or route points."""
    doc = read_gpx(data, source, **limits)
    if len(doc.points) < 2:
        what = "only waypoints" if doc.waypoints and not doc.points else "fewer than two points"
        raise GpxReadError(
            source,
            "too_few_points",
            f"the file has {what}; a route needs a track (<trk>) or a route (<rte>) "
            "with at least two points",
        )
    return doc


def _decode(data: bytes, source: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, data = "utf-8", data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        match = _DECLARED_ENCODING.match(data.lstrip())
        encoding = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise GpxReadError(
            source, "bad_encoding", f"the file declares an unknown encoding '{encoding}'"
        ) from None
    except UnicodeDecodeError as exc:
        raise GpxReadError(
            source,
            "bad_encoding",
            f"the file is not valid {encoding} text (byte {exc.start}); "
            "save it as UTF-8 or declare its real encoding",
        ) from None
    # The text is now decoded; drop the declaration so the XML parser does not decode again.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text.lstrip("\ufeff"), count=1)


def _refuse_unsafe_or_foreign(text: str, source: str) -> None:
    if _FORBIDDEN.search(text):
        raise GpxReadError(
            source,
            "forbidden_dtd",
            "the file contains a DOCTYPE or entity declaration, which GPX never needs "
            "and which is refused for safety",
        )
    head = text.lstrip()[:1]
    if head != "<":
        raise GpxReadError(source, "not_xml", "the file is not XML (is it a GPX file?)")
    if not _ROOT.search(_without_comments(text[:65536])):
        raise GpxReadError(source, "not_gpx", "the file is XML but not GPX (no <gpx> element)")


def _without_comments(head: str) -> str:
    return re.sub(r"<!--.*?-->|<\?.*?\?>", "", head, flags=re.DOTALL)


def _parse(text: str, source: str) -> gpxpy.gpx.GPX:
    try:
        return gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as exc:
        reason = str(exc).replace("Error parsing XML: ", "")
        raise GpxReadError(
            source, "broken_xml", f"the XML is broken or cut off ({reason})"
        ) from None
    except (gpxpy.gpx.GPXException, ValueError, TypeError) as exc:
        if "could not convert string to float" in str(exc):
            value = str(exc).rsplit(":", 1)[-1].strip(" )")
            raise GpxReadError(
                source,
                "bad_coordinates",
                f"a latitude, longitude or elevation is not a number ({value})",
            ) from None
        raise GpxReadError(
            source, "bad_value", f"a value in the file cannot be read ({_short(exc)})"
        ) from None


def _short(exc: Exception) -> str:
    msg = str(exc)
    return msg if len(msg) < 160 else msg[:157] + "..."


def _document(gpx: gpxpy.gpx.GPX, source: str) -> GpxDocument:
    tracks = tuple(
        GpxPart("track", track.name or "", _points(seg.points, source))
        for track in gpx.tracks
        for seg in track.segments
        if seg.points
    )
    routes = tuple(
        GpxPart("route", route.name or "", _points(route.points, source))
        for route in gpx.routes
        if route.points
    )
    waypoints = tuple(
        GpxWaypoint(
            lon=_lon(w.longitude, source),
            lat=_lat(w.latitude, source),
            name=(w.name or "").strip(),
            type=(w.type or "").strip(),
            desc=(w.description or "").strip(),
        )
        for w in gpx.waypoints
    )
    name = gpx.name or next((t.name for t in gpx.tracks if t.name), None) or ""
    name = name or next((r.name for r in gpx.routes if r.name), "")
    return GpxDocument(
        source=source,
        name=name.strip(),
        desc=(gpx.description or "").strip(),
        creator=(gpx.creator or "").strip(),
        parts=tracks or routes,
        waypoints=waypoints,
    )


def _points(
    points: list[gpxpy.gpx.GPXTrackPoint] | list[gpxpy.gpx.GPXRoutePoint], source: str
) -> tuple[GpxPoint, ...]:
    return tuple(
        GpxPoint(
            lon=_lon(p.longitude, source),
            lat=_lat(p.latitude, source),
            ele_m=p.elevation if p.elevation is not None and math.isfinite(p.elevation) else None,
            time=_utc(p.time, source) if p.time else None,
        )
        for p in points
    )


def _utc(value: datetime, source: str) -> datetime:
    """The point's time in UTC; year 1 with a positive offset (or 9999, negative) is refused."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise GpxReadError(
            source,
            "bad_time",
            f"the time {value.isoformat()} falls outside the years 1 to 9999 in UTC",
        ) from None


def _lat(value: float, source: str) -> float:
    if not (isinstance(value, float | int) and math.isfinite(value) and -90 <= value <= 90):
        raise GpxReadError(
            source, "bad_coordinates", f"latitude {value} is not a number between -90 and 90"
        )
    return float(value)


def _lon(value: float, source: str) -> float:
    if not (isinstance(value, float | int) and math.isfinite(value) and -180 <= value <= 180):
        raise GpxReadError(
            source, "bad_coordinates", f"longitude {value} is not a number between -180 and 180"
        )
    return float(value)
