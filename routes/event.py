"""An event edition read from its TOML file: date, time zone, routes with their GPX, closing times.

Adding an edition or replacing a reconstructed route by the real GPX is a matter of files:
drop the GPX in, point the event file at it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routes.errors import EventConfigError, GpxReadError
from routes.gpx_reader import read_route_gpx
from routes.prepared import PreparedRoute, prepare_route


@dataclass(frozen=True)
class EventRoute:
    """One route of an event, with its start times and each check-in point's closing time."""

    id: str
    name: str
    gpx_path: Path
    starts: tuple[datetime, ...]
    route: PreparedRoute
    closing: dict[str, datetime] = field(default_factory=dict)

    @property
    def last_start(self) -> datetime:
        return max(self.starts)


@dataclass(frozen=True)
class Event:
    name: str
    date: date
    timezone: ZoneInfo
    organiser_phone: str
    checkin_radius_m: float
    slowest_pace_kmh: float
    routes: dict[str, EventRoute]
    path: Path

    def route(self, route_id: str) -> EventRoute:
        return self.routes[route_id]

    @property
    def day_start(self) -> datetime:
        """Midnight of the event day in its own time zone (fixes before it are refused)."""
        return datetime.combine(self.date, time(0), self.timezone)


def load_event(path: Path) -> Event:
    """Read an event file and every route it names; errors name the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EventConfigError(f"{path}: event file not found") from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, not UTF-8
        raise EventConfigError(f"{path}: cannot read the event file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise EventConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        tz = ZoneInfo(raw.get("timezone", "Europe/Brussels"))
        day = raw["date"]
        if not isinstance(day, date):
            raise EventConfigError(f"{path}: 'date' must be a TOML date like 2023-10-08")
        pace = float(raw.get("slowest_pace_kmh", 3.0))
        routes = {r["id"]: _event_route(path, r, day, tz, pace) for r in raw.get("routes", [])}
        if not routes:
            raise EventConfigError(f"{path}: the event has no [[routes]]")
        return Event(
            name=str(raw["name"]),
            date=day,
            timezone=tz,
            organiser_phone=str(raw.get("organiser_phone", "")),
            checkin_radius_m=float(raw.get("checkin_radius_m", 75)),
            slowest_pace_kmh=pace,
            routes=routes,
            path=path,
        )
    except KeyError as exc:
        raise EventConfigError(f"{path}: missing key {exc}") from None
    except ZoneInfoNotFoundError:
        raise EventConfigError(f"{path}: unknown time zone {raw.get('timezone')!r}") from None
    except (ValueError, TypeError) as exc:
        raise EventConfigError(f"{path}: {exc}") from None


def _event_route(path: Path, raw: dict, day: date, tz: ZoneInfo, pace_kmh: float) -> EventRoute:
    gpx_path = (path.parent / raw["gpx"]).resolve()
    try:
        doc = read_route_gpx(gpx_path.read_bytes(), str(gpx_path.name))
    except FileNotFoundError:
        raise EventConfigError(
            f"{path}: route {raw['id']!r}: GPX file {gpx_path} not found"
        ) from None
    except OSError as exc:  # a folder, no permission
        raise EventConfigError(
            f"{path}: route {raw['id']!r}: cannot read the GPX ({exc})"
        ) from None
    except GpxReadError as exc:
        raise EventConfigError(f"{path}: route {raw['id']!r}: {exc}") from None
    route = prepare_route(doc, route_id=str(raw["id"]), name=str(raw.get("name", raw["id"])))
    where = f"{path}: route {raw['id']!r}"
    starts = tuple(_at(day, s, tz, f"{where}: starts") for s in raw.get("starts", ["09:00"]))
    closing = closing_times(route, max(starts), pace_kmh)
    for cp_id, hhmm in raw.get("closing", {}).items():
        if cp_id not in closing:
            known = ", ".join(closing)
            raise EventConfigError(
                f"{path}: route {raw['id']!r}: closing time for unknown check-in point "
                f"{cp_id!r} (known: {known})"
            )
        closing[cp_id] = _at(day, hhmm, tz, f"{where}: closing.{cp_id}")
    return EventRoute(str(raw["id"]), route.name, gpx_path, starts, route, closing)


def _at(day: date, hhmm: str | time, tz: ZoneInfo, where: str) -> datetime:
    """A clock time on the event day; TOML may give it quoted ("08:00") or bare (08:00:00)."""
    if isinstance(hhmm, time):
        return datetime.combine(day, hhmm, tz)
    try:
        return datetime.combine(day, time.fromisoformat(str(hhmm)), tz)
    except ValueError:
        raise EventConfigError(f'{where}: {hhmm!r} is not a time of day like "08:00"') from None


def closing_times(
    route: PreparedRoute, last_start: datetime, pace_kmh: float
) -> dict[str, datetime]:
    """When each check-in point closes: the slowest allowed walker, starting last, passes it."""
    return {
        cp.id: last_start + timedelta(hours=cp.distance_along_m / 1000 / pace_kmh)
        for cp in route.checkpoints
    }
