"""One GPS fix, normalised from any protocol: SI units, aware UTC time, raw values kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FIRST_YEAR, LAST_YEAR = 1970, 2999


@dataclass(frozen=True)
class Fix:
    recorded_at: datetime
    lat: float
    lon: float
    source: str
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    client_id: str = ""
    sos: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    flags: tuple[str, ...] = field(default=(), compare=False)  # set by a decoder (no_time)
    ts: float = field(init=False, compare=False, repr=False)  # recorded_at as epoch seconds

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", self.recorded_at.timestamp())


def utc_from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_time(value: Any) -> datetime:
    """Epoch seconds, epoch milliseconds (> 2,147,483,647) or ISO-8601 with a zone -> aware UTC.

    Raises ValueError with a sentence a person understands.
    """
    if isinstance(value, bool):
        raise ValueError(f"time {value!r} is neither epoch seconds nor ISO-8601")
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        if number > 2_147_483_647:
            number /= 1000.0
        try:
            at = utc_from_epoch(number)
        except (OverflowError, OSError, ValueError):  # inf, nan, or beyond year 9999
            raise ValueError(f"time {value!r} is not a possible epoch time") from None
        return _possible(at, value)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"time {value!r} is neither epoch seconds nor ISO-8601") from None
        if parsed.tzinfo is None:
            raise ValueError(f"time {value!r} has no time zone; add Z or an offset like +02:00")
        try:
            return _possible(parsed.astimezone(UTC), value)
        except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
            raise ValueError(_impossible(value)) from None
    raise ValueError(f"time {value!r} is neither epoch seconds nor ISO-8601")


def _possible(at: datetime, value: Any) -> datetime:
    """`at`, when a phone could have recorded it (years 1970 to 2999)."""
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise ValueError(_impossible(value))
    return at


def _impossible(value: Any) -> str:
    return f"time {value!r} is not a possible time for a position (years {FIRST_YEAR}-{LAST_YEAR})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_float(value: Any, name: str) -> float | None:
    """An optional number from a protocol field; '' and None mean absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):  # JSON true/false are not numbers (float(True) would be 1.0)
        raise ValueError(f"{name} {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} {value!r} is not a number")
    return number
