"""Does a personal route count? A planned route or a recorded walk checked against 20 or 40 km.

`validate_route` is pure apart from the place names (a lookup in data shipped with a package,
injectable as `locate`): a document, a target and the thresholds in, a `ValidationReport` out.
`report_to_dict` gives the JSON that the API and `refugee-walk validate --json` print.
Each threshold's reason is in `ValidationRules`; the rules are explained in
docs/personal-routes.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from routes import findings
from routes.continuity import part_gaps, planned_jumps, recorded_jumps, too_fast
from routes.findings import Finding
from routes.geodesy import distance_m, segment_lengths_m
from routes.gpx_model import GpxDocument
from routes.gpx_reader import DEFAULT_MAX_BYTES, read_route_gpx
from routes.measure import measure
from routes.recorded import JumpLimits, TimedPart, timed_parts, usable_times
from routes.region import Place, nearest_places
from routes.walk_stats import RecordedStats, recorded_stats

__all__ = [
    "TARGETS_KM",
    "Finding",
    "ValidationReport",
    "ValidationRules",
    "report_to_dict",
    "rules_from",
    "validate_gpx",
    "validate_route",
]

TARGETS_KM = (20, 40)
MAX_FINDINGS_PER_CODE = 20  # a file with 300 jumps gets 20 listed and a count of the rest
REGION_SAMPLES = 40  # places looked up along the route to list the regions it crosses

Locate = Callable[[Sequence[tuple[float, float]]], tuple[Place, ...]]


def _rule(default: float, reason: str) -> Any:
    return field(default=default, metadata={"help": reason})


@dataclass(frozen=True)
class ValidationRules:
    """The thresholds of the personal-route rules, each with the reason for its default."""

    distance_tolerance_pct: float = _rule(
        2.0, "A route may fall this much short of the target: planners disagree by about 2 %."
    )
    over_target_warning_pct: float = _rule(
        25.0, "Longer than the target by more than this is a warning (wrong distance chosen?)."
    )
    max_step_m: float = _rule(
        1000.0,
        "Planned points further apart do not show the way; parts further apart are not one route.",
    )
    max_jump_speed_kmh: float = _rule(
        25.0, "Two recorded fixes further apart than this speed allows are a jump, not walking."
    )
    jump_noise_m: float = _rule(
        50.0, "GPS error allowed for before a recorded step counts as a jump (two 25 m errors)."
    )
    smoothing_sigma_s: float = _rule(
        5.0, "Recorded tracks are smoothed over this many seconds (σ) before they are measured."
    )
    speed_window_s: float = _rule(
        60.0, "Speeds of a recorded track are averaged over this window: sustained, not one fix."
    )
    max_walking_speed_kmh: float = _rule(
        10.0, "Sustained faster than this is not walking (a brisk walker keeps 6 to 7 km/h)."
    )
    max_fast_share_pct: float = _rule(
        3.0, "More than this share of the distance above the walking speed: not on foot."
    )
    pause_radius_m: float = _rule(
        25.0, "Staying this close to one place is a pause (a phone standing still wanders 10-20 m)."
    )
    min_pause_s: float = _rule(120.0, "Stops at least this long are listed as pauses.")
    gap_warning_m: float = _rule(
        50.0, "Parts further apart than this get a warning that the gap is not counted."
    )
    loop_max_m: float = _rule(500.0, "Start and finish this close make the route a loop.")


def rules_from(source: object, base: ValidationRules | None = None) -> ValidationRules:
    """Rules taken from any object with fields of the same names (the app's Settings)."""
    base = base or ValidationRules()
    values = {f.name: getattr(source, f.name, getattr(base, f.name)) for f in fields(base)}
    return ValidationRules(**values)


@dataclass(frozen=True)
class ValidationReport:
    """The verdict and what it rests on; `distance_m` is what counts (smoothed if recorded)."""

    target_km: float
    kind: Literal["planned", "recorded"]
    distance_m: float
    raw_distance_m: float
    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    start: Place
    finish: Place
    regions: tuple[Place, ...]
    start_finish_m: float
    is_loop: bool
    bbox: tuple[float, float, float, float]
    parts: int
    points: int
    source: str
    name: str
    smoothing_sigma_s: float | None = None
    recorded: RecordedStats | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def validate_route(
    doc: GpxDocument,
    target_km: float,
    rules: ValidationRules | None = None,
    locate: Locate = nearest_places,
) -> ValidationReport:
    """The verdict on `doc` (at least two points) as a walk of `target_km`, with its reasons."""
    rules = rules or ValidationRules()
    limits = JumpLimits(rules.max_jump_speed_kmh, rules.jump_noise_m)
    timed = timed_parts(doc, rules.smoothing_sigma_s, limits) if doc.has_times else ()
    if usable_times(timed):
        return _recorded_report(doc, target_km, rules, timed, locate)
    distance = measure(doc).distance_m
    problems = _distance_problems(distance, target_km, rules) + _planned_gaps(doc, rules)
    warnings = _warnings(doc, distance, target_km, rules)
    if doc.has_times:
        warnings.append(findings.times_unusable())
    return _report(doc, target_km, rules, locate, (distance, distance), problems, warnings)


def validate_gpx(
    data: bytes,
    source: str,
    target_km: float,
    rules: ValidationRules | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **limits: int,
) -> ValidationReport:
    """Read GPX bytes and validate them; unreadable input raises `GpxReadError` with its reason.

    `limits` are the reader's other limits (`max_points`, `max_depth`, ...; see `read_gpx`).
    """
    doc = read_route_gpx(data, source, max_bytes=max_bytes, **limits)
    return validate_route(doc, target_km, rules)


def _recorded_report(
    doc: GpxDocument,
    target_km: float,
    rules: ValidationRules,
    timed: tuple[TimedPart, ...],
    locate: Locate,
) -> ValidationReport:
    distance = sum(p.length_m for p in timed)
    stats = recorded_stats(
        timed,
        window_s=rules.speed_window_s,
        pause_radius_m=rules.pause_radius_m,
        min_pause_s=rules.min_pause_s,
        max_walking_speed_kmh=rules.max_walking_speed_kmh,
    )
    problems = _distance_problems(distance, target_km, rules) + _recorded_jumps(doc, timed, rules)
    problems += findings.not_on_foot(
        stats,
        distance,
        max_walking_speed_kmh=rules.max_walking_speed_kmh,
        window_s=rules.speed_window_s,
        max_share_pct=rules.max_fast_share_pct,
    )
    warnings = _warnings(doc, distance, target_km, rules)
    warnings += findings.untimed(
        len(doc.points) - sum(len(p.times_s) for p in timed), len(doc.points)
    )
    lengths = (distance, sum(p.raw_m for p in timed))
    report = _report(doc, target_km, rules, locate, lengths, problems, warnings)
    return replace(
        report, kind="recorded", smoothing_sigma_s=rules.smoothing_sigma_s, recorded=stats
    )


def _report(
    doc: GpxDocument,
    target_km: float,
    rules: ValidationRules,
    locate: Locate,
    lengths: tuple[float, float],
    problems: list[Finding],
    warnings: list[Finding],
) -> ValidationReport:
    points = doc.points
    first, last = points[0], points[-1]
    places = locate([(first.lon, first.lat), (last.lon, last.lat), *_samples(doc)])
    start_finish = distance_m(first.lon, first.lat, last.lon, last.lat)
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    kept, more = findings.capped(problems, MAX_FINDINGS_PER_CODE)
    return ValidationReport(
        target_km=target_km,
        kind="planned",
        distance_m=lengths[0],
        raw_distance_m=lengths[1],
        problems=tuple(kept),
        warnings=tuple(warnings + more),
        start=places[0],
        finish=places[1],
        regions=_distinct_regions(places),
        start_finish_m=start_finish,
        is_loop=start_finish <= rules.loop_max_m,
        bbox=(min(lons), min(lats), max(lons), max(lats)),
        parts=len(doc.parts),
        points=len(points),
        source=doc.source,
        name=doc.name,
    )


def _distance_problems(distance: float, target_km: float, rules: ValidationRules) -> list[Finding]:
    return findings.too_short(distance, target_km, rules.distance_tolerance_pct)


def _warnings(
    doc: GpxDocument, distance: float, target_km: float, rules: ValidationRules
) -> list[Finding]:
    """Well above the target, and gaps between parts too small to refuse but not counted."""
    near_gaps = [
        findings.part_gap(g)
        for g in part_gaps(doc)
        if rules.gap_warning_m < g.distance_m <= rules.max_step_m
    ]
    return findings.well_above(distance, target_km, rules.over_target_warning_pct) + near_gaps


def _planned_gaps(doc: GpxDocument, rules: ValidationRules) -> list[Finding]:
    inside = [
        findings.straight_gap(j, rules.max_step_m) for j in planned_jumps(doc, rules.max_step_m)
    ]
    between = [findings.parts_apart(g) for g in part_gaps(doc) if g.distance_m > rules.max_step_m]
    return inside + between


def _recorded_jumps(
    doc: GpxDocument, timed: tuple[TimedPart, ...], rules: ValidationRules
) -> list[Finding]:
    limits = JumpLimits(rules.max_jump_speed_kmh, rules.jump_noise_m)
    out = [findings.jump(j, limits.max_speed_kmh) for j in recorded_jumps(timed)]
    for gap in part_gaps(doc):
        if gap.distance_m > rules.max_step_m:
            out.append(findings.parts_apart(gap))
        elif too_fast(gap, limits):
            out.append(findings.jump(gap, limits.max_speed_kmh))
    return out


def _samples(doc: GpxDocument) -> list[tuple[float, float]]:
    """About REGION_SAMPLES points spread evenly along the route."""
    pts = doc.points
    lons = np.array([p.lon for p in pts], dtype=np.float64)
    lats = np.array([p.lat for p in pts], dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(segment_lengths_m(lons, lats))])
    marks = np.linspace(0.0, cum[-1], REGION_SAMPLES)[1:-1]
    idx = np.unique(np.minimum(np.searchsorted(cum, marks), len(pts) - 1))
    return [(float(lons[i]), float(lats[i])) for i in idx]


