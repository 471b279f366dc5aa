"""What the engine needs from storage: one write per tick, a load at start, and a few reads.

The engine is the only writer. Each tick it hands `write` one `WriteBatch` (every fix, check-in,
alert and walker state the tick changed) and acknowledges the requests only after `write`
returned, that is after the commit. `write` and `neighbours` run on the writer's own thread;
reads (`fixes`, `counters`) on reader threads with connections of their own. SQLite implements
this today; another back end (PostgreSQL) implements the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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


@dataclass(frozen=True)
class Neighbour:
    """A stored, matched fix next in time to a late fix: where the walker was then."""

    ts: float
    lon: float
    lat: float
    distance_along_m: float


@dataclass(frozen=True)
class LateLookup:
    """For one late fix: is it stored already, and the matched fixes just before and after it."""

    exists: bool
    before: Neighbour | None
    after: Neighbour | None


@dataclass(frozen=True)
class Station:
    """A volunteer's check-in station at one check-in point (tracking/stations.py)."""

    id: str
    token: str
    checkpoint_id: str
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class StationAnswer:
    """A station's check-in and the answer it got, kept once per client id."""

    station_id: str
    client_id: str
    walker_id: str | None
    status: int
    body: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class FollowLink:
    """A walker's follow link for family (tracking/follow.py); ended links are kept ended."""

    token: str
    walker_id: str
    display_name: str
    precise: bool
    created_at: datetime
    ended_at: datetime | None = None


@dataclass
class WriteBatch:
    """Everything one tick changed; `write` applies it in one transaction, in this order."""

    walkers_added: list[WalkerRecord] = field(default_factory=list)
    walkers_updated: list[WalkerRecord] = field(default_factory=list)
    walkers_deleted: list[str] = field(default_factory=list)
    fixes: list[tuple[str, StoredFix]] = field(default_factory=list)
    checkins: list[tuple[str, CheckIn]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # new or changed (upsert by id)
    states: dict[str, bytes] = field(default_factory=dict)  # walker id -> saved state
    counters: dict[str, int] = field(default_factory=dict)
    purge_before: datetime | None = None
    purge_all: bool = False
    received_at: float = 0.0
    stations: list[Station] = field(default_factory=list)  # new or closed (upsert by id)
    station_answers: list[StationAnswer] = field(default_factory=list)
    follows: list[FollowLink] = field(default_factory=list)  # new or ended (upsert by token)

    def count(self, name: str, by: int = 1) -> None:
        if by:
            self.counters[name] = self.counters.get(name, 0) + by

    def __bool__(self) -> bool:
        return bool(
            self.walkers_added
            or self.walkers_updated
            or self.walkers_deleted
            or self.fixes
            or self.checkins
            or self.alerts
            or self.states
            or self.counters
            or self.purge_before
            or self.purge_all
            or self.stations
            or self.station_answers
            or self.follows
        )


@dataclass(frozen=True)
class WriteResult:
    purged: int = 0


@dataclass(frozen=True)
class Loaded:
    """What a restart needs: O(walkers), never the fixes."""

    walkers: list[WalkerRecord]
    states: dict[str, bytes]
    checkins: dict[str, list[CheckIn]]
    alerts: list[Alert]
    counters: dict[str, int]
    stations: list[Station] = field(default_factory=list)
    station_answers: list[StationAnswer] = field(default_factory=list)
    follows: list[FollowLink] = field(default_factory=list)


class Storage(Protocol):
    def load(self) -> Loaded: ...
    def write(self, batch: WriteBatch) -> WriteResult: ...
    def neighbours(self, queries: list[tuple[str, Fix]]) -> list[LateLookup]: ...
    def walker_states(self, walker_ids: list[str]) -> dict[str, bytes]: ...
    def fixes(self, walker_id: str) -> list[StoredFix]: ...
    def fix_count(self) -> int: ...
    def counters(self) -> dict[str, int]: ...
    def close(self) -> None: ...
