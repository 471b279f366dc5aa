"""OwnTracks in HTTP mode: one JSON object per POST; only `_type: location` carries a fix."""

from __future__ import annotations

from typing import Any

from tracking.fixes import Fix, parse_time, to_float
from tracking.protocols import ProtocolError

KMH_TO_MPS = 1 / 3.6


def decode_location(body: Any) -> Fix | None:
    """A fix from a location message; None for other message types (ignored, answered 200)."""
    if not isinstance(body, dict) or body.get("_type") != "location":
        return None
    try:
        lat = to_float(body.get("lat"), "lat")
        lon = to_float(body.get("lon"), "lon")
        if lat is None or lon is None or body.get("tst") in (None, ""):
            raise ProtocolError("a location needs lat, lon and tst")
        vel = to_float(body.get("vel"), "vel")
        cog = to_float(body.get("cog"), "cog")
        return Fix(
            recorded_at=parse_time(body["tst"]),
            lat=lat,
            lon=lon,
            source="owntracks",
            accuracy_m=to_float(body.get("acc"), "acc"),
            speed_mps=vel * KMH_TO_MPS if vel is not None and vel >= 0 else None,
            heading_deg=cog if cog is not None and cog >= 0 else None,
            altitude_m=to_float(body.get("alt"), "alt"),
            battery_pct=to_float(body.get("batt"), "batt"),
            raw=body,
        )
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None
