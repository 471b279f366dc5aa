"""`refugee-walk map`: the event's routes as one HTML file that opens without a server.

Leaflet is written into the file, so it works from a USB stick or a mail attachment; only the
background tiles need a connection, and the routes stay visible without them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maps.event_map import event_map
from maps.offline import page_html
from tracking.commands.common import add_event_option, event_or_exit
from tracking.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("map", help="write a standalone HTML map of the event's routes")
    add_event_option(parser)
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.html", help="file to write"
    )
    parser.add_argument(
        "--tiles",
        default=None,
        metavar="URL",
        help="XYZ tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png "
        "(default: the tile_url setting; an empty string draws no tiles)",
    )
    parser.add_argument(
        "--attribution",
        default=None,
        help="tile attribution (default: the tile_attribution setting)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    event = event_or_exit(args.event)
    fmap = event_map(
        [(er.id, er.name, er.route) for er in event.routes.values()],
        tiles_url=settings.tile_url if args.tiles is None else args.tiles,
        attribution=args.attribution or settings.tile_attribution,
        mode="inline",
    )
    page = page_html(fmap, title=f"{event.name} — routes")
    out: Path = args.out
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"refugee-walk: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(out.resolve())
    return 0
