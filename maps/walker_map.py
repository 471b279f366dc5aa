"""The walker page's small map: their route, its check-in points and a marker for them.

Served at /w/<token>/map and framed by the walker page, which posts the walker's position to
it ({type: "rw-position", lat, lon}); the marker follows. One map per route (the web layer caches it, bounded in bytes).
"""

from __future__ import annotations

import folium
from branca.element import Element, Figure

from maps.elements import Register
from maps.event_map import add_route_layer, bounds_of
from maps.offline import offline_map
from routes.prepared import PreparedRoute

# The page posts {type: "rw-position", lat, lon} to this frame; the marker follows.
FOLLOW_POSITION = """
window.addEventListener("message", function (e) {
  var me = window.refugeeWalk && window.refugeeWalk.me && window.refugeeWalk.me.position;
  if (e.origin !== location.origin || !me || !e.data || e.data.type !== "rw-position") return;
  me.setLatLng([e.data.lat, e.data.lon]);
  me.setStyle({opacity: 1, fillOpacity: 1});
  me.bringToFront();
});
"""


def map_html(route: PreparedRoute, colour: str, tiles_url: str, attribution: str) -> str:
    """The route with its check-in points and a hidden marker for the walker (one per route)."""
    fmap = offline_map("served", tiles_url=tiles_url, attribution=attribution)
    add_route_layer(fmap, route.id, route.name, route, colour)
    marker = folium.CircleMarker(
        [float(route.lats[0]), float(route.lons[0])],
        radius=9,
        color="#ffffff",
        weight=3,
        fill_color="#d4002a",
        fill_opacity=0,
        opacity=0,
    )
    marker.add_child(Register("me", "position"))
    marker.add_to(fmap)
    fmap.fit_bounds(bounds_of([(route.id, route.name, route)]), padding=(12, 12))
    figure = fmap.get_root()
    assert isinstance(figure, Figure)
    figure.script.add_child(Element(FOLLOW_POSITION))
    return str(figure.render())
