"""Lengths of what a GPX holds: within its parts, and the gaps between parts (never silently added)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from routes.geodesy import distance_m, segment_lengths_m
from routes.gpx_model import GpxDocument, GpxPart, GpxPoint


@dataclass(frozen=True)
class Gap:
    """The jump between the end of part `after_part` and the start of the next one."""

    after_part: int
    distance_m: float
    from_lon: float
    from_lat: float
    to_lon: float
    to_lat: float


@dataclass(frozen=True)
class Measure:
    distance_m: float
    gaps: tuple[Gap, ...]

    @property
    def gap_m(self) -> float:
        return sum(g.distance_m for g in self.gaps)


def part_length_m(points: tuple[GpxPoint, ...]) -> float:
    lons = np.array([p.lon for p in points], dtype=np.float64)
    lats = np.array([p.lat for p in points], dtype=np.float64)
    return float(segment_lengths_m(lons, lats).sum())


def gaps_between(parts: tuple[GpxPart, ...]) -> tuple[Gap, ...]:
    gaps = []
    for i, (a, b) in enumerate(itertools.pairwise(parts)):
        end, start = a.points[-1], b.points[0]
        gaps.append(
            Gap(
                i,
                distance_m(end.lon, end.lat, start.lon, start.lat),
                end.lon,
                end.lat,
                start.lon,
                start.lat,
            )
        )
    return tuple(gaps)


def measure(doc: GpxDocument) -> Measure:
    """Geodesic length summed within each part, with the gaps between parts listed apart."""
    return Measure(
        distance_m=sum(part_length_m(p.points) for p in doc.parts),
        gaps=gaps_between(doc.parts),
    )
