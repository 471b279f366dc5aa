"""What the pipeline needs from storage, so another back end (PostgreSQL) can take SQLite's place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tracking.checkins import CheckIn
from tracking.fixes import Fix


@dataclass(frozen=True)
class WalkerRecord:
    id: str
    token: str
    name: str
    route_id: str
    bib: str = ""
    team: str = ""
    phone: str = ""
    status_override: str = ""  # "dropped_out" | "picked_up" | "" (set by an organiser)
    personal_gpx: str = ""  # a personal route attached by the walker (GPX text)
    created_at: datetime | None = None


@dataclass(frozen=True)
class StoredFix:
    fix: Fix
    flags: tuple[str, ...]
    distance_along_m: float | None
    offset_m: float | None


@dataclass(frozen=True)
class Alert:
    id: int
    walker_id: str
    kind: str
    at: datetime
    lat: float | None
    lon: float | None
    message: str
    state: str = "open"  # open | acknowledged | resolved
    acked_at: datetime | None = None


class Storage(Protocol):
    """Durable state. Writes are visible to readers at once; `commit` makes them durable."""

    def add_walker(self, walker: WalkerRecord) -> None: ...
    def walker(self, walker_id: str) -> WalkerRecord | None: ...
    def walker_by_token(self, token: str) -> WalkerRecord | None: ...
    def walkers(self) -> list[WalkerRecord]: ...
    def update_walker(self, walker: WalkerRecord) -> None: ...
    def delete_walker(self, walker_id: str) -> None: ...
    def set_token(self, walker_id: str, token: str) -> None: ...

    def has_fix(self, walker_id: str, fix: Fix) -> bool: ...
    def add_fix(self, walker_id: str, stored: StoredFix) -> None: ...
    def fix_count(self) -> int: ...
    def fixes(self, walker_id: str) -> list[StoredFix]: ...
    def recent_fixes(self, walker_id: str, limit: int) -> list[StoredFix]: ...

    def add_checkin(self, walker_id: str, checkin: CheckIn) -> bool: ...
    def checkins(self, walker_id: str) -> list[CheckIn]: ...
    def all_checkins(self) -> dict[str, list[CheckIn]]: ...

    def add_alert(
        self,
        walker_id: str,
        kind: str,
        at: datetime,
        lat: float | None,
        lon: float | None,
        message: str,
    ) -> Alert: ...
    def alerts(self, state: str | None = None) -> list[Alert]: ...
    def set_alert_state(self, alert_id: int, state: str, at: datetime) -> Alert | None: ...

    def count(self, name: str, by: int = 1) -> None: ...
    def counters(self) -> dict[str, int]: ...

    def delete_positions(self, before: datetime | None = None) -> int: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...
