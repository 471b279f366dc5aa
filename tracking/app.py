"""The composition root: `create_app(settings)` wires event, storage, tracker, hub and routers.

Nothing imports this module except the CLI and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from routes.bundled import event_path
from routes.errors import GpxReadError
from routes.event import Event, load_event
from routes.gpx_reader import read_route_gpx
from routes.prepared import PreparedRoute, prepare_route
from tracking.hub import LiveHub
from tracking.pipeline import Tracker
from tracking.settings import Settings
from tracking.storage.base import WalkerRecord
from tracking.storage.sqlite import SqliteStorage
from tracking.views import compact_view
from tracking.web import errors
from tracking.web.context import now, view_context

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
)
STATIC_DIR = Path(__file__).resolve().parent / "static"
SWEEP_EVERY_S = 30.0


def organiser_token(settings: Settings) -> tuple[str, bool]:
    """The organiser secret: from settings, else kept beside the database (made at first start)."""
    if settings.organiser_token:
        return settings.organiser_token, False
    path = settings.db_path.with_name(settings.db_path.name + ".organiser-token")
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token, True


def event_file_of(db_path: Path) -> Path:
    """Beside the database: which event it holds (read by `refugee-walk purge`)."""
    return db_path.with_name(db_path.name + ".event.json")


def remember_event(db_path: Path, event: Event, source: str) -> None:
    """Write down the event this database belongs to: its name, date, time zone and file."""
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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage = SqliteStorage(settings.db_path)
        tracker = Tracker(settings, event, storage, hub, personal_route)
        hub.states = lambda ids: _compact(tracker, ids)
        hub.overview = lambda: _overview(tracker)
        tracker.load()
        app.state.tracker = tracker
        hub.start()
        sweeper = asyncio.create_task(_sweep(tracker))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await hub.stop()
            storage.close()

    hub = LiveHub(
        states=lambda ids: [],
        overview=lambda: {},
        batch_s=settings.live_batch_ms / 1000,
        queue_size=settings.live_queue_size,
    )
    app = FastAPI(
        title="Refugee Walk",
        version="0.1.0",
        lifespan=lifespan,
        description="Route planning and live walker tracking.",
    )
    app.state.settings = settings
    app.state.event = event
    app.state.hub = hub
    app.state.organiser_token = token
    errors.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    _mount_assets(app)
    for name in ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # not built yet
        app.include_router(module.router)
    return app


def _mount_assets(app: FastAPI) -> None:
    from maps.offline import VENDOR_DIRS

    for name, folder in VENDOR_DIRS.items():
        app.mount(f"/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _compact(tracker: Tracker, ids: list[str]) -> list[dict]:
    ctx = view_context(tracker)
    return [compact_view(tracker.walkers[i], ctx) for i in ids if i in tracker.walkers]


def _overview(tracker: Tracker) -> dict:
    from tracking.views import overview

    return overview(list(tracker.walkers.values()), view_context(tracker))


async def _sweep(tracker: Tracker) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            tracker.sweep(now())
        except Exception:  # the sweep must never stop the server
            log.exception("alert sweep failed")
