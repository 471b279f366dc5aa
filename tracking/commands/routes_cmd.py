"""`refugee-walk routes`: each route of an event with its length, ascent and check-in points."""

from __future__ import annotations

import argparse
import json

from routes.event import Event
from routes.prepared import PreparedRoute
from tracking.commands.common import add_event_option, event_or_exit


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("routes", help="list the event's routes and check-in points")
    add_event_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--geometry",
        action="store_true",
        help="with --json: each route's line as GeoJSON (lon, lat; WGS84)",
    )
    parser.set_defaults(func=run)


def route_geometry(route: PreparedRoute) -> dict:
    """The route as a GeoJSON LineString (lon, lat, 6 decimals: about 10 cm)."""
    coords = zip(route.lons.tolist(), route.lats.tolist(), strict=True)
    return {
        "type": "LineString",
        "coordinates": [[round(lon, 6), round(lat, 6)] for lon, lat in coords],
    }


def routes_summary(event: Event, geometry: bool = False) -> list[dict]:
    out = []
    for er in event.routes.values():
        route = er.route
        out.append(
            {
                "id": er.id,
                "name": er.name,
                "distance_m": round(route.length_m, 1),
                "ascent_m": round(route.elevation.ascent_m, 1) if route.elevation else None,
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
        )
        if geometry:
            out[-1]["geometry"] = route_geometry(route)
    return out


def run(args: argparse.Namespace) -> int:
    event = event_or_exit(args.event)
    summary = routes_summary(event, geometry=args.geometry and args.json)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    print(f"{event.name} — {event.date.isoformat()} ({event.timezone.key})")
    for r in summary:
        ascent = f", ascent {r['ascent_m']:.0f} m" if r["ascent_m"] is not None else ""
        print(f"\n{r['id']}: {r['name']} — {r['distance_m'] / 1000:.2f} km{ascent}")
        for cp in r["checkpoints"]:
            closes = f"  closes {cp['closes_at'][11:16]}" if cp["closes_at"] else ""
            print(f"  {cp['distance_along_m'] / 1000:6.2f} km  {cp['name']}{closes}")
    return 0
