"""The organisers' dashboard map: the event's routes and check-in points, as a whole page.

Leaflet and Leaflet.markercluster come from the app (/vendor/...), nothing from a CDN; only the
tiles come from `tiles_url`. The page's own head and body (the sidebar, the script) are given
as HTML by the web layer and added to folium's figure; `window.RW_MAP` names the map for it.
"""

from __future__ import annotations

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from maps.event_map import add_route_layer, bounds_of, route_colour, route_legend
from maps.offline import offline_map
from routes.event import Event


class ExposeMap(MacroElement):
    """`window.RW_MAP = <the folium map>`, so organiser/*.js finds the map whatever its name."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            window.RW_MAP = {{ this._parent.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ExposeMap"


def dashboard_map(event: Event, tiles_url: str, attribution: str) -> folium.Map:
    """The event's routes and check-in points; organiser/*.js adds the walkers on top."""
    fmap = offline_map(
        "served",
        tiles_url=tiles_url,
        attribution=attribution,
        markercluster=True,
        control_scale=True,
        zoom_snap=0.25,
    )
    specs = [(er.id, er.name, er.route) for er in event.routes.values()]
    for i, (route_id, name, route) in enumerate(specs):
        add_route_layer(fmap, route_id, name, route, route_colour(i))
    if specs:
        route_legend(specs).add_to(fmap)
        fmap.fit_bounds(bounds_of(specs), padding=(30, 30))
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.add_child(ExposeMap())
    return fmap


def dashboard_page(
    event: Event, tiles_url: str, attribution: str, title: str, head: str, body: str
) -> str:
    """The whole dashboard page: the map, with the web layer's `head` and `body` HTML added."""
    figure = dashboard_map(event, tiles_url, attribution).get_root()
    assert isinstance(figure, Figure)
    figure.title = title
    figure.header.add_child(Element(head), name="organiser_head")
    figure.html.add_child(Element(body), name="organiser_body")
    return str(figure.render())
