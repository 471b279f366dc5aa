"""`refugee-walk validate FILE.gpx --distance 20|40`: does a personal route or recording count?

Exit 0 when it counts, 1 when it does not (the reasons are printed), 2 when the file cannot
be read (one line on stderr naming the file and the reason).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from routes.errors import GpxReadError, GpxTooLargeError
from routes.validation import TARGETS_KM, report_to_dict, validate_gpx
from tracking.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate", help="check that a personal route or a recorded walk counts for 20 or 40 km"
    )
    parser.add_argument("file", type=Path, help="the GPX file (a planned route or a recording)")
    parser.add_argument(
        "--distance", type=int, required=True, choices=TARGETS_KM, help="the distance in km"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        data = _read(args.file, settings.max_upload_bytes)
        report = validate_gpx(
            data,
            str(args.file),
            args.distance,
            settings.validation,
            max_bytes=settings.max_upload_bytes,
            **settings.gpx_limits(),
        )
    except GpxReadError as exc:
        return unreadable(args, exc.source, exc.code, exc.reason)
    except OSError as exc:
        return unreadable(args, str(args.file), "unreadable_file", str(exc.strerror or exc))
    result = report_to_dict(report)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else as_text(result))
    return 0 if report.valid else 1


def unreadable(args: argparse.Namespace, source: str, code: str, reason: str) -> int:
    """Exit 2: one line on stderr; with --json, the same as JSON on stdout."""
    print(f"refugee-walk validate: {source}: {reason}", file=sys.stderr)
    if args.json:
        answer = {
            "valid": False,
            "readable": False,
            "source": source,
            "target_km": args.distance,
            "code": code,
            "reason": reason,
        }
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 2


def _read(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; one over the limit is refused before it is read."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise GpxTooLargeError(
                str(path),
                "too_large",
                f"the file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
            )
        return f.read(max_bytes + 1)


def as_text(r: dict[str, Any]) -> str:
    """The report for a person: the verdict first, then the figures and the reasons."""
    verdict = "COUNTS" if r["valid"] else "DOES NOT COUNT"
    lines = [
        f"{r['source']}: {verdict} for {r['target_km']:g} km ({r['kind']} route)",
        f"  distance  {r['distance_m'] / 1000:.2f} km{_raw(r)}",
        f"  start     {_place(r['start'])}",
        f"  finish    {_place(r['finish'])}"
        + (f"  (a loop: {r['start_finish_m']:.0f} m from the start)" if r["is_loop"] else ""),
        f"  regions   {'; '.join(_region(g) for g in r['regions'])}",
    ]
    if r["recorded"]:
        lines += _recorded(r["recorded"])
    lines += [f"  problem   {p['message']}" for p in r["problems"]]
    lines += [f"  warning   {w['message']}" for w in r["warnings"]]
    return "\n".join(lines)


def _raw(r: dict[str, Any]) -> str:
    m = r["measurement"]
    if m["method"] != "time_smoothed":
        return ""
    return (
        f" (smoothed over {m['sigma_s']:g} s; raw {r['raw_distance_m'] / 1000:.2f} km, "
        f"{m['change_pct']:+.1f} %)"
    )


def _recorded(rec: dict[str, Any]) -> list[str]:
    pace = rec["pace_s_per_km"]
    pace_text = f"{int(pace // 60)}:{int(pace % 60):02d} min/km" if pace else "-"
    return [
        f"  walked    {rec['started_at'][:16].replace('T', ' ')} to "
        f"{rec['finished_at'][:16].replace('T', ' ')} UTC, moving {_hm(rec['moving_time_s'])}",
        f"  pauses    {len(rec['pauses'])} ({_hm(rec['paused_s'])})",
        f"  pace      {pace_text}; fastest sustained {rec['max_sustained_speed_kmh']:.1f} km/h",
    ]


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _place(p: dict[str, Any]) -> str:
    return f"{p['place']}, {_region(p)} ({p['lat']:.5f}, {p['lon']:.5f})"


def _region(p: dict[str, Any]) -> str:
    """'Antwerpen, Belgium' in Belgium (the province); 'Bayern, Germany' elsewhere."""
    return ", ".join(x for x in (p["province"] or p["admin1"], p["country"]) if x)
