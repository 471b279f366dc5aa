"""Write routes back to GPX 1.1 (export an event route; save a planned personal route)."""

from __future__ import annotations

from collections.abc import Iterable

import gpxpy.gpx

from routes.checkpoints import Checkpoint


def route_to_gpx(
    name: str,
    points: Iterable[tuple[float, float]],
    checkpoints: Iterable[Checkpoint] = (),
    desc: str = "",
    elevations: Iterable[float | None] | None = None,
) -> str:
    """A GPX 1.1 document with one track of `(lon, lat)` points and check-in waypoints."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "refugee-walk"
    gpx.name = name
    gpx.description = desc or None
    for cp in checkpoints:
        gpx.waypoints.append(
            gpxpy.gpx.GPXWaypoint(
                latitude=cp.lat,
                longitude=cp.lon,
                name=cp.name,
                type=cp.kind,
                description=f"{cp.distance_along_m / 1000:.1f} km",
            )
        )
    track = gpxpy.gpx.GPXTrack(name=name)
    segment = gpxpy.gpx.GPXTrackSegment()
    eles = list(elevations) if elevations is not None else None
    for i, (lon, lat) in enumerate(points):
        ele = eles[i] if eles is not None else None
        segment.points.append(gpxpy.gpx.GPXTrackPoint(latitude=lat, longitude=lon, elevation=ele))
    track.segments.append(segment)
    gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")
