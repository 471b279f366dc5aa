"""`refugee-walk simulate`: simulated walkers against a running server, as a load generator.

The walkers are registered through the organiser API (one CSV import) and their phones send
through the real protocols, so the load is what 2,000 phones would bring: many small
requests, each walker's fixes in order. The routes come from the server itself
(/api/routes and the GPX of each route), so any server can be the target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from datetime import UTC, datetime

from routes.errors import GpxReadError
from routes.gpx_reader import read_route_gpx
from routes.prepared import PreparedRoute, prepare_route
from tracking import load

REPORT_EVERY_S = 10.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate", help="send simulated walkers to a running server (load generator)"
    )
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--organiser-token",
        default=None,
        help="organiser token (default: $REFUGEE_WALK_ORGANISER_TOKEN)",
    )
    parser.add_argument(
        "--walkers", type=int, default=200, metavar="N", help="walkers to register (default 200)"
    )
    parser.add_argument(
        "--speed-up",
        type=float,
        default=1.0,
        metavar="X",
        help="walkers move X times faster; start the server with "
        "REFUGEE_WALK_MAX_SPEED_KMH raised as much (default 1)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between two positions of one phone (default 10)",
    )
    parser.add_argument(
        "--duration", type=float, default=60.0, metavar="S", help="run this long (default 60)"
    )
    parser.add_argument(
        "--protocols",
        default="web:0.5,traccar:0.3,owntracks:0.2",
        help="protocol mix, e.g. web:1 or web:0.4,traccar:0.2,traccar-json:0.2,"
        f"osmand:0.1,owntracks:0.1 (known: {', '.join(load.PROTOCOLS)})",
    )
    parser.add_argument(
        "--head-start-hours",
        type=float,
        default=3.0,
        metavar="H",
        help="spread walkers over the first H hours of their walk (default 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(func=run)


def parse_mix(text: str) -> dict[str, float]:
    """'web:0.5,traccar:0.5' -> {'web': 0.5, 'traccar': 0.5}; ValueError naming what is wrong."""
    mix = {}
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in load.PROTOCOLS:
            raise ValueError(f"unknown protocol {name!r}; use {', '.join(load.PROTOCOLS)}")
        mix[name] = float(weight or 1)
        if mix[name] < 0:
            raise ValueError(f"the weight of {name} is negative")
    if sum(mix.values()) <= 0:
        raise ValueError("give at least one protocol a positive weight")
    return mix


def run(args: argparse.Namespace) -> int:
    token = args.organiser_token or os.environ.get("REFUGEE_WALK_ORGANISER_TOKEN", "")
    if not token:
        print(
            "refugee-walk: give --organiser-token or set REFUGEE_WALK_ORGANISER_TOKEN",
            file=sys.stderr,
        )
        return 2
    try:
        mix = parse_mix(args.protocols)
    except ValueError as exc:
        print(f"refugee-walk: --protocols: {exc}", file=sys.stderr)
        return 2
    if args.speed_up > 1:
        print(
            f"Walkers move {args.speed_up:g}x faster than walking while their fixes carry the real "
            f"time: the server must run with REFUGEE_WALK_MAX_SPEED_KMH of at least "
            f"{15 * args.speed_up:g}, or their fixes are flagged as impossibly fast.",
            file=sys.stderr,
        )
    try:
        return asyncio.run(_simulate(args, token, mix))
    except RuntimeError as exc:
        print(f"refugee-walk: {exc}", file=sys.stderr)
        return 1


async def check_token(client, base_url: str, token: str) -> None:
    """Refuse at once, before any walker is registered, when the server refuses the token."""
    response = await client.get(
        f"{base_url}/api/overview", headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code in (401, 403):
        raise RuntimeError(
            f"the server at {base_url} does not accept this organiser token (HTTP "
            f"{response.status_code}); give the one it printed at its first start, with "
            "--organiser-token or REFUGEE_WALK_ORGANISER_TOKEN. No walkers were registered."
        )


async def fetch_routes(client, base_url: str) -> dict[str, PreparedRoute]:
    """The server's routes, prepared here from their GPX (with check-in points and rest stops)."""
    response = await client.get(f"{base_url}/api/routes")
    if response.status_code != 200:
        raise RuntimeError(f"{base_url}/api/routes answered HTTP {response.status_code}")
    routes = {}
    for item in response.json():
        gpx = await client.get(f"{base_url}/api/routes/{item['id']}.gpx")
        try:
            doc = read_route_gpx(gpx.content, f"route {item['id']}")
        except GpxReadError as exc:
            raise RuntimeError(str(exc)) from None
        routes[item["id"]] = prepare_route(doc, route_id=item["id"], name=item["name"])
    return routes


async def _simulate(args: argparse.Namespace, token: str, mix: dict[str, float]) -> int:
    import httpx

    base_url = args.url.rstrip("/")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    stats = load.Stats()
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        try:
            await check_token(client, base_url, token)
            routes = await fetch_routes(client, base_url)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"cannot reach {base_url}: {exc}") from None
        now = datetime.now(UTC)
        specs = load.walker_specs(
            args.walkers,
            routes,
            now,
            seed=args.seed,
            mix=mix,
            head_start_h=args.head_start_hours,
            scenario=False,
            bib_prefix=f"S{secrets.token_hex(2)}-",
        )
        rows = await load.register(client, base_url, token, specs)
        print(
            f"{len(rows)} walkers registered on {base_url}; sending for {args.duration:g} s",
            flush=True,
        )
        phones = load.make_phones(specs, rows, routes, seed=args.seed)
        sim = asyncio.create_task(
            load.run_phones(
                client,
                phones,
                base_url,
                load.SimClock(now, args.speed_up),
                stop,
                args.interval,
                stats,
                seed=args.seed,
            )
        )
        end = loop.time() + args.duration
        while not stop.is_set() and loop.time() < end:
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(REPORT_EVERY_S, end - loop.time()))
            except TimeoutError:
                print(stats.summary(), flush=True)
        stop.set()
        await sim
    print(f"Done. {stats.summary()}", flush=True)
    return 1 if stats.errors else 0
