"""Building a `ViewContext` for the current request (the clock lives here, at the edge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracking.engine import Engine
from tracking.views import ViewContext, medians_by_route


def now() -> datetime:
    return datetime.now(UTC)


def view_context(t: Engine) -> ViewContext:
    s = t.settings
    return ViewContext(
        t.event,
        now(),
        timedelta(minutes=s.silent_minutes),
        s.default_pace_kmh / 3.6,
        lambda: medians_by_route(list(t.walkers.values())),
        timedelta(minutes=s.stationary_minutes),
    )
