"""`refugee-walk routes`: each route of an event with its length, ascent and check-in points."""

from __future__ import annotations

import argparse
import json

from tracking.commands.common import add_event_option, event_or_exit
from tracking.route_views import routes_view


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


def run(args: argparse.Namespace) -> int:
    event = event_or_exit(args.event)
    summary = routes_view(event, geometry=args.geometry and args.json)
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
