"""Check-in points: which GPX waypoints are check-in points, and their stable ids."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CHECKPOINT_TYPES = frozenset({"start", "finish", "rest", "checkpoint", "check-in", "checkin"})


@dataclass(frozen=True)
class Checkpoint:
    """A check-in point placed on a route; `distance_along_m` is where the route passes it."""

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    distance_along_m: float
    offset_m: float
    x_m: float = 0.0  # position in the route's local metric plane (set by prepare_route)
    y_m: float = 0.0


def is_checkpoint_type(type_: str) -> bool:
    return type_.strip().lower() in CHECKPOINT_TYPES


def slugify(name: str) -> str:
    """A short stable id from a name: 'Rest stop Lier (Moevement)' -> 'rest-stop-lier-moevement'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "point"


def unique_ids(names: list[str]) -> list[str]:
    """Slugs of `names`, with a numeric suffix where two names give the same slug."""
    seen: dict[str, int] = {}
    ids = []
    for name in names:
        slug = slugify(name)
        seen[slug] = seen.get(slug, 0) + 1
        ids.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return ids
