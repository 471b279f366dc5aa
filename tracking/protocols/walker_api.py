"""The walker page's JSON: `{fixes: [{id, recorded_at, lat, lon, accuracy_m?, ...}]}`."""

from __future__ import annotations

from typing import Any

from tracking.fixes import Fix, parse_time, to_float
from tracking.protocols import Decoded, ProtocolError
from tracking.validation import Refusal

MAX_FIXES_PER_BATCH = 5000


def decode(body: Any, token: str) -> Decoded:
    """The batch's fixes; an item that cannot be read is refused with its id and the reason."""
    fixes, refusals = [], []
    for item in batch_items(body):
        try:
            fixes.append(decode_fix(item))
        except (ValueError, OverflowError) as exc:
            item_id = str(item.get("id", ""))[:64] if isinstance(item, dict) else ""
            refusals.append(Refusal("unreadable", str(exc), item_id))
    return Decoded(token, tuple(fixes), tuple(refusals), app="web")


def decode_fix(item: Any, source: str = "web") -> Fix:
    """One fix of a batch; raises ValueError naming the field that is wrong."""
    if not isinstance(item, dict):
        raise ValueError("each fix must be an object with recorded_at, lat and lon")
    for key in ("recorded_at", "lat", "lon"):
        if item.get(key) in (None, ""):
            raise ValueError(f"the fix has no {key}")
    lat = to_float(item["lat"], "lat")
    lon = to_float(item["lon"], "lon")
    assert lat is not None and lon is not None
    return Fix(
        recorded_at=parse_time(item["recorded_at"]),
        lat=lat,
        lon=lon,
        source=source,
        accuracy_m=to_float(item.get("accuracy_m"), "accuracy_m"),
        speed_mps=to_float(item.get("speed_mps"), "speed_mps"),
        heading_deg=to_float(item.get("heading_deg"), "heading_deg"),
        altitude_m=to_float(item.get("altitude_m"), "altitude_m"),
        battery_pct=to_float(item.get("battery_pct"), "battery_pct"),
        client_id=str(item.get("id") or "")[:64],
        sos=bool(item.get("sos", False)),
        raw=item,
    )


def batch_items(body: Any) -> list[Any]:
    """The list of fixes in a walker-page body, or ProtocolError."""
    if not isinstance(body, dict) or not isinstance(body.get("fixes"), list):
        raise ProtocolError(
            'the body must be JSON like {"fixes": [{"id", "recorded_at", "lat", "lon"}]}'
        )
    items = body["fixes"]
    if len(items) > MAX_FIXES_PER_BATCH:
        raise ProtocolError(f"at most {MAX_FIXES_PER_BATCH} fixes per request; send the rest after")
    return items
