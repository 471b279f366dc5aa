"""Export for after the event: every track, fix and check-in as GeoPackage, GeoJSON and GPX.

Organiser-only. The stored history is read on the event loop one walker at a time (yielding
between walkers, so fixes keep flowing during an export); the files are built in a worker
thread. geopandas is imported there, lazily: it is heavy and has no place on the path of a fix.

Phone numbers are not exported; names, bibs and teams are (the file is for the organisers).
A track holds the accepted positions (as on the dashboard); the `fixes` layer holds every
stored position with its quality flags.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from tracking.engine import Engine
from tracking.web.context import view_context
from tracking.web.deps import require_organiser, tracker

router = APIRouter(prefix="/api/export", tags=["export"], dependencies=[Depends(require_organiser)])

FILE_PREFIX = "refugee-walk"
WALKERS_PER_YIELD = 20
TRACK_FLAGS = ((), ("late",))  # positions that count for the track (as /api/walkers/{id}/track)
GEOJSON = "application/geo+json"


@dataclass
class Collected:
    """Plain columns read from storage; no geopandas needed to build them."""

    walkers: list[dict[str, Any]] = field(default_factory=list)
    fixes: dict[str, list[Any]] = field(default_factory=dict)
    checkins: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, table: dict[str, list[Any]], row: dict[str, Any]) -> None:
        for key, value in row.items():
            table.setdefault(key, []).append(value)


async def collect(t: Engine) -> Collected:
    """Every walker, stored fix and check-in, read a few walkers at a time."""
    ctx = view_context(t)
    out = Collected()
    assert t.store is not None
    for n, state in enumerate(list(t.walkers.values()), start=1):
        r = state.record
        out.walkers.append(
            {
                "walker_id": r.id,
                "name": r.name,
                "bib": r.bib,
                "team": r.team,
                "route_id": r.route_id,
                "status": ctx.status(state),
                "distance_along_m": round(state.progress.distance_along_m, 1),
            }
        )
        for stored in await t.read(t.store.fixes, r.id):
            f = stored.fix
            out.add(
                out.fixes,
                {
                    "walker_id": r.id,
                    "bib": r.bib,
                    "recorded_at": f.recorded_at,
                    "lon": f.lon,
                    "lat": f.lat,
                    "accuracy_m": f.accuracy_m,
                    "speed_mps": f.speed_mps,
                    "altitude_m": f.altitude_m,
                    "battery_pct": f.battery_pct,
                    "source": f.source,
                    "sos": f.sos,
                    "flags": ",".join(stored.flags),
                    "on_track": stored.flags in TRACK_FLAGS,
                    "distance_along_m": stored.distance_along_m,
                    "offset_m": stored.offset_m,
                },
            )
        points = {cp.id: cp for cp in state.route.checkpoints} if state.route else {}
        for c in sorted(state.checkins.values(), key=lambda c: c.at):
            cp = points.get(c.checkpoint_id)
            out.add(
                out.checkins,
                {
                    "walker_id": r.id,
                    "name": r.name,
                    "bib": r.bib,
                    "route_id": r.route_id,
                    "checkpoint_id": c.checkpoint_id,
                    "checkpoint_name": cp.name if cp else "",
                    "at": c.at,
                    "source": c.source,
                    "out_of_order": c.out_of_order,
                    "lon": cp.lon if cp else None,
                    "lat": cp.lat if cp else None,
                },
            )
        if n % WALKERS_PER_YIELD == 0:
            await asyncio.sleep(0)
    return out


# --- building the files (in a worker thread) -------------------------------------------------------
def frames(c: Collected) -> dict[str, Any]:
    """GeoDataFrames `tracks` (one line per walker), `fixes` and `checkins` (points), WGS84."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString

    fixes = pd.DataFrame(c.fixes or {k: [] for k in FIX_COLUMNS})
    for column in NUMBER_COLUMNS:  # all-None columns would otherwise be stored as text
        fixes[column] = pd.to_numeric(fixes[column]).astype("float64")
    fixes_gdf = gpd.GeoDataFrame(
        fixes.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(fixes["lon"], fixes["lat"]),
        crs="EPSG:4326",
    )
    track_rows = []
    on_track = fixes[fixes["on_track"]] if len(fixes) else fixes
    by_walker = (
        {wid: g for wid, g in on_track.groupby("walker_id", sort=False)} if len(fixes) else {}
    )
    for w in c.walkers:
        g = by_walker.get(w["walker_id"])
        if g is None or len(g) < 2:
            continue
        g = g.sort_values("recorded_at")
        track_rows.append(
            {
                **w,
                "fixes": len(g),
                "started_at": g["recorded_at"].iloc[0],
                "ended_at": g["recorded_at"].iloc[-1],
                "geometry": LineString(list(zip(g["lon"], g["lat"], strict=True))),
            }
        )
    tracks = gpd.GeoDataFrame(
        track_rows or {k: [] for k in (*TRACK_COLUMNS, "geometry")},
        geometry="geometry",
        crs="EPSG:4326",
    )
    checkins = pd.DataFrame(c.checkins or {k: [] for k in CHECKIN_COLUMNS})
    located = checkins.dropna(subset=["lon", "lat"]) if len(checkins) else checkins
    checkins_gdf = gpd.GeoDataFrame(
        located.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(located["lon"], located["lat"]),
        crs="EPSG:4326",
    )
    return {"tracks": tracks, "fixes": fixes_gdf, "checkins": checkins_gdf}


