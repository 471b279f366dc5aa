"""`refugee-walk demo`: the service on a fresh database with simulated walkers, in one command.

The server runs in this process on the bundled event, moved to today so that no check-in
point has closed. Simulated phones send their positions over HTTP through the real protocols
(walker page, Traccar Client, OwnTracks), so everything from decoding to the live map is the
real thing. Time is compressed: walkers move `--speed-up` times faster while their fixes carry
the real time, so the server's speed limit is raised and its alert delays shortened to match.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from routes.event import Event, closing_times
from tracking import load
from tracking.commands.common import add_event_option, event_or_exit
from tracking.load import PROTOCOLS, SimClock, Stats, WalkerSpec
from tracking.settings import Settings

PROTOCOL_NAMES = {
    "web": "walker page",
    "traccar": "Traccar Client",
    "traccar-json": "Traccar Client 9",
    "osmand": "OsmAnd",
    "owntracks": "OwnTracks",
}
ROLE_NAMES = {"sos": "sends an SOS", "silent": "phone goes silent", "off_route": "leaves the route"}
STATUS_EVERY_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="run the service with simulated walkers: a live map in one command"
    )
    add_event_option(parser)
    parser.add_argument(
        "--walkers", type=int, default=300, metavar="N", help="simulated walkers (default 300)"
    )
    parser.add_argument(
        "--speed-up",
        type=float,
        default=20.0,
        metavar="X",
        help="walkers move X times faster than real walkers (default 20)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="a new SQLite file to use (default: a temporary one, deleted at exit)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds between two positions of one phone (default 5)",
    )
    parser.add_argument(
        "--head-start-hours",
        type=float,
        default=2.0,
        metavar="H",
        help="spread walkers over the first H hours of their walk (default 2)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.set_defaults(func=run)


def demo_event(event: Event, now: datetime) -> Event:
    """The event moved to today, every route starting at the next minute: nothing has closed."""
    local = now.astimezone(event.timezone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    routes = {
        rid: replace(
            er, starts=(local,), closing=closing_times(er.route, local, event.slowest_pace_kmh)
        )
        for rid, er in event.routes.items()
    }
    return replace(event, date=local.date(), routes=routes)


def demo_settings(base: Settings, speed_up: float, db_path: Path, token: str) -> Settings:
    """Speed limit raised and alert delays shortened by the speed-up, so alerts fit the demo."""
    return replace(
        base,
        db_path=db_path,
        organiser_token=token,
        max_speed_kmh=base.max_speed_kmh * speed_up,
        silent_minutes=base.silent_minutes / speed_up,
        stationary_minutes=base.stationary_minutes / speed_up,
        off_route_minutes=base.off_route_minutes / speed_up,
    )


def local_url(settings: Settings) -> str:
    """Where this machine reaches the server (0.0.0.0 listens everywhere, 127.0.0.1 reaches it)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    return f"http://{host}:{settings.port}"


def run(args: argparse.Namespace) -> int:
    if args.walkers < 1 or args.speed_up <= 0 or args.interval <= 0:
        print(
            "refugee-walk: --walkers, --speed-up and --interval must be positive", file=sys.stderr
        )
        return 2
    if args.db is not None and args.db.exists():
        print(
            f"refugee-walk: {args.db} exists; the demo needs a new database file", file=sys.stderr
        )
        return 2
    now = datetime.now(UTC)
    event = demo_event(event_or_exit(args.event), now)
    with _database(args.db) as db_path:
        base = Settings.from_env(host=args.host, port=args.port)
        settings = demo_settings(base, args.speed_up, db_path, secrets.token_urlsafe(18))
        return asyncio.run(_demo(args, settings, event, now))


