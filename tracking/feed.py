"""The live feed: every message the organisers' WebSocket sends, built in one place.

`snapshot` (all walkers and the overview, on connect or after falling behind), `walkers`
(the changed walkers of a batch), `overview`, and the events the engine reports after each
commit (`checkin`, `alert`, `removed`) which are passed through as they are. The hub only
moves these bytes; it never looks inside.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from routes.event import Event
from tracking.registry import Registry
from tracking.settings import Settings
from tracking.views import ViewContext, compact_view, medians_by_route, overview


def encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)


class Feed:
    def __init__(self, registry: Registry, event: Event, settings: Settings) -> None:
        self.registry = registry
        self.event = event
        self.settings = settings

    def context(self) -> ViewContext:
        s = self.settings
        return ViewContext(
            self.event,
            datetime.now(UTC),
            timedelta(minutes=s.silent_minutes),
            s.default_pace_kmh / 3.6,
            lambda: medians_by_route(list(self.registry)),
            timedelta(minutes=s.stationary_minutes),
        )

    def snapshot(self) -> bytes:
        ctx = self.context()
        states = list(self.registry)
        return encode(
            {
                "type": "snapshot",
                "walkers": [compact_view(s, ctx) for s in states],
                "overview": overview(states, ctx),
            }
        )

    def walkers(self, ids: list[str]) -> bytes:
        ctx = self.context()
        walkers = self.registry.walkers
        return encode(
            {
                "type": "walkers",
                "walkers": [compact_view(walkers[i], ctx) for i in ids if i in walkers],
            }
        )

    def overview(self) -> dict[str, Any]:
        return overview(list(self.registry), self.context())

    @staticmethod
    def event_message(event: dict[str, Any]) -> bytes:
        return encode(event)

    @staticmethod
    def ping() -> bytes:
        return encode({"type": "ping"})
