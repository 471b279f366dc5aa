"""The map of an event's routes: one colour per route, start and finish, check-in points, legend.

Pure: prepared routes in, a folium map out. The pieces (`add_route_layer`, `checkin_marker`,
`route_legend`) are public so the dashboard and the walker page draw routes the same way and
then add their own live layers on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium

from maps.elements import Legend, LegendEntry, Register, text_tooltip
from maps.offline import OSM_ATTRIBUTION, OSM_TILES_URL, Mode, OfflineMap, offline_map
from routes.checkpoints import Checkpoint, slugify
from routes.prepared import PreparedRoute

# Okabe–Ito: told apart by people with any common colour-vision deficiency, and readable on
# OpenStreetMap tiles (its yellow, too pale on a light map, is left out).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
FINISH_COLOUR = "#222222"
GAP_COLOUR = "#777777"
LEGEND_GREY = "#666666"  # legend symbols that take each route's colour on the map
COORD_DECIMALS = 6  # about 0.1 m: finer adds bytes, not precision

LatLon = list[float]
RouteSpec = tuple[str, str, PreparedRoute]  # (route_id, name, route)


def route_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def km_label(distance_m: float) -> str:
    return f"{distance_m / 1000:.1f} km"


def checkin_key(route_id: str, checkpoint_id: str) -> str:
    """The key of a check-in marker in `window.refugeeWalk.checkins`."""
    return f"{route_id}/{checkpoint_id}"


def checkin_class(route_id: str, checkpoint_id: str) -> str:
    """CSS classes of a check-in marker's SVG path: `rw-checkin` and one unique to the point."""
    return f"rw-checkin rw-checkin-{slugify(route_id)}-{checkpoint_id}"


def _latlon(lon: float, lat: float) -> LatLon:
    """The one place coordinates turn into folium's [lat, lon]."""
    return [round(lat, COORD_DECIMALS), round(lon, COORD_DECIMALS)]


def line_pieces(route: PreparedRoute) -> tuple[list[list[LatLon]], list[list[LatLon]]]:
    """The route's walked pieces and the jumps between GPX parts (drawn dashed, not as path)."""
    jumps = {(g.from_lon, g.from_lat, g.to_lon, g.to_lat) for g in route.gaps if g.distance_m > 0}
    pieces: list[list[LatLon]] = [[_latlon(route.lons[0], route.lats[0])]]
    gaps: list[list[LatLon]] = []
    for i in range(1, len(route.lons)):
        here = _latlon(route.lons[i], route.lats[i])
        prev = (route.lons[i - 1], route.lats[i - 1], route.lons[i], route.lats[i])
        if prev in jumps:
            gaps.append([pieces[-1][-1], here])
            pieces.append([here])
        else:
            pieces[-1].append(here)
    return [p for p in pieces if len(p) > 1], gaps


def checkin_marker(route_id: str, checkpoint: Checkpoint, colour: str) -> folium.CircleMarker:
    """A check-in point: "name — 12.3 km" on hover; page scripts find it by key or class."""
    marker = folium.CircleMarker(
        _latlon(checkpoint.lon, checkpoint.lat),
        radius=7,
        color="#ffffff",
        weight=2,
        fill_color=colour,
        fill_opacity=1.0,
        class_name=checkin_class(route_id, checkpoint.id),
        tooltip=text_tooltip(f"{checkpoint.name} — {km_label(checkpoint.distance_along_m)}"),
    )
    marker.add_child(Register("checkins", checkin_key(route_id, checkpoint.id)))
    return marker


def end_marker(lon: float, lat: float, label: str, colour: str) -> folium.CircleMarker:
    """A ring around the start or the finish; check-in dots there stay visible inside it."""
    return folium.CircleMarker(
        _latlon(lon, lat),
        radius=12,
        color=colour,
        weight=4,
        fill_color="#ffffff",
        fill_opacity=0.6,
        tooltip=text_tooltip(label),
    )


def _ends(name: str, route: PreparedRoute, colour: str) -> list[tuple[float, float, str, str]]:
    """Where the rings go: one for a loop (start and finish share a place), else two."""
    lon0, lat0 = float(route.lons[0]), float(route.lats[0])
    lon1, lat1 = float(route.lons[-1]), float(route.lats[-1])
    total = km_label(route.length_m)
    if route.is_loop:
        return [(lon0, lat0, f"{name}: start and finish ({total})", colour)]
    return [
        (lon0, lat0, f"{name}: start", colour),
        (lon1, lat1, f"{name}: finish ({total})", FINISH_COLOUR),
    ]


def route_layer(route_id: str, name: str, route: PreparedRoute, colour: str) -> folium.FeatureGroup:
    """One route as a layer: its line, start and finish rings, and check-in points."""
    group = folium.FeatureGroup(name=f"{name} ({km_label(route.length_m)})")
    pieces, gaps = line_pieces(route)
    for piece in pieces:
        folium.PolyLine(piece, color=colour, weight=5, opacity=0.85).add_to(group)
    for gap in gaps:
        folium.PolyLine(gap, color=GAP_COLOUR, weight=3, dash_array="6 8").add_to(group)
    for lon, lat, label, ring_colour in _ends(name, route, colour):
        end_marker(lon, lat, label, ring_colour).add_to(group)
    for checkpoint in route.checkpoints:
        checkin_marker(route_id, checkpoint, colour).add_to(group)
    group.add_child(Register("routes", route_id))
    return group


def add_route_layer(
    parent: folium.Map | folium.FeatureGroup,
    route_id: str,
    name: str,
    route: PreparedRoute,
    colour: str,
) -> folium.FeatureGroup:
    """Draw a route on any map (or group) and return its layer, for the page to add to."""
    group = route_layer(route_id, name, route, colour)
    group.add_to(parent)
    return group


def route_legend(routes: Sequence[RouteSpec]) -> Legend:
    """Routes with their lengths, then what the start, finish and check-in symbols mean."""
    entries = [
        LegendEntry(route_colour(i), f"{name} — {km_label(route.length_m)}", "line")
        for i, (_, name, route) in enumerate(routes)
    ]
    entries += [
        LegendEntry(LEGEND_GREY, "Start (and finish of a loop)", "ring"),
        LegendEntry(FINISH_COLOUR, "Finish", "ring"),
        LegendEntry(LEGEND_GREY, "Check-in point", "dot"),
    ]
    if any(route.gaps for _, _, route in routes):
        entries.append(LegendEntry(GAP_COLOUR, "Gap in the GPX file", "dashed"))
    return Legend(tuple(entries), title="Routes")


def bounds_of(routes: Sequence[RouteSpec]) -> list[LatLon]:
    """[[south, west], [north, east]] around every route (not rounded: nothing is cut off)."""
    boxes = [route.bbox for _, _, route in routes]
    return [
        [min(b[1] for b in boxes), min(b[0] for b in boxes)],
        [max(b[3] for b in boxes), max(b[2] for b in boxes)],
    ]


def event_map(
    routes: Sequence[RouteSpec],
    tiles_url: str = OSM_TILES_URL,
    attribution: str = OSM_ATTRIBUTION,
    mode: Mode = "served",
) -> OfflineMap:
    """Every route of an event on one map that needs no CDN, zoomed to fit them all."""
    fmap = offline_map(mode, tiles_url=tiles_url, attribution=attribution)
    for i, (route_id, name, route) in enumerate(routes):
        add_route_layer(fmap, route_id, name, route, route_colour(i))
    if routes:
        route_legend(routes).add_to(fmap)
        fmap.fit_bounds(bounds_of(routes), padding=(20, 20))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