@contextlib.contextmanager
def _database(path: Path | None) -> Iterator[Path]:
    if path is not None:
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="refugee-walk-demo-"))
    try:
        yield folder / "demo.sqlite3"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _demo(args: argparse.Namespace, settings: Settings, event: Event, now: datetime) -> int:
    import httpx

    server, serving = await _start_server(settings, event)
    if server is None:
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    base_url = local_url(settings)
    routes = {rid: er.route for rid, er in event.routes.items()}
    specs = load.walker_specs(
        args.walkers, routes, now, seed=args.seed, head_start_h=args.head_start_hours
    )
    stats = Stats()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            rows = await load.register(client, base_url, settings.organiser_token, specs)
            print(intro(settings, event, specs, rows, args), flush=True)
            phones = load.make_phones(specs, rows, routes, seed=args.seed)
            clock = SimClock(now, args.speed_up)
            sim = asyncio.create_task(
                load.run_phones(
                    client, phones, base_url, clock, stop, args.interval, stats, seed=args.seed
                )
            )
            await _until_stopped(stop, serving, stats, args.duration)
            stop.set()
            await sim
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await serving
    print(f"Stopped. {stats.summary()}", flush=True)
    return 0


async def _start_server(settings: Settings, event: Event):
    """uvicorn in this event loop; (server, task), or (None, None) when it cannot start."""
    import uvicorn

    from tracking.app import create_app
    from tracking.logs import remember_secret
    from tracking.server import uvicorn_options

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # the demo handles Ctrl-C itself
            yield

    app = create_app(settings, event)
    remember_secret(app.state.organiser_token)
    config = uvicorn.Config(app, **uvicorn_options(settings, "warning"))
    server = Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            with contextlib.suppress(BaseException):
                serving.result()
            print(
                f"refugee-walk: cannot listen on {settings.host}:{settings.port}", file=sys.stderr
            )
            return None, None
        await asyncio.sleep(0.05)
    return server, serving


async def _until_stopped(
    stop: asyncio.Event, serving: asyncio.Task, stats: Stats, duration: float | None
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + duration if duration else None
    next_status = loop.time() + STATUS_EVERY_S
    while not stop.is_set() and not serving.done():
        if end is not None and loop.time() >= end:
            return
        if loop.time() >= next_status:
            print(f"{datetime.now():%H:%M:%S}  {stats.summary()}", flush=True)
            next_status += STATUS_EVERY_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


def intro(
    settings: Settings,
    event: Event,
    specs: Sequence[WalkerSpec],
    rows: Sequence[dict],
    args: argparse.Namespace,
) -> str:
    """What a newcomer needs: where to look, and what the speed-up does to the numbers."""
    base = settings.public_url.rstrip("/") or local_url(settings)
    x = args.speed_up
    lines = [
        f"Refugee Walk demo: {len(specs)} simulated walkers on {event.name}, {x:g}x faster than walking",
        "",
        f"  Organiser dashboard: {base}/organiser#token={settings.organiser_token}",
        f"  Organiser token:     {settings.organiser_token}",
        "  Walker pages (open in a phone-sized window):",
    ]
    shown = [i for i, s in enumerate(specs) if not s.role][:3] + [
        i for i, s in enumerate(specs) if s.role
    ]
    for i in shown[:8]:
        spec, row = specs[i], rows[i]
        role = f", {ROLE_NAMES[spec.role]}" if spec.role else ""
        route = event.routes[spec.route_id].name
        lines.append(
            f"    {spec.name} ({route}, {PROTOCOL_NAMES[spec.protocol]}{role}): "
            f"{base}/w/{row['token']}"
        )
    counts = Counter(s.protocol for s in specs)
    phones = ", ".join(f"{counts[p]} {PROTOCOL_NAMES[p]}" for p in PROTOCOLS if counts[p])
    lines += [
        "",
        f"Simulated time runs {x:g}x faster than the clock, while every position carries the real",
        "time. So that they are not flagged as impossibly fast, the server runs with its speed",
        f"limit raised to {settings.max_speed_kmh:g} km/h and its alert delays divided by {x:g}",
        f"(silent after {settings.silent_minutes * 60:.0f} s, off route after "
        f"{settings.off_route_minutes * 60:.0f} s). Paces and arrival times are in demo time.",
        f"Phones: {phones}. Database: {settings.db_path}"
        + (" (deleted at exit)." if args.db is None else "."),
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)
