"""Traccar Client and OsmAnd: the OsmAnd protocol, read the way Traccar's own decoder reads it.

Two shapes: key=value parameters (query string, or a form body when the query is empty), and
the JSON body of Traccar Client 9.x. A message without a position is a heartbeat (the phone
is alive at its last position); a missing time is the time it arrived, flagged `no_time`.

Units are known per request, not guessed for the server: Traccar Client sends `speed` in
knots and `accuracy` in metres; OsmAnd's URL template fills `{3}` (named `hdop` in its default
template) with the accuracy in metres and `{5}` with the speed in m/s. A request that carries
`hdop`, or `units=si` (which our OsmAnd template adds), is OsmAnd's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tracking.fixes import Fix, parse_time, to_float
from tracking.protocols import Alive, Decoded, ProtocolError
from tracking.validation import Refusal

KNOTS_TO_MPS = 1852.0 / 3600.0
TRUE = ("true", "1", "yes")


def is_osmand(params: Mapping[str, str]) -> bool:
    """OsmAnd's template (metres and m/s), not Traccar Client's (knots)."""
    return "hdop" in params or (params.get("units") or "").lower() == "si"


def decode_params(params: Mapping[str, str], received_at: datetime | None = None) -> Decoded:
    """The query/form variant: id|deviceid, lat+lon|location, timestamp, speed, ..."""
    token = (params.get("id") or params.get("deviceid") or "").strip()
    if not token:
        raise ProtocolError("missing id (or deviceid): set the device identifier in the app")
    try:
        battery = to_float(params.get("batt"), "batt")
        charging = _flag(params.get("charge"))
        recorded_at, flags = _time(params.get("timestamp"), received_at)
        position = _position(params)
        if position is None:
            return Decoded(token, alive=Alive(recorded_at, battery, charging), app="osmand")
        lat, lon = position
        osmand = is_osmand(params)
        accuracy = to_float(params.get("accuracy", params.get("hdop")), "accuracy")
        fix = Fix(
            recorded_at=recorded_at,
            lat=lat,
            lon=lon,
            source="osmand",
            accuracy_m=accuracy if accuracy is not None and accuracy > 0 else None,
            speed_mps=_speed_mps(to_float(params.get("speed"), "speed"), osmand),
            heading_deg=to_float(params.get("bearing") or params.get("heading"), "bearing"),
            altitude_m=to_float(params.get("altitude"), "altitude"),
            battery_pct=battery,
            sos=(params.get("alarm") or "").lower() == "sos",
            raw=dict(params),
            flags=flags,
        )
    except (ValueError, OverflowError) as exc:
        return Decoded(token, refusals=(Refusal("unreadable", str(exc)),), app="osmand")
    return Decoded(token, (fix,), alive=Alive(recorded_at, battery, charging), app="osmand")


def _time(value: Any, received_at: datetime | None) -> tuple[datetime, tuple[str, ...]]:
    """The fix's time; a missing one is the time it arrived, flagged (as Traccar does)."""
    if value in (None, ""):
        if received_at is None:
            raise ValueError("missing timestamp")
        return received_at, ("no_time",)
    return parse_time(value), ()


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE


def _position(params: Mapping[str, str]) -> tuple[float, float] | None:
    if params.get("location"):
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise ValueError("location must be 'lat,lon'")
        lat, lon = to_float(parts[0], "latitude"), to_float(parts[1], "longitude")
    else:
        lat, lon = to_float(params.get("lat"), "lat"), to_float(params.get("lon"), "lon")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValueError("a position needs both lat and lon")
    return lat, lon


def _speed_mps(speed: float | None, metres_per_second: bool) -> float | None:
    if speed is None or speed < 0:
        return None
    return speed if metres_per_second else speed * KNOTS_TO_MPS


def decode_json(body: Any, received_at: datetime | None = None) -> Decoded:
    """Traccar Client 9.x: {device_id, location: {timestamp, coords, battery, event, extras}}."""
    if not isinstance(body, dict):
        raise ProtocolError("the JSON body must be an object with device_id and location")
    token = str(body.get("device_id") or "").strip()
    if not token:
        raise ProtocolError("missing device_id: set the device identifier in the app")
    location = body.get("location")
    if isinstance(location, list):  # a batch of records
        decoded = [_json_location(token, item, received_at) for item in location]
        return Decoded(
            token,
            tuple(f for d in decoded for f in d.fixes),
            tuple(r for d in decoded for r in d.refusals),
            next((d.alive for d in reversed(decoded) if d.alive), None),
            "traccar-json",
        )
    return _json_location(token, location, received_at)


def _json_location(token: str, location: Any, received_at: datetime | None) -> Decoded:
    if not isinstance(location, dict):
        return Decoded(token, refusals=(Refusal("unreadable", "missing location"),))
    coords = _object(location.get("coords"))
    battery = _object(location.get("battery"))
    extras = _object(location.get("extras"))
    try:
        level = to_float(battery.get("level"), "battery.level")
        pct = level * 100 if level is not None and level >= 0 else None
        recorded_at, flags = _time(location.get("timestamp"), received_at)
        activity = _object(location.get("activity")).get("type")
        moving = location.get("is_moving")
        hint = moving if isinstance(moving, bool) else (False if activity == "still" else None)
        alive = Alive(recorded_at, pct, _flag(battery.get("is_charging")), hint)
        lat = to_float(coords.get("latitude"), "latitude")
        lon = to_float(coords.get("longitude"), "longitude")
        if lat is None and lon is None:
            return Decoded(token, alive=alive, app="traccar-json")
        if lat is None or lon is None:
            raise ValueError("coords need both latitude and longitude")
        speed = to_float(coords.get("speed"), "speed")
        heading = to_float(coords.get("heading"), "heading")
        accuracy = to_float(coords.get("accuracy"), "accuracy")
        fix = Fix(
            recorded_at=recorded_at,
            lat=lat,
            lon=lon,
            source="traccar-json",
            accuracy_m=accuracy if accuracy is not None and accuracy > 0 else None,
            speed_mps=speed if speed is not None and speed >= 0 else None,
            heading_deg=heading if heading is not None and heading >= 0 else None,
            altitude_m=to_float(coords.get("altitude"), "altitude"),
            battery_pct=pct,
            sos=_is_sos(location.get("event"), location.get("alarm"), extras.get("alarm")),
            raw=location,
            flags=flags,
        )
    except (ValueError, OverflowError) as exc:
        return Decoded(token, refusals=(Refusal("unreadable", str(exc)),), app="traccar-json")
    return Decoded(token, (fix,), alive=alive, app="traccar-json")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_sos(*values: Any) -> bool:
    return any(str(v or "").lower() == "sos" for v in values)
