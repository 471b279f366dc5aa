"""Public route endpoints: the event's routes with check-in points, and each route as GPX."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from routes.gpx_writer import route_to_gpx
from tracking.route_views import routes_view
from tracking.web.deps import tracker

router = APIRouter(tags=["routes"])


@router.get("/api/event")
async def get_event(request: Request) -> dict:
    e = tracker(request).event
    return {
        "name": e.name,
        "date": e.date.isoformat(),
        "timezone": e.timezone.key,
        "organiser_phone": e.organiser_phone,
        "checkin_radius_m": e.checkin_radius_m,
    }


@router.get("/api/routes")
async def list_routes(request: Request) -> list[dict]:
    """The event's routes with their check-in points (as `refugee-walk routes --json`)."""
    return routes_view(tracker(request).event)


@router.get("/api/routes/{route_id}.gpx")
async def route_gpx(request: Request, route_id: str) -> Response:
    event = tracker(request).event
    if route_id not in event.routes:
        raise HTTPException(404, detail=f"no route {route_id!r}; see /api/routes")
    er = event.routes[route_id]
    r = er.route
    xml = route_to_gpx(
        f"{event.name} – {er.name}",
        zip(r.lons.tolist(), r.lats.tolist(), strict=True),
        r.checkpoints,
    )
    return Response(
        xml,
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="{route_id}.gpx"'},
    )