FIX_COLUMNS = (
    "walker_id",
    "bib",
    "recorded_at",
    "lon",
    "lat",
    "accuracy_m",
    "speed_mps",
    "altitude_m",
    "battery_pct",
    "source",
    "sos",
    "flags",
    "on_track",
    "distance_along_m",
    "offset_m",
)
NUMBER_COLUMNS = (
    "lon",
    "lat",
    "accuracy_m",
    "speed_mps",
    "altitude_m",
    "battery_pct",
    "distance_along_m",
    "offset_m",
)
TRACK_COLUMNS = (
    "walker_id",
    "name",
    "bib",
    "team",
    "route_id",
    "status",
    "distance_along_m",
    "fixes",
    "started_at",
    "ended_at",
)
CHECKIN_COLUMNS = (
    "walker_id",
    "name",
    "bib",
    "route_id",
    "checkpoint_id",
    "checkpoint_name",
    "at",
    "source",
    "out_of_order",
    "lon",
    "lat",
)


def geojson(gdf: Any) -> str:
    """GeoJSON text; times as ISO-8601 strings (GeoJSON has no date type)."""
    out = gdf.copy()
    for column in out.columns:
        if column != out.geometry.name and str(out[column].dtype).startswith("datetime64"):
            out[column] = out[column].map(lambda v: v.isoformat() if v is not None else None)
    return str(out.to_json(drop_id=True, ensure_ascii=False))


def geopackage(c: Collected) -> str:
    """A GeoPackage file (a temporary path) with the layers tracks, fixes and checkins."""
    fd, path = tempfile.mkstemp(suffix=".gpkg", prefix="refugee-walk-export-")
    os.close(fd)
    os.unlink(path)  # the driver wants to create the file itself
    for layer, gdf in frames(c).items():
        gdf.to_file(path, layer=layer, driver="GPKG")
    return path


def gpx(c: Collected, event_name: str) -> str:
    """GPX 1.1: one track per walker (accepted positions), and each check-in as a waypoint."""
    import gpxpy.gpx

    doc = gpxpy.gpx.GPX()
    doc.name = f"{event_name}: walkers' tracks"
    doc.creator = "Refugee Walk"
    points: dict[str, list[gpxpy.gpx.GPXTrackPoint]] = {}
    rows = zip(
        c.fixes.get("walker_id", []),
        c.fixes.get("on_track", []),
        c.fixes.get("lat", []),
        c.fixes.get("lon", []),
        c.fixes.get("altitude_m", []),
        c.fixes.get("recorded_at", []),
        strict=True,
    )
    for walker_id, on_track, lat, lon, ele, at in rows:
        if on_track:
            points.setdefault(walker_id, []).append(
                gpxpy.gpx.GPXTrackPoint(lat, lon, elevation=ele, time=at)
            )
    for w in c.walkers:
        pts = sorted(points.get(w["walker_id"], []), key=lambda p: p.time or datetime.min)
        if not pts:
            continue
        track = gpxpy.gpx.GPXTrack(name=_label(w["name"], w["bib"]))
        track.description = f"route {w['route_id']}, walker {w['walker_id']}, {w['status']}"
        segment = gpxpy.gpx.GPXTrackSegment()
        segment.points.extend(pts)
        track.segments.append(segment)
        doc.tracks.append(track)
    ci = c.checkins
    for i in range(len(ci.get("walker_id", []))):
        if ci["lat"][i] is None:
            continue
        doc.waypoints.append(
            gpxpy.gpx.GPXWaypoint(
                ci["lat"][i],
                ci["lon"][i],
                time=ci["at"][i],
                name=f"{_label(ci['name'][i], ci['bib'][i])} – {ci['checkpoint_name'][i]}",
                type="check-in",
            )
        )
    return str(doc.to_xml(version="1.1"))


def _label(name: str, bib: str) -> str:
    return f"{name} #{bib}" if bib else name


# --- endpoints -----------------------------------------------------------------------------------------
def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{FILE_PREFIX}-{name}"'}


@router.get("/tracks.geojson")
async def tracks_geojson(request: Request) -> Response:
    """Each walker's track as a LineString (accepted positions, in time order)."""
    c = await collect(tracker(request))
    text = await run_in_threadpool(lambda: geojson(frames(c)["tracks"]))
    return Response(text, media_type=GEOJSON, headers=_attachment("tracks.geojson"))


@router.get("/fixes.geojson")
async def fixes_geojson(request: Request) -> Response:
    """Every stored position as a Point, with its quality flags (`on_track` as on the map)."""
    c = await collect(tracker(request))
    text = await run_in_threadpool(lambda: geojson(frames(c)["fixes"]))
    return Response(text, media_type=GEOJSON, headers=_attachment("fixes.geojson"))


@router.get("/checkins.geojson")
async def checkins_geojson(request: Request) -> Response:
    """Every check-in as a Point at its check-in point, with the walker and the time."""
    c = await collect(tracker(request))
    text = await run_in_threadpool(lambda: geojson(frames(c)["checkins"]))
    return Response(text, media_type=GEOJSON, headers=_attachment("checkins.geojson"))


@router.get("/tracks.gpkg")
async def tracks_geopackage(request: Request) -> FileResponse:
    """One GeoPackage with the layers `tracks`, `fixes` and `checkins`."""
    c = await collect(tracker(request))
    path = await run_in_threadpool(geopackage, c)
    return FileResponse(
        path,
        media_type="application/geopackage+sqlite3",
        filename=f"{FILE_PREFIX}-tracks.gpkg",
        background=BackgroundTask(os.unlink, path),
    )


@router.get("/tracks.gpx")
async def tracks_gpx(request: Request) -> Response:
    """GPX 1.1 with one track per walker and the check-ins as waypoints."""
    t = tracker(request)
    c = await collect(t)
    text = await run_in_threadpool(gpx, c, t.event.name)
    return Response(text, media_type="application/gpx+xml", headers=_attachment("tracks.gpx"))
