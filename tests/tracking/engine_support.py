"""An engine on a real SQLite file, started and stopped around a test (no HTTP)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from routes.event import Event
from tracking.app import route_resolver
from tracking.engine import Engine
from tracking.fixes import Fix
from tracking.protocols import Alive, Decoded
from tracking.registry import Registry
from tracking.settings import Settings
from tracking.storage.base import WalkerRecord
from tracking.storage.sqlite import SqliteStorage


class Recorder:
    """Stands in for the live hub: remembers what the engine told the dashboards."""

    def __init__(self) -> None:
        self.changed: list[str] = []
        self.messages: list[dict] = []

    def walker_changed(self, walker_id: str) -> None:
        self.changed.append(walker_id)

    def publish(self, message: dict) -> None:
        self.messages.append(message)

    def resync(self) -> None:
        self.messages.append({"type": "resync"})


def fixes(*items: Fix, battery: float | None = None, charging: bool | None = None) -> Decoded:
    """A request carrying `items` (and, optionally, a battery report)."""
    alive = None
    if battery is not None or charging is not None:
        alive = Alive(max(f.recorded_at for f in items), battery, charging)
    return Decoded("token", tuple(items), alive=alive)


@contextlib.asynccontextmanager
async def engine_on(
    folder: Path,
    event: Event,
    walkers: list[WalkerRecord],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    **settings: object,
) -> AsyncIterator[Engine]:
    s = Settings(db_path=folder / "engine.sqlite3", **settings)  # type: ignore[arg-type]
    engine = Engine(s, event, Registry(route_resolver(event)), Recorder(), clock=clock)
    await engine.start(SqliteStorage(s.db_path))
    try:
        if walkers:
            await engine.register(walkers)
        yield engine
    finally:
        await engine.stop()
