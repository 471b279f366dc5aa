"""The problems and warnings of a route check: a code, its values, a sentence, and where.

Each sentence is written once, in `findings.json` (English, Dutch, French), with named holes:
`{name}` for a value as it is and `{name:N}` for a number with N decimals. The server fills in
the English one (`message`, for the command line and the API); the pages get the same
templates in the walker's language with the `params` and fill them in themselves. The codes
of an unreadable file (`GpxReadError.code`) have their sentence there too.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from routes.continuity import Jump
from routes.walk_stats import RecordedStats

TEXTS = Path(__file__).resolve().parent / "findings.json"
HOLE = re.compile(r"\{(\w+)(?::(\d))?\}")


@cache
def templates() -> dict[str, dict[str, str]]:
    """{language: {code: template}} for every finding and every unreadable-file code."""
    loaded: dict[str, dict[str, str]] = json.loads(TEXTS.read_text(encoding="utf-8"))
    return loaded


def render(code: str, params: dict[str, Any], lang: str = "en") -> str:
    """The sentence of `code` in `lang` with its holes filled ('19,4' in Dutch and French)."""
    comma = lang in ("nl", "fr")

    def fill(match: re.Match[str]) -> str:
        value = params.get(match[1], "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{value:.{match[2]}f}" if match[2] else f"{value:g}"
            return text.replace(".", ",") if comma else text
        return str(value)

    return HOLE.sub(fill, templates()[lang][code])


@dataclass(frozen=True)
class Finding:
    """A problem (the route does not count) or a warning; `details` locate it for a map,
    `params` fill the holes of its sentence."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def finding(code: str, params: dict[str, Any], details: dict[str, Any] | None = None) -> Finding:
    return Finding(code, render(code, params), details or {}, params)


def too_short(distance_m: float, target_km: float, tolerance_pct: float) -> list[Finding]:
    required = target_km * 1000 * (1 - tolerance_pct / 100)
    if distance_m >= required:
        return []
    params = {
        "distance_km": distance_m / 1000,
        "target_km": target_km,
        "required_km": required / 1000,
        "tolerance_pct": tolerance_pct,
        "missing_km": (required - distance_m) / 1000,
    }
    details = {"distance_m": round(distance_m, 1), "required_m": round(required, 1)}
    return [finding("too_short", params, details)]


def well_above(distance_m: float, target_km: float, warning_pct: float) -> list[Finding]:
    over_pct = (distance_m / (target_km * 1000) - 1) * 100
    if over_pct <= warning_pct:
        return []
    params = {"distance_km": distance_m / 1000, "over_pct": over_pct, "target_km": target_km}
    return [finding("well_above_target", params, {"over_pct": round(over_pct, 1)})]


def straight_gap(j: Jump, max_step_m: float) -> Finding:
    params = {
        "distance_km": j.distance_m / 1000,
        "along_km": j.along_m / 1000,
        "step_km": max_step_m / 1000,
    }
    return finding("gap", params, where(j))


def jump(j: Jump, max_speed_kmh: float) -> Finding:
    params = {
        "distance_m": j.distance_m,
        "seconds": j.seconds or 0,
        "along_km": j.along_m / 1000,
        "max_kmh": max_speed_kmh,
    }
    return finding("jump", params, where(j))


def parts_apart(gap: Jump) -> Finding:
    params = {"distance_km": gap.distance_m / 1000, "along_km": gap.along_m / 1000}
    return finding("parts_apart", params, where(gap))


def part_gap(gap: Jump) -> Finding:
    params = {"distance_m": gap.distance_m, "along_km": gap.along_m / 1000}
    return finding("part_gap", params, where(gap))


def not_on_foot(
    stats: RecordedStats,
    distance_m: float,
    *,
    max_walking_speed_kmh: float,
    window_s: float,
    max_share_pct: float,
) -> list[Finding]:
    share_pct = stats.fast_m / distance_m * 100 if distance_m > 0 else 0.0
    if share_pct <= max_share_pct:
        return []
    params = {
        "share_pct": share_pct,
        "fast_km": stats.fast_m / 1000,
        "max_kmh": max_walking_speed_kmh,
        "window_s": window_s,
    }
    stretches = [
        {
            "from_m": round(s.from_m, 1),
            "to_m": round(s.to_m, 1),
            "speed_kmh": round(s.speed_kmh, 1),
            "line": [[round(lon, 6), round(lat, 6)] for lon, lat in s.line],
        }
        for s in stats.fast_stretches
    ]
    details = {"fast_m": round(stats.fast_m, 1), "fast_share_pct": round(share_pct, 1)}
    return [finding("not_on_foot", params, {**details, "stretches": stretches})]


def times_unusable() -> Finding:
    return finding("times_unusable", {})


def untimed(left_out: int, total: int) -> list[Finding]:
    if left_out == 0:
        return []
    params = {"left_out": left_out, "total": total}
    return [finding("untimed_points", params, {"left_out": left_out})]


def capped(problems: list[Finding], per_code: int) -> tuple[list[Finding], list[Finding]]:
    """At most `per_code` problems of one code, and a warning counting the ones left out."""
    seen: Counter[str] = Counter()
    kept = []
    for p in problems:
        seen[p.code] += 1
        if seen[p.code] <= per_code:
            kept.append(p)
    more = [
        finding("more_problems", {"count": n - per_code}, {"of": code, "count": n - per_code})
        for code, n in seen.items()
        if n > per_code
    ]
    return kept, more


def where(j: Jump) -> dict[str, Any]:
    """The two ends of a jump or gap, and how far along the route it starts."""
    details: dict[str, Any] = {
        "from": [round(j.from_lon, 6), round(j.from_lat, 6)],
        "to": [round(j.to_lon, 6), round(j.to_lat, 6)],
        "distance_m": round(j.distance_m, 1),
        "along_m": round(j.along_m, 1),
    }
    if j.seconds is not None:
        details["seconds"] = round(j.seconds, 1)
    return details
