"""The composition root: `create_app(settings)` wires event, storage, tracker, hub and routers.

Nothing imports this module except the CLI and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from routes.bundled import event_path
from routes.errors import GpxReadError
from routes.event import Event, load_event
from routes.gpx_reader import read_route_gpx
from routes.prepared import PreparedRoute, prepare_route
from tracking.cluster import Cluster
from tracking.engine import Engine
from tracking.feed import Feed
from tracking.hub import LiveHub
from tracking.registry import Registry
from tracking.settings import Settings
from tracking.storage import database_url, open_storage
from tracking.storage.base import WalkerRecord
from tracking.web import docs, errors
from tracking.web.security import SecurityHeaders
from tracking.web.throttle import Throttle

log = logging.getLogger("refugee_walk")

ROUTERS = (
    "tracking.web.routes_api",
    "tracking.web.walkers",
    "tracking.web.ingest",
    "tracking.web.checkins",
    "tracking.web.alerts",
    "tracking.web.live",
    "tracking.web.pages",
    "tracking.web.walker_page",
    "tracking.web.dashboard",
    "tracking.web.personal",
    "tracking.web.export",
    "tracking.web.stations",
    "tracking.web.follow",
    "tracking.web.live_page",
)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def organiser_token(settings: Settings) -> tuple[str, bool]:
    """The organiser secret: from settings, else kept beside the database (made at first start).

    A token from settings shorter than 20 characters raises `SettingsError`. The file is
    created with mode 0600, so the secret is never readable by others, not even for a moment.
    """
    settings.check()
    if settings.organiser_token:
        return settings.organiser_token, False
    path = settings.db_path.with_name(settings.db_path.name + ".organiser-token")
    if database_url(settings.db_path) is not None:  # PostgreSQL: kept in the working folder
        path = Path("refugee-walk.organiser-token")
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


def event_file_of(db_path: Path) -> Path:
    """Beside the database: which event it holds (read by `refugee-walk purge`)."""
    return db_path.with_name(db_path.name + ".event.json")


def remember_event(db_path: Path, event: Event, source: str) -> None:
    """Write down the event this database belongs to: its name, date, time zone and file.

    Beside an SQLite file only (`refugee-walk purge` reads it); with PostgreSQL, purge is
    given `--event`.
    """
    if database_url(db_path) is not None:
        return
    record = {
        "name": event.name,
        "date": event.date.isoformat(),
        "timezone": event.timezone.key,
        "event": source,
    }
    path = event_file_of(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def personal_route(record: WalkerRecord) -> PreparedRoute | None:
    if not record.personal_gpx:
        return None
    try:
        doc = read_route_gpx(
            record.personal_gpx.encode("utf-8"), f"personal route of {record.name}"
        )
    except GpxReadError:
        return None
    return prepare_route(doc, route_id="personal", name=doc.name or "Personal route")


def create_app(settings: Settings, event: Event | None = None) -> FastAPI:
    """The service: one engine (the single writer), its live feed and hub, and the routers."""
    event = event or load_event(event_path(settings.event))
    token, generated = organiser_token(settings)
    if generated:
        print(
            f"Organiser token (kept in {settings.db_path}.organiser-token): {token}",
            file=sys.stderr,
        )
    elif not settings.organiser_token:
        print(
            f"Organiser token: in {settings.db_path}.organiser-token (printed at the first start"
            " only; set REFUGEE_WALK_ORGANISER_TOKEN to choose your own)",
            file=sys.stderr,
        )
    remember_event(settings.db_path, event, settings.event)
    registry = Registry(route_resolver(event))
    hub = LiveHub(
        Feed(registry, event, settings),
        batch_s=settings.live_batch_ms / 1000,
        queue_size=settings.live_queue_size,
    )
    cluster = (
        Cluster(settings.pubsub_url, cluster_prefix(settings)) if settings.pubsub_url else None
    )
    engine = Engine(settings, event, registry, hub, cluster=cluster)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start(await asyncio.to_thread(open_storage, settings.db_path))
        hub.start()
        sweeper = asyncio.create_task(_sweep(engine))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await hub.stop()
            await engine.stop()

    app = FastAPI(
        title="Refugee Walk",
        version="0.1.0",
        lifespan=lifespan,
        description="Route planning and live walker tracking.",
    )
    app.state.settings = settings
    app.state.event = event
    app.state.hub = hub
    app.state.tracker = engine
    app.state.organiser_token = token
    errors.install(app)
    docs.install(app)
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)  # inside the gzip
    app.add_middleware(PagesGZip, minimum_size=1024)
    app.add_middleware(Throttle, settings=settings)
    _mount_assets(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    return app


class PagesGZip(GZipMiddleware):
    """Gzip for pages, assets and exports; not for the phones' tiny answers, where it only
    costs time (a sixth of the server's time per fix went to the gzip wrapper)."""

    def __init__(self, app: Any, minimum_size: int = 1024) -> None:
        super().__init__(app, minimum_size=minimum_size)
        self.plain = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(PLAIN_PATHS):
            await self.plain(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


PLAIN_PATHS = ("/ingest/", "/api/fixes", "/api/checkins", "/api/sos")


def cluster_prefix(settings: Settings) -> str:
    """Processes on one database form one cluster; other events on the same Redis stay apart."""
    where = str(database_url(settings.db_path) or settings.db_path.resolve())
    return "refugee-walk:" + hashlib.sha1(where.encode()).hexdigest()[:12]


def route_resolver(event: Event) -> Callable[[WalkerRecord], PreparedRoute | None]:
    """A walker's route: one of the event's, or the personal route they attached."""

    def route_for(record: WalkerRecord) -> PreparedRoute | None:
        if record.route_id in event.routes:
            return event.routes[record.route_id].route
        return personal_route(record)

    return route_for


def _mount_assets(app: FastAPI) -> None:
    from maps.offline import VENDOR_DIRS

    for name, folder in VENDOR_DIRS.items():
        app.mount(f"/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


async def _sweep(engine: Engine) -> None:
    every = engine.settings.sweep_every_s
    while True:
        await asyncio.sleep(every)
        try:
            if engine.cluster is not None and not await engine.cluster.leader("sweep", 3 * every):
                continue  # another process of the cluster sweeps
            await engine.sweep()
        except Exception:  # the sweep must never stop the server
            log.exception("alert sweep failed")
