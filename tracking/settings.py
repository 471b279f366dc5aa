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


def _s(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    host: str = _s("127.0.0.1", "Address the server listens on.")
    port: int = _s(8000, "Port the server listens on.")
    db_path: Path = _s(Path("refugee-walk.sqlite3"), "The SQLite database file (WAL mode).")
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
    osmand_speed_unit: str = _s(
        "knots", "Unit of `speed` at /ingest/osmand: knots (Traccar Client) or mps (OsmAnd)."
    )
    checkin_accuracy_cap_m: float = _s(
        50.0, "At most this much of a phone's reported accuracy is added to a check-in radius."
    )
    off_route_m: float = _s(100.0, "A walker further than this from the route is off route...")
    off_route_minutes: float = _s(3.0, "...for this long before an off-route alert is raised.")
    back_on_route_m: float = _s(
        60.0, "Hysteresis: an off-route walker is back on route only within this distance."
    )
    silent_minutes: float = _s(15.0, "No fix for this long while walking raises a silent alert.")
    stationary_minutes: float = _s(
        20.0, "Not moving for this long away from a check-in point raises an alert."
    )
    low_battery_pct: float = _s(15.0, "Battery below this raises an alert.")
    default_pace_kmh: float = _s(4.5, "Pace assumed when neither walker nor route has one yet.")
    max_upload_bytes: int = _s(10 * 1024 * 1024, "Largest GPX upload accepted (413 above).")
    max_body_bytes: int = _s(1024 * 1024, "Largest request body for fixes and check-ins.")
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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from REFUGEE_WALK_* variables, then explicit overrides (CLI flags)."""
        env = dict(os.environ) if env is None else env
        values = _from_env(cls(), "REFUGEE_WALK_", env)
        rules = _from_env(ValidationRules(), "REFUGEE_WALK_VALIDATION_", env)
        values["validation"] = replace(ValidationRules(), **rules)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

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
