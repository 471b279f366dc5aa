"""Folium maps that load Leaflet from our own server or from the page itself, never from a CDN.

A plain `folium.Map` pulls jQuery, Bootstrap, awesome-markers and Font Awesome from five
CDNs. At a rest stop with one bar of signal that is seconds of blank page, and none of it is
needed to draw lines and circles. These maps load only Leaflet (and, when asked,
Leaflet.markercluster) from the xstatic packages, in one of two modes:

- `served`: `<script src="/vendor/leaflet/leaflet.js">`; the web app mounts `VENDOR_DIRS`
  under `VENDOR_URL_PREFIX`.
- `inline`: the files' contents are written into the HTML, so one file works anywhere.

Only the tiles come from outside. Routes and points are vectors, so they stay visible when
tiles fail to load; a light background keeps the page from looking broken when that happens.

folium's `Popup` needs jQuery (it calls `$(...)`): use `maps.elements.PlainPopup` instead.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import folium
import folium.plugins
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from branca.element import Element, Figure

Mode = Literal["served", "inline"]

OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
OSM_MAX_ZOOM = 19
# OpenStreetMap's land colour: an empty map looks like a map that is still loading, not broken.
BACKGROUND_COLOUR = "#f2efe9"

VENDOR_URL_PREFIX = "/vendor"
VENDOR_DIRS: dict[str, Path] = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "leaflet-markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}


@dataclass(frozen=True)
class Asset:
    """One vendored file; `key` is its slot in the page header (folium's own names for Leaflet)."""

    key: str
    package: str
    filename: str

    @property
    def kind(self) -> Literal["js", "css"]:
        return "css" if self.filename.endswith(".css") else "js"

    @property
    def url(self) -> str:
        return f"{VENDOR_URL_PREFIX}/{self.package}/{self.filename}"

    @property
    def path(self) -> Path:
        return VENDOR_DIRS[self.package] / self.filename


LEAFLET_ASSETS = (
    Asset("leaflet", "leaflet", "leaflet.js"),
    Asset("leaflet_css", "leaflet", "leaflet.css"),
)
MARKERCLUSTER_ASSETS = (
    Asset("markerclusterjs", "leaflet-markercluster", "leaflet.markercluster.js"),
    Asset("markerclustercss", "leaflet-markercluster", "MarkerCluster.css"),
    Asset("markerclusterdefaultcss", "leaflet-markercluster", "MarkerCluster.Default.css"),
)


def _links(assets: tuple[Asset, ...], kind: str) -> list[tuple[str, str]]:
    return [(a.key, a.url) for a in assets if a.kind == kind]


class OfflineMap(folium.Map):
    """A `folium.Map` without CDN resources; build a `ServedMap` or an `InlineMap`.

    The resource lists are copied onto each instance, so `add_js_link` on one map never
    reaches another (folium keeps them in class attributes shared by every map).
    """

    mode: ClassVar[Mode]
    default_js: list[tuple[str, str]] = []  # noqa: RUF012  (folium's own attribute)
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(
        self,
        *,
        tiles_url: str = OSM_TILES_URL,
        attribution: str = OSM_ATTRIBUTION,
        max_zoom: int = OSM_MAX_ZOOM,
        markercluster: bool = False,
        background_colour: str = BACKGROUND_COLOUR,
        **kwargs: Any,
    ) -> None:
        super().__init__(tiles=None, max_zoom=max_zoom, **kwargs)
        self.assets = LEAFLET_ASSETS + (MARKERCLUSTER_ASSETS if markercluster else ())
        self.default_js = list(type(self).default_js)
        self.default_css = list(type(self).default_css)
        self.background_colour = background_colour
        if tiles_url:
            folium.TileLayer(
                tiles=tiles_url, attr=attribution, name="Map", max_zoom=max_zoom, control=False
            ).add_to(self)

    @property
    def has_markercluster(self) -> bool:
        return MARKERCLUSTER_ASSETS[0] in self.assets

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure), "render the map through its Figure"
        figure.header.add_child(
            Element(
                f"<style>#{self.get_name()} {{ background: {self.background_colour}; }}</style>"
            ),
            name="offline_map_background",
        )
        return super().render(**kwargs)


class ServedMap(OfflineMap):
    """Leaflet from `/vendor/...`, which the web app serves from the xstatic packages."""

    mode: ClassVar[Mode] = "served"
    default_js = _links(LEAFLET_ASSETS, "js")
    default_css = _links(LEAFLET_ASSETS, "css")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_js = _links(self.assets, "js")
        self.default_css = _links(self.assets, "css")


class InlineMap(OfflineMap):
    """Leaflet written into the page: a single HTML file that needs no server."""

    mode: ClassVar[Mode] = "inline"

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure), "render the map through its Figure"
        for asset in self.assets:
            figure.header.add_child(Element(inline_tag(asset)), name=asset.key)
        return super().render(**kwargs)


def offline_map(mode: Mode, **kwargs: Any) -> OfflineMap:
    """A `ServedMap` or an `InlineMap`; keyword arguments as for `OfflineMap`."""
    classes: dict[str, type[OfflineMap]] = {"served": ServedMap, "inline": InlineMap}
    if mode not in classes:
        raise ValueError(f"unknown map mode {mode!r}; use 'served' or 'inline'")
    return classes[mode](**kwargs)


class OfflineMarkerCluster(folium.plugins.MarkerCluster):
    """folium's MarkerCluster without its CDN links; the map must be built with markercluster."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def render(self, **kwargs: Any) -> Any:
        parent = self._parent
        while parent is not None and not isinstance(parent, OfflineMap):
            parent = parent._parent
        if parent is None or not parent.has_markercluster:
            raise ValueError("add OfflineMarkerCluster to a map built with markercluster=True")
        return super().render(**kwargs)


def page_html(fmap: folium.Map, title: str = "") -> str:
    """The whole HTML page of a map; `title` is plain text."""
    figure = fmap.get_root()
    assert isinstance(figure, Figure), "a folium map always sits in a Figure"
    figure.title = html.escape(title) if title else None
    return figure.render()


def inline_tag(asset: Asset) -> str:
    """The asset as a `<script>` or `<style>` element holding its text."""
    text = _inline_text(asset.package, asset.filename)
    return f"<script>{text}</script>" if asset.kind == "js" else f"<style>{text}</style>"


@cache
def _inline_text(package: str, filename: str) -> str:
    asset_dir = VENDOR_DIRS[package]
    text = (asset_dir / filename).read_text(encoding="utf-8")
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    if filename.endswith(".css"):
        text = re.sub(r"url\((images/[\w.-]+\.png)\)", lambda m: _data_url(asset_dir / m[1]), text)
        return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _data_url(path: Path) -> str:
    """Leaflet's CSS points at images/*.png (the layers icon); a single file must carry them."""
    return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"
