"""Where the bundled data lives: `routes/bundled` in an installed wheel, `data/` in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).resolve().parent / "bundled"
_CHECKOUT_DATA = Path(__file__).resolve().parent.parent / "data"

DEFAULT_EVENT = "antwerp-2023"


def data_dir() -> Path:
    """The folder holding `gpx/` and `events/`."""
    return _PACKAGE_DATA if (_PACKAGE_DATA / "events").is_dir() else _CHECKOUT_DATA


def event_path(name_or_path: str | Path | None = None) -> Path:
    """A bundled event by name (`antwerp-2023`), or a path to an event file as given."""
    if name_or_path is None:
        name_or_path = DEFAULT_EVENT
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or len(candidate.parts) > 1:
        return candidate
    return data_dir() / "events" / f"{name_or_path}.toml"
