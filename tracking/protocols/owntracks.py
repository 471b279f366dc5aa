"""OwnTracks in HTTP mode: one JSON object per POST; `location` (and `transition`) carry a fix.

The walker is the Basic-auth password (the handler reads it); this reads the body.
Other message types are acknowledged and not stored; an encrypted payload is refused with a
reason that tells the organisers (and the walker's app check) what to change.
"""

from __future__ import annotations

from typing import Any

from tracking.fixes import Fix, parse_time, to_float
from tracking.protocols import Alive, Decoded
from tracking.validation import Refusal

KMH_TO_MPS = 1 / 3.6
CHARGING = (2, 3)  # bs: 0 unknown, 1 unplugged, 2 charging, 3 full


def decode(body: Any, token: str) -> Decoded:
    """The message's fix (if any) for the walker `token`."""
    kind = body.get("_type") if isinstance(body, dict) else None
    if kind == "encrypted":
        return Decoded(
            token,
            refusals=(
                Refusal(
                    "encrypted",
                    "OwnTracks sends encrypted messages: clear the Encryption key in its settings",
                ),
            ),
            app="owntracks",
        )
    if kind not in ("location", "transition") or not isinstance(body, dict):
        return Decoded(token, app="owntracks")
    try:
        fix = _fix(body)
    except (ValueError, OverflowError) as exc:
        return Decoded(token, refusals=(Refusal("unreadable", str(exc)),), app="owntracks")
    if fix is None:
        return Decoded(token, app="owntracks")
    bs = body.get("bs")
    charging = bs in CHARGING if isinstance(bs, int) and bs else None
    return Decoded(
        token, (fix,), alive=Alive(fix.recorded_at, fix.battery_pct, charging), app="owntracks"
    )


def _fix(body: dict) -> Fix | None:
    lat = to_float(body.get("lat"), "lat")
    lon = to_float(body.get("lon"), "lon")
    if lat is None and lon is None and body.get("_type") == "transition":
        return None
    if lat is None or lon is None or body.get("tst") in (None, ""):
        raise ValueError("a location needs lat, lon and tst")
    vel = to_float(body.get("vel"), "vel")
    cog = to_float(body.get("cog"), "cog")
    acc = to_float(body.get("acc"), "acc")
    return Fix(
        recorded_at=parse_time(body["tst"]),
        lat=lat,
        lon=lon,
        source="owntracks",
        accuracy_m=acc if acc is not None and acc > 0 else None,
        speed_mps=vel * KMH_TO_MPS if vel is not None and vel >= 0 else None,
        heading_deg=cog if cog is not None and cog >= 0 else None,
        altitude_m=to_float(body.get("alt"), "alt"),
        battery_pct=to_float(body.get("batt"), "batt"),
        raw=body,
    )


def decode_location(body: Any) -> Fix | None:
    """The fix of a location message, or None (kept for tools that read single messages)."""
    decoded = decode(body, "")
    if decoded.refusals:
        raise ValueError(decoded.refusals[0].message)
    return decoded.fixes[0] if decoded.fixes else None
