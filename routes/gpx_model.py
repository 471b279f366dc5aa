"""Plain values read from a GPX file: points, parts (track segments or routes), waypoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class GpxPoint:
    lon: float
    lat: float
    ele_m: float | None = None
    time: datetime | None = None


@dataclass(frozen=True)
class GpxPart:
    """One track segment or one route, in file order."""

    kind: Literal["track", "route"]
    name: str
    points: tuple[GpxPoint, ...]


@dataclass(frozen=True)
class GpxWaypoint:
    lon: float
    lat: float
    name: str
    type: str
    desc: str


@dataclass(frozen=True)
class GpxDocument:
    """What a GPX file holds, with track segments preferred over routes when both exist."""

    source: str
    name: str
    desc: str
    creator: str
    parts: tuple[GpxPart, ...]
    waypoints: tuple[GpxWaypoint, ...]

    @property
    def points(self) -> tuple[GpxPoint, ...]:
        """All points of all parts, joined in order."""
        return tuple(p for part in self.parts for p in part.points)

    @property
    def has_times(self) -> bool:
        """A recorded track: a good share of points carry a timestamp (OSM traces: ~40 %)."""
        pts = self.points
        return bool(pts) and sum(p.time is not None for p in pts) >= 0.25 * len(pts)

    @property
    def kind(self) -> Literal["track", "route"]:
        return self.parts[0].kind if self.parts else "track"
