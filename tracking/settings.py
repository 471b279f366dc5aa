"""The one settings object: every knob with its default and a one-line reason.

Built once (from the environment by the CLI, directly by tests) and passed down.
Environment variables are the field names in upper case with the prefix REFUGEE_WALK_.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from routes.validation import ValidationRules

MIN_ORGANISER_TOKEN = 20


class SettingsError(ValueError):
    """A setting the server refuses to start with."""


def _s(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    host: str = _s("127.0.0.1", "Address the server listens on.")
    port: int = _s(8000, "Port the server listens on.")
    db_path: Path = _s(Path("refugee-walk.sqlite3"), "The SQLite database file (WAL mode).")
    pubsub_url: str = _s(
        "",
        "redis://host:port/n joins this process to others serving one event (needs PostgreSQL).",
    )
    event: str = _s(
        "antwerp-2023", "Bundled event name (antwerp-2023, gent-2024) or path to an event TOML."
    )
    organiser_token: str = _s(
        "", "Organiser secret; when empty one is generated at first start and kept beside the DB."
    )
    public_url: str = _s(
        "", "Base URL printed in walker links and app set-up (default http://host:port)."
    )
    max_accuracy_m: float = _s(
        100.0, "Fixes less accurate than this are stored and flagged but do not move progress."
    )
    max_speed_kmh: float = _s(
        15.0, "Faster than this from the previous fix is impossible on foot: flagged, not matched."
    )
    future_tolerance_s: float = _s(300.0, "Fixes timed further in the future are refused.")
    checkin_accuracy_cap_m: float = _s(
        50.0, "At most this much of a phone's reported accuracy is added to a check-in radius."
    )
    off_route_m: float = _s(100.0, "A walker further than this from the route is off route...")
    off_route_minutes: float = _s(3.0, "...for this long before an off-route alert is raised.")
    back_on_route_m: float = _s(
        60.0, "Hysteresis: an off-route walker is back on route only within this distance."
    )
    silent_minutes: float = _s(
        15.0, "No message from the phone (fix or heartbeat) for this long raises a silent alert."
    )
    sweep_every_s: float = _s(
        30.0, "How often the clock alerts (silent, not moving, closing time) are checked."
    )
    stationary_minutes: float = _s(
        20.0, "Not moving for this long away from a check-in point raises an alert."
    )
    low_battery_pct: float = _s(15.0, "Battery below this raises an alert.")
    default_pace_kmh: float = _s(4.5, "Pace assumed when neither walker nor route has one yet.")
    max_upload_bytes: int = _s(10 * 1024 * 1024, "Largest GPX upload accepted (413 above).")
    max_body_bytes: int = _s(1024 * 1024, "Largest request body for fixes and check-ins.")
    gpx_max_points: int = _s(
        50_000, "Track or route points a GPX may hold (a 12-hour walk logged every second: 43,200)."
    )
    gpx_max_depth: int = _s(32, "Nesting depth of GPX elements (GPX needs about 7); checked first.")
    gpx_max_elements: int = _s(600_000, "XML elements a GPX may hold; counted before gpxpy runs.")
    route_max_checkpoints: int = _s(
        50, "Check-in points (typed <wpt>) a personal route may carry (the event has 7)."
    )
    cpu_concurrency: int = _s(
        2, "GPX validations and map builds that run at once, in threads off the event loop."
    )
    cpu_wait_s: float = _s(
        2.0, "How long a GPX upload waits for a free slot before it gets 503 with Retry-After."
    )
    http_max_header_bytes: int = _s(
        16 * 1024, "Request line plus headers larger than this get 431 and the connection closes."
    )
    http_max_headers: int = _s(64, "Requests with more header fields than this get 431.")
    http_max_request_line_bytes: int = _s(
        8 * 1024, "URLs (request target) longer than this get 414."
    )
    http_header_timeout_s: float = _s(
        10.0, "A connection that has not sent a complete request head by then is closed."
    )
    http_keep_alive_s: float = _s(5.0, "Idle keep-alive connections are closed after this.")
    http_max_connections: int = _s(
        4000, "Open connections beyond this get 503 (uvicorn's limit_concurrency)."
    )
    auth_failure_burst: int = _s(
        30, "Failed authentications a client address may make at once before it gets 429..."
    )
    auth_failures_per_minute: float = _s(
        10.0, "...and the rate at which that allowance refills (valid credentials never count)."
    )
    cpu_requests_burst: int = _s(
        60, "GPX validations a client address may make at once before it gets 429..."
    )
    cpu_requests_per_minute: float = _s(60.0, "...and the rate at which that allowance refills.")
    export_chunk_rows: int = _s(
        5000, "Exports read and write this many positions at a time (memory stays flat)."
    )
    live_batch_ms: int = _s(250, "Dashboards get batched updates at most this often.")
    live_compression: bool = _s(
        True,
        "Compress the dashboards' live feed (permessage-deflate): a tenth of the data on a phone,"
        " but CPU per dashboard; turn it off for tens of thousands of walkers.",
    )
    live_queue_size: int = _s(
        32, "Messages queued per dashboard; a dashboard that falls behind gets a fresh snapshot."
    )
    tile_url: str = _s(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "Map tile URL template (any XYZ server)."
    )
    tile_attribution: str = _s(
        "&copy; OpenStreetMap contributors", "Attribution shown for the tiles."
    )
    validation: ValidationRules = field(
        default_factory=ValidationRules,
        metadata={"help": "Personal-route rules; each is REFUGEE_WALK_VALIDATION_<RULE>."},
    )
    retention_days: int = _s(
        30, "Positions are deleted this many days after the event (`refugee-walk purge`)."
    )
    follow_enabled: bool = _s(
        True, "Walkers may make follow links for family; false turns the feature off (404)."
    )
    follow_expiry_hours: float = _s(
        12.0, "Follow links answer 410 this many hours after the event day ends."
    )
    live_frame_ancestors: str = _s(
        "'self'",
        "Who may embed /live in a frame (CSP frame-ancestors), e.g. 'self' https://example.org.",
    )

    def check(self) -> None:
        """Refuse settings the server must not start with (`SettingsError` says which)."""
        if self.organiser_token and len(self.organiser_token) < MIN_ORGANISER_TOKEN:
            raise SettingsError(
                f"the organiser token is {len(self.organiser_token)} characters; use at least "
                f"{MIN_ORGANISER_TOKEN} (or leave REFUGEE_WALK_ORGANISER_TOKEN empty and one "
                "is generated)"
            )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from REFUGEE_WALK_* variables, then explicit overrides (CLI flags)."""
        env = dict(os.environ) if env is None else env
        values = _from_env(cls(), "REFUGEE_WALK_", env)
        rules = _from_env(ValidationRules(), "REFUGEE_WALK_VALIDATION_", env)
        values["validation"] = replace(ValidationRules(), **rules)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def gpx_limits(self) -> dict[str, int]:
        """The GPX reader's structural limits (keyword arguments of `read_gpx`)."""
        return {
            "max_points": self.gpx_max_points,
            "max_depth": self.gpx_max_depth,
            "max_elements": self.gpx_max_elements,
        }

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _from_env(defaults: Any, prefix: str, env: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(defaults):
        raw = env.get(f"{prefix}{f.name.upper()}")
        if raw is not None and (raw != "" or isinstance(getattr(defaults, f.name), str)):
            values[f.name] = _convert(getattr(defaults, f.name), raw)
    return values


def _convert(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, Path):
        return Path(raw)
    return type(default)(raw)


def documented_settings() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting: the README table is checked against this.

    The personal-route rules appear as `validation_<rule>` (their environment variable).
    """
    top = [
        (f.name, f.default, f.metadata["help"]) for f in fields(Settings) if f.name != "validation"
    ]
    rules = [
        (f"validation_{f.name}", f.default, f.metadata["help"]) for f in fields(ValidationRules)
    ]
    return top + rules
