"""The event's routes as plain JSON, built once: the API (/api/routes), the command
(`refugee-walk routes --json [--geometry]`) and the dashboard's page all show this. Pure."""

from __future__ import annotations

from typing import Any

from routes.event import Event, EventRoute
from routes.prepared import PreparedRoute


def route_geometry(route: PreparedRoute) -> dict[str, Any]:
    """The route as a GeoJSON LineString (lon, lat, 6 decimals: about 10 cm)."""
    coords = zip(route.lons.tolist(), route.lats.tolist(), strict=True)
    return {
        "type": "LineString",
        "coordinates": [[round(lon, 6), round(lat, 6)] for lon, lat in coords],
    }


def route_view(er: EventRoute, geometry: bool = False) -> dict[str, Any]:
    """One route: length, ascent, start times and each check-in point with its closing time."""
    route = er.route
    view: dict[str, Any] = {
        "id": er.id,
        "name": er.name,
        "distance_m": round(route.length_m, 1),
        "ascent_m": round(route.elevation.ascent_m, 1) if route.elevation else None,
        "starts": [s.isoformat() for s in er.starts],
        "checkpoints": [
            {
                "id": cp.id,
                "name": cp.name,
                "kind": cp.kind,
                "distance_along_m": round(cp.distance_along_m, 1),
                "lat": cp.lat,
                "lon": cp.lon,
                "closes_at": er.closing[cp.id].isoformat() if cp.id in er.closing else None,
            }
            for cp in route.checkpoints
        ],
    }
    if geometry:
        view["geometry"] = route_geometry(route)
    return view


def routes_view(event: Event, geometry: bool = False) -> list[dict[str, Any]]:
    return [route_view(er, geometry) for er in event.routes.values()]
