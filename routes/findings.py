"""The problems and warnings of a route check: a code, a sentence a walker understands, and where.

The code and the details are for programs (the planner page translates by code and draws the
places); the message is English for the command line and the API.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from routes.continuity import Jump
from routes.walk_stats import RecordedStats


@dataclass(frozen=True)
class Finding:
    """A problem (the route does not count) or a warning; `details` locate it for a map."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def too_short(distance_m: float, target_km: float, tolerance_pct: float) -> list[Finding]:
    required = target_km * 1000 * (1 - tolerance_pct / 100)
    if distance_m >= required:
        return []
    message = (
        f"The route is {distance_m / 1000:.2f} km; a {target_km:g} km walk needs at least "
        f"{required / 1000:.2f} km (the target minus {tolerance_pct:g} %). "
        f"Add {(required - distance_m) / 1000:.2f} km."
    )
    details = {"distance_m": round(distance_m, 1), "required_m": round(required, 1)}
    return [Finding("too_short", message, details)]


def well_above(distance_m: float, target_km: float, warning_pct: float) -> list[Finding]:
    over_pct = (distance_m / (target_km * 1000) - 1) * 100
    if over_pct <= warning_pct:
        return []
    message = (
        f"The route is {distance_m / 1000:.2f} km, {over_pct:.0f} % longer than "
        f"{target_km:g} km. It counts, but check that you chose the right distance."
    )
    return [Finding("well_above_target", message, {"over_pct": round(over_pct, 1)})]


def straight_gap(j: Jump, max_step_m: float) -> Finding:
    message = (
        f"A straight line of {j.distance_m / 1000:.2f} km at {j.along_m / 1000:.1f} km: "
        f"points more than {max_step_m / 1000:g} km apart do not show the way. "
        "Add points along it."
    )
    return Finding("gap", message, where(j))


def jump(j: Jump, max_speed_kmh: float) -> Finding:
    message = (
        f"The recording jumps {j.distance_m:.0f} m in {j.seconds or 0:.0f} s at "
        f"{j.along_m / 1000:.1f} km, faster than {max_speed_kmh:g} km/h: "
        "that is not a continuous walk."
    )
    return Finding("jump", message, where(j))


def parts_apart(gap: Jump) -> Finding:
    message = (
        f"A part of the route starts {gap.distance_m / 1000:.2f} km from where the previous "
        f"one ends (at {gap.along_m / 1000:.1f} km): the parts are not one continuous route, "
        "and they are not added up."
    )
    return Finding("parts_apart", message, where(gap))


def part_gap(gap: Jump) -> Finding:
    message = (
        f"A part starts {gap.distance_m:.0f} m from the end of the previous one "
        f"(at {gap.along_m / 1000:.1f} km); those {gap.distance_m:.0f} m are not counted."
    )
    return Finding("part_gap", message, where(gap))


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
    message = (
        f"{share_pct:.0f} % of the track ({stats.fast_m / 1000:.1f} km) was covered faster "
        f"than {max_walking_speed_kmh:g} km/h, sustained over {window_s:g} s: not on foot."
    )
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
    return [Finding("not_on_foot", message, {**details, "stretches": stretches})]


def times_unusable() -> Finding:
    message = (
        "The points carry timestamps that do not advance, so they say nothing about the walk; "
        "the file is measured as a planned route."
    )
    return Finding("times_unusable", message)


def untimed(left_out: int, total: int) -> list[Finding]:
    if left_out == 0:
        return []
    message = f"{left_out} of {total} points have no time and are left out of the recording."
    return [Finding("untimed_points", message, {"left_out": left_out})]


def capped(problems: list[Finding], per_code: int) -> tuple[list[Finding], list[Finding]]:
    """At most `per_code` problems of one code, and a warning counting the ones left out."""
    seen: Counter[str] = Counter()
    kept = []
    for p in problems:
        seen[p.code] += 1
        if seen[p.code] <= per_code:
            kept.append(p)
    more = [
        Finding(
            "more_problems",
            f"{n - per_code} more '{code}' problems are not listed.",
            {"of": code, "count": n - per_code},
        )
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