def _distinct_regions(places: tuple[Place, ...]) -> tuple[Place, ...]:
    """Start first, then each further (country, region, province) in the order met."""
    seen: dict[tuple[str, str, str], Place] = {}
    for place in (places[0], *places[2:], places[1]):
        seen.setdefault(place.region_key, place)
    return tuple(seen.values())


# --- JSON -------------------------------------------------------------------------------


def report_to_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as plain JSON values (lon, lat order; metres; ISO 8601 UTC times)."""
    return {
        "valid": report.valid,
        "target_km": report.target_km,
        "kind": report.kind,
        "distance_m": round(report.distance_m, 1),
        "raw_distance_m": round(report.raw_distance_m, 1),
        "measurement": _measurement(report),
        "problems": [_finding(f) for f in report.problems],
        "warnings": [_finding(f) for f in report.warnings],
        "start": _place(report.start),
        "finish": _place(report.finish),
        "is_loop": report.is_loop,
        "start_finish_m": round(report.start_finish_m, 1),
        "bbox": [round(v, 6) for v in report.bbox],
        "region": _region(report.start),
        "regions": [_region(p) for p in report.regions],
        "parts": report.parts,
        "points": report.points,
        "source": report.source,
        "name": report.name,
        "recorded": _recorded(report.recorded, report.distance_m) if report.recorded else None,
    }


def _measurement(report: ValidationReport) -> dict[str, Any]:
    if report.kind == "planned":
        return {"method": "geodesic", "about": "WGS84 geodesic length along the points"}
    change = (report.distance_m / report.raw_distance_m - 1) * 100 if report.raw_distance_m else 0
    return {
        "method": "time_smoothed",
        "about": "WGS84 geodesic length of the track after Gaussian smoothing in time",
        "sigma_s": report.smoothing_sigma_s,
        "change_pct": round(change, 2),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "message": f.message, **f.details, "params": f.params}


def _place(p: Place) -> dict[str, Any]:
    return {"lon": round(p.lon, 6), "lat": round(p.lat, 6), **_region(p)}


def _region(p: Place) -> dict[str, Any]:
    return {
        "place": p.name,
        "country_code": p.country_code,
        "country": p.country,
        "admin1": p.admin1,
        "province": p.province,
    }


def _recorded(stats: RecordedStats, distance: float) -> dict[str, Any]:
    moving = stats.moving_time_s
    pace = moving / (distance / 1000) if distance > 0 else None
    return {
        "started_at": stats.started_at.isoformat(),
        "finished_at": stats.finished_at.isoformat(),
        "elapsed_s": round(stats.elapsed_s, 1),
        "moving_time_s": round(moving, 1),
        "paused_s": round(sum(p.duration_s for p in stats.pauses), 1),
        "pauses": [
            {
                "started_at": p.started_at.isoformat(),
                "duration_s": round(p.duration_s, 1),
                "lon": round(p.lon, 6),
                "lat": round(p.lat, 6),
                "along_m": round(p.along_m, 1),
                "unrecorded": p.unrecorded,
            }
            for p in stats.pauses
        ],
        "moving_speed_kmh": round(distance / moving * 3.6, 2) if moving > 0 else None,
        "pace_s_per_km": round(pace, 1) if pace is not None else None,
        "max_sustained_speed_kmh": round(stats.max_sustained_speed_kmh, 1),
        "fast_m": round(stats.fast_m, 1),
    }
