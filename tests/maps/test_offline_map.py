"""Offline maps load Leaflet from /vendor/... or from the page itself, never from a CDN, and
building one never changes folium's shared class attributes."""

from __future__ import annotations

from html.parser import HTMLParser

import folium
import pytest

from maps.elements import PlainPopup
from maps.offline import (
    LEAFLET_ASSETS,
    MARKERCLUSTER_ASSETS,
    OSM_TILES_URL,
    VENDOR_DIRS,
    VENDOR_URL_PREFIX,
    InlineMap,
    OfflineMarkerCluster,
    ServedMap,
    offline_map,
    page_html,
)

FOLIUM_EXTRAS = ("jquery", "bootstrap", "awesome", "fontawesome", "glyphicons")


class Resources(HTMLParser):
    """Every external resource a page loads: script src, link href, and inline script bodies."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0
        self.styles = 0
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(str(values["src"]))
        elif tag == "script":
            self.inline_scripts += 1
        elif tag == "link" and values.get("href"):
            self.links.append(str(values["href"]))
        elif tag == "style":
            self.styles += 1


def render(fmap: folium.Map) -> str:
    return page_html(fmap, title="test")


def test_served_map_loads_only_leaflet_from_vendor() -> None:
    found = Resources(render(ServedMap()))
    assert found.scripts == ["/vendor/leaflet/leaflet.js"]
    assert found.links == ["/vendor/leaflet/leaflet.css"]


def test_served_map_has_no_cdn_or_folium_extras() -> None:
    page = render(ServedMap())
    assert "cdn" not in page.lower()
    assert '<script src="http' not in page
    assert "$(" not in page  # no jQuery call anywhere
    for extra in FOLIUM_EXTRAS:
        assert extra not in page.lower()


def test_served_map_with_markercluster_adds_its_three_files() -> None:
    found = Resources(render(ServedMap(markercluster=True)))
    assert found.scripts == [
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet-markercluster/leaflet.markercluster.js",
    ]
    assert found.links == [
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet-markercluster/MarkerCluster.css",
        "/vendor/leaflet-markercluster/MarkerCluster.Default.css",
    ]


def test_every_vendor_url_is_a_file_the_app_can_mount() -> None:
    for asset in LEAFLET_ASSETS + MARKERCLUSTER_ASSETS:
        package, filename = asset.url.removeprefix(VENDOR_URL_PREFIX + "/").split("/", 1)
        assert (VENDOR_DIRS[package] / filename).is_file(), asset.url
        assert asset.path == VENDOR_DIRS[package] / filename
    assert (VENDOR_DIRS["leaflet"] / "images" / "layers.png").is_file()


def test_inline_map_embeds_leaflet_and_links_nothing() -> None:
    page = render(InlineMap(markercluster=True))
    found = Resources(page)
    assert found.scripts == []
    assert found.links == []
    assert "Leaflet 1.9" in page  # the library's own banner
    assert "MarkerClusterGroup" in page
    assert ".leaflet-container" in page
    assert "cdn" not in page  # (base64 images may hold "cdN"; lowercase never appears)
    assert "sourceMappingURL" not in page


def test_inline_css_carries_the_layer_control_icon() -> None:
    page = render(InlineMap())
    assert "url(images/" not in page
    assert "url(data:image/png;base64," in page


def test_tiles_url_and_attribution_are_parameters() -> None:
    page = render(ServedMap(tiles_url="https://tiles.example/{z}/{x}/{y}.png", attribution="Ex"))
    assert "https://tiles.example/{z}/{x}/{y}.png" in page
    assert '"attribution": "Ex"' in page
    assert OSM_TILES_URL not in page


def test_osm_tiles_by_default() -> None:
    page = render(InlineMap())
    assert OSM_TILES_URL in page
    assert "OpenStreetMap" in page


def test_no_tiles_at_all_when_the_url_is_empty() -> None:
    assert "L.tileLayer" not in render(ServedMap(tiles_url=""))


def test_map_div_has_a_light_background_for_when_tiles_fail() -> None:
    fmap = ServedMap(background_colour="#abcdef")
    assert f"#{fmap.get_name()} {{ background: #abcdef; }}" in render(fmap)


def test_offline_map_picks_the_class_by_mode() -> None:
    assert isinstance(offline_map("served"), ServedMap)
    assert isinstance(offline_map("inline"), InlineMap)
    with pytest.raises(ValueError, match="unknown map mode"):
        offline_map("cdn")  # type: ignore[arg-type]


def test_building_maps_never_changes_folium_or_our_class_attributes() -> None:
    folium_js, folium_css = list(folium.Map.default_js), list(folium.Map.default_css)
    served_js = list(ServedMap.default_js)
    first = ServedMap(markercluster=True)
    first.add_js_link("extra", "/vendor/extra.js")
    render(first)
    render(InlineMap(markercluster=True))
    second = ServedMap()
    assert folium.Map.default_js == folium_js
    assert folium.Map.default_css == folium_css
    assert ServedMap.default_js == served_js == [("leaflet", "/vendor/leaflet/leaflet.js")]
    assert InlineMap.default_js == [] and InlineMap.default_css == []
    assert "/vendor/extra.js" not in render(second)
    # and a plain folium map still gets its usual resources
    assert "leaflet" in dict(folium.Map().default_js)


def test_marker_cluster_without_cdn_on_a_map_that_loads_it() -> None:
    fmap = ServedMap(markercluster=True)
    cluster = OfflineMarkerCluster().add_to(fmap)
    folium.CircleMarker([51.2, 4.4], radius=5).add_to(cluster)
    page = render(fmap)
    assert "L.markerClusterGroup" in page
    assert "cdnjs" not in page and "cdn" not in page.lower()


def test_marker_cluster_on_a_map_without_it_is_refused() -> None:
    fmap = ServedMap()
    OfflineMarkerCluster().add_to(fmap)
    with pytest.raises(ValueError, match="markercluster=True"):
        render(fmap)


def test_plain_popup_binds_escaped_html_without_jquery() -> None:
    fmap = ServedMap()
    marker = folium.CircleMarker([51.2, 4.4], radius=5).add_to(fmap)
    PlainPopup("<b>Lier</b></script>").add_to(marker)
    page = render(fmap)
    assert ".bindPopup(" in page
    assert '</script>"' not in page and "\\u003c/script\\u003e" in page
    assert "$(" not in page


def test_page_title_is_escaped() -> None:
    assert "<title>Walk &lt;2023&gt;</title>" in page_html(ServedMap(), title="Walk <2023>")
