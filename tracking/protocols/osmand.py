"""Traccar Client and OsmAnd: the OsmAnd protocol, read the way Traccar's own decoder reads it.

Two shapes: key=value parameters (query string, or a form body when the query is empty),
and the JSON body of current Traccar Client versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracking.fixes import Fix, parse_time, to_float
from tracking.protocols import Decoded, ProtocolError

KNOTS_TO_MPS = 1852.0 / 3600.0
HDOP_TO_METRES = 5.0  # a rough user-equivalent range error for one unit of HDOP


def decode_params(params: Mapping[str, str], speed_unit: str = "knots") -> Decoded:
    """The query/form variant: id|deviceid, lat+lon|location, timestamp, speed, ..."""
    token = (params.get("id") or params.get("deviceid") or "").strip()
    if not token:
        raise ProtocolError("missing id (or deviceid): set the device identifier in the app")
    try:
        lat, lon = _position(params)
        recorded_at = parse_time(params["timestamp"]) if params.get("timestamp") else None
        if recorded_at is None:
            raise ProtocolError("missing timestamp")
        speed = to_float(params.get("speed"), "speed")
        accuracy = to_float(params.get("accuracy"), "accuracy")
        hdop = to_float(params.get("hdop"), "hdop")
        fix = Fix(
            recorded_at=recorded_at,
            lat=lat,
            lon=lon,
            source="osmand",
            accuracy_m=accuracy
            if accuracy is not None
            else (hdop * HDOP_TO_METRES if hdop else None),
            speed_mps=_speed_mps(speed, speed_unit),
            heading_deg=to_float(params.get("bearing") or params.get("heading"), "bearing"),
            altitude_m=to_float(params.get("altitude"), "altitude"),
            battery_pct=to_float(params.get("batt"), "batt"),
            sos=(params.get("alarm") or "").lower() == "sos",
            raw=dict(params),
        )
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None
    return Decoded(token, (fix,))


def _position(params: Mapping[str, str]) -> tuple[float, float]:
    if params.get("location"):
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise ProtocolError("location must be 'lat,lon'")
        lat, lon = to_float(parts[0], "latitude"), to_float(parts[1], "longitude")
    else:
        lat, lon = to_float(params.get("lat"), "lat"), to_float(params.get("lon"), "lon")
    if lat is None or lon is None:
        raise ProtocolError("missing lat and lon (or location=lat,lon)")
    return lat, lon


def _speed_mps(speed: float | None, unit: str) -> float | None:
    if speed is None or speed < 0:
        return None
    return speed * KNOTS_TO_MPS if unit == "knots" else speed


def decode_json(body: Any) -> Decoded:
    """The JSON variant: {device_id, location: {timestamp, coords, battery, event, extras}}."""
    if not isinstance(body, dict):
        raise ProtocolError("the JSON body must be an object with device_id and location")
    token = str(body.get("device_id") or "").strip()
    location = body.get("location")
    if not token:
        raise ProtocolError("missing device_id: set the device identifier in the app")
    if not isinstance(location, dict) or not isinstance(location.get("coords"), dict):
        raise ProtocolError("missing location.coords")
    coords = location["coords"]
    battery = _object(location.get("battery"))
    extras = _object(location.get("extras"))
    try:
        lat = to_float(coords.get("latitude"), "latitude")
        lon = to_float(coords.get("longitude"), "longitude")
        if lat is None or lon is None or not location.get("timestamp"):
            raise ProtocolError("location needs timestamp, coords.latitude and coords.longitude")
        speed = to_float(coords.get("speed"), "speed")
        heading = to_float(coords.get("heading"), "heading")
        level = to_float(battery.get("level"), "battery.level")
        fix = Fix(
            recorded_at=parse_time(location["timestamp"]),
            lat=lat,
            lon=lon,
            source="traccar-json",
            accuracy_m=to_float(coords.get("accuracy"), "accuracy"),
            speed_mps=speed if speed is not None and speed >= 0 else None,
            heading_deg=heading if heading is not None and heading >= 0 else None,
            altitude_m=to_float(coords.get("altitude"), "altitude"),
            battery_pct=level * 100 if level is not None and level >= 0 else None,
            sos=_is_sos(location.get("event"), extras.get("alarm")),
            raw=body,
        )
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None
    return Decoded(token, (fix,))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_sos(event: Any, alarm: Any) -> bool:
    return str(event or "").lower() == "sos" or str(alarm or "").lower() == "sos"
