"""Export for after the event: every track, fix and check-in as GeoPackage, GeoJSON and GPX.

Organiser-only. Memory stays flat in the number of fixes and fixes keep flowing during an
export: the stored positions are read in chunks from a separate read-only SQLite connection
in a worker thread (`tracking.exports`), and each chunk is encoded and streamed before the
next is read. Only a small snapshot (walkers' names and statuses, check-ins) is taken on the
event loop. The GeoPackage is written chunk by chunk into a temporary file in a thread, then
sent and deleted (GeoPackage is SQLite: it cannot be streamed as it is written).

Phone numbers are not exported; names, bibs and teams are (the file is for the organisers).
A track holds the accepted positions (as on the dashboard); the `fixes` layer holds every
stored position with its quality flags.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from tracking import exports
from tracking.engine import Engine
from tracking.exports import Snapshot
from tracking.web.context import view_context
from tracking.web.cpu import cpu_gate
from tracking.web.deps import require_organiser, settings, tracker

router = APIRouter(prefix="/api/export", tags=["export"], dependencies=[Depends(require_organiser)])

FILE_PREFIX = "refugee-walk"
GEOJSON = "application/geo+json"


def snapshot(t: Engine) -> Snapshot:
    """Walkers and check-ins as plain rows (on the event loop; a few thousand at most)."""
    ctx = view_context(t)
    walkers = {}
    checkins = []
    for state in list(t.walkers.values()):
        r = state.record
        walkers[r.id] = {
            "walker_id": r.id,
            "name": r.name,
            "bib": r.bib,
            "team": r.team,
            "route_id": r.route_id,
            "status": ctx.status(state),
            "distance_along_m": round(state.progress.distance_along_m, 1),
        }
        points = {cp.id: cp for cp in state.route.checkpoints} if state.route else {}
        for c in sorted(state.checkins.values(), key=lambda c: c.at):
            cp = points.get(c.checkpoint_id)
            checkins.append(
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
                }
            )
    return Snapshot(t.event.name, walkers, checkins)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{FILE_PREFIX}-{name}"'}


def _source(request: Request) -> tuple[Snapshot, Path, int]:
    s = settings(request)
    return snapshot(tracker(request)), s.db_path, s.export_chunk_rows


def _stream(chunks: Iterator[bytes], media_type: str, name: str) -> StreamingResponse:
    # A sync iterator: Starlette pulls each chunk in a worker thread, off the event loop.
    return StreamingResponse(chunks, media_type=media_type, headers=_attachment(name))


@router.get("/tracks.geojson", response_class=StreamingResponse)
async def tracks_geojson(request: Request) -> StreamingResponse:
    """Each walker's track as a LineString (accepted positions, in time order)."""
    return _stream(exports.geojson_tracks(*_source(request)), GEOJSON, "tracks.geojson")


@router.get("/fixes.geojson", response_class=StreamingResponse)
async def fixes_geojson(request: Request) -> StreamingResponse:
    """Every stored position as a Point, with its quality flags (`on_track` as on the map)."""
    return _stream(exports.geojson_fixes(*_source(request)), GEOJSON, "fixes.geojson")


@router.get("/checkins.geojson")
async def checkins_geojson(request: Request) -> Response:
    """Every check-in as a Point at its check-in point, with the walker and the time."""
    body = exports.geojson_checkins(snapshot(tracker(request)))
    return Response(body, media_type=GEOJSON, headers=_attachment("checkins.geojson"))


@router.get("/tracks.gpkg", response_class=FileResponse)
async def tracks_geopackage(request: Request) -> FileResponse:
    """One GeoPackage with the layers `tracks`, `fixes` and `checkins`."""
    path = await cpu_gate(request).run(exports.geopackage, *_source(request))
    return FileResponse(
        path,
        media_type="application/geopackage+sqlite3",
        filename=f"{FILE_PREFIX}-tracks.gpkg",
        background=BackgroundTask(os.unlink, path),
    )


@router.get("/tracks.gpx", response_class=StreamingResponse)
async def tracks_gpx(request: Request) -> StreamingResponse:
    """GPX 1.1 with one track per walker and the check-ins as waypoints."""
    return _stream(exports.gpx(*_source(request)), "application/gpx+xml", "tracks.gpx")
