"""GET /organiser: the organisers' live dashboard (a folium map, a sidebar, and organiser.js).

The page itself holds no secret: the routes are public, and every live datum comes from the
WebSocket feed and the REST API, which both need the organiser token. The page asks for the
token once and keeps it in the tab's sessionStorage.

The map is built with folium in "served" mode: Leaflet and Leaflet.markercluster come from
/vendor/..., the page script and style from /static/... — nothing from a CDN. Only the tiles
come from `settings.tile_url`; the routes are vectors, so the page stays usable without them.
"""

from __future__ import annotations

import hashlib
import html
import json
import weakref
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from folium.template import Template

from maps.event_map import add_route_layer, bounds_of, km_label, route_colour, route_legend
from maps.offline import offline_map
from routes.event import Event
from tracking.alerts import ALERT_KINDS
from tracking.settings import Settings
from tracking.status import STATUSES

router = APIRouter(tags=["dashboard"])

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS = ("organiser.css", "organiser.js")

# Status colours: the markers, the legend, the counts and the chart all use these.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "registered": ("Registered, no position yet", "#adb5bd"),
    "walking": ("Walking", "#2f9e44"),
    "resting": ("Resting (phone reporting)", "#74b816"),
    "not_moving": ("Not moving for long", "#e8590c"),
    "at_checkpoint": ("At a check-in point", "#1c7ed6"),
    "finished": ("Finished", "#7048e8"),
    "off_route": ("Off route", "#f08c00"),
    "silent": ("Silent (no position)", "#d6336c"),
    "needs_help": ("Needs help (SOS)", "#e03131"),
    "dropped_out": ("Dropped out / picked up", "#495057"),
}
URGENT = ("needs_help", "off_route", "silent", "not_moving")
ALERT_LABELS = {
    "sos": "SOS",
    "off_route": "Off route",
    "silent": "Silent",
    "stationary": "Not moving",
    "battery": "Low battery",
    "closing_time": "Past closing time",
}

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src * data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'"
)

_pages: weakref.WeakKeyDictionary[FastAPI, str] = weakref.WeakKeyDictionary()


class ExposeMap(MacroElement):
    """`window.RW_MAP = <the folium map>`, so organiser.js finds the map whatever its name."""

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


@router.get("/organiser", response_class=HTMLResponse, include_in_schema=False)
async def organiser_page(request: Request) -> HTMLResponse:
    """The dashboard page (built once per app: the routes do not change while it runs)."""
    app = request.app
    page = _pages.get(app)
    if page is None:
        page = _pages[app] = render_page(app.state.event, app.state.settings)
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": CSP,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def render_page(event: Event, settings: Settings) -> str:
    fmap = dashboard_map(event, settings)
    figure = fmap.get_root()
    assert isinstance(figure, Figure)
    figure.title = f"Organisers — {event.name}"
    figure.header.add_child(Element(_head()), name="organiser_head")
    figure.html.add_child(Element(_body(event)), name="organiser_body")
    figure.html.add_child(Element(_config_tag(page_config(event))), name="organiser_config")
    return figure.render()


def dashboard_map(event: Event, settings: Settings) -> folium.Map:
    """The event's routes and check-in points; organiser.js adds the walkers on top."""
    fmap = offline_map(
        "served",
        tiles_url=settings.tile_url,
        attribution=settings.tile_attribution,
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


def page_config(event: Event) -> dict[str, Any]:
    """What organiser.js needs to know before the feed starts: routes, points, colours, labels."""
    return {
        "event": {
            "name": event.name,
            "date": event.date.isoformat(),
            "timezone": event.timezone.key,
        },
        "routes": [
            {
                "id": er.id,
                "name": er.name,
                "colour": route_colour(i),
                "length_m": round(er.route.length_m, 1),
                "checkpoints": [
                    {
                        "id": cp.id,
                        "name": cp.name,
                        "kind": cp.kind,
                        "distance_along_m": round(cp.distance_along_m, 1),
                        "km": km_label(cp.distance_along_m),
                        "closes_at": er.closing[cp.id].isoformat() if cp.id in er.closing else None,
                    }
                    for cp in er.route.checkpoints
                ],
            }
            for i, er in enumerate(event.routes.values())
        ],
        "statuses": [
            {
                "id": s,
                "label": STATUS_STYLE[s][0],
                "colour": STATUS_STYLE[s][1],
                "urgent": s in URGENT,
            }
            for s in STATUSES
        ],
        "alert_kinds": {k: ALERT_LABELS.get(k, k) for k in ALERT_KINDS},
    }


def _config_tag(config: dict[str, Any]) -> str:
    """The config as JSON in a non-executed script element; '<' is escaped so no tag can end it."""
    text = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="rw-config">{text}</script>'


@cache
def _asset_version(name: str) -> str:
    """A short content hash, so a new release is never served from a stale browser cache."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def _head() -> str:
    css, js = ASSETS
    return (
        f'<link rel="stylesheet" href="/static/{css}?v={_asset_version(css)}">'
        f'<script defer src="/static/{js}?v={_asset_version(js)}"></script>'
    )


def _body(event: Event) -> str:
    name = html.escape(event.name)
    return BODY.replace("{event_name}", name)


BODY = """
<header class="rw-bar">
  <div class="rw-brand"><span class="rw-logo" aria-hidden="true"></span>
    <div><div class="rw-title">Refugee Walk · Organisers</div>
    <div class="rw-subtitle">{event_name}</div></div></div>
  <div class="rw-kpis" id="rw-kpis" aria-live="polite"></div>
  <div class="rw-bar-actions">
    <span class="rw-conn" id="rw-conn" data-state="idle">Not connected</span>
    <details class="rw-menu" id="rw-export">
      <summary>Export</summary>
      <div class="rw-menu-items">
        <button type="button" data-export="tracks.gpkg">Tracks, fixes and check-ins (GeoPackage)</button>
        <button type="button" data-export="tracks.geojson">Tracks (GeoJSON)</button>
        <button type="button" data-export="checkins.geojson">Check-ins (GeoJSON)</button>
        <button type="button" data-export="tracks.gpx">Tracks (GPX)</button>
      </div>
    </details>
    <button type="button" class="rw-link" id="rw-signout">Sign out</button>
  </div>
</header>
<aside class="rw-side" id="rw-side">
  <div class="rw-search">
    <input id="rw-search" type="search" autocomplete="off" spellcheck="false"
           placeholder="Search a walker by name or bib  ( / )" aria-label="Search by name or bib">
    <ol class="rw-results" id="rw-results" hidden></ol>
  </div>
  <section class="rw-card rw-detail" id="rw-detail" hidden></section>
  <section class="rw-card">
    <h2>Alerts <span class="rw-count" id="rw-alert-count">0</span></h2>
    <div class="rw-alert-filter" id="rw-alert-filter" hidden></div>
    <ol class="rw-alerts" id="rw-alerts"></ol>
    <p class="rw-empty" id="rw-alerts-empty">No open alerts.</p>
  </section>
  <section class="rw-card">
    <h2>Walkers by status</h2>
    <table class="rw-status" id="rw-status"></table>
    <p class="rw-hint">Click a status to hide or show its walkers on the map.</p>
  </section>
  <section class="rw-card">
    <h2>Progress along the routes</h2>
    <div id="rw-chart" class="rw-chart"></div>
  </section>
  <div id="rw-routes"></div>
</aside>
<div class="rw-tiles-note" id="rw-tiles-note" hidden>Map background unavailable — routes and
  walkers are still live.</div>
<div class="rw-toast" id="rw-toast" role="alert" hidden></div>
<div class="rw-signin" id="rw-signin" hidden>
  <form id="rw-signin-form" class="rw-signin-box">
    <h1>Organiser sign-in</h1>
    <p>{event_name}</p>
    <label for="rw-token">Organiser token</label>
    <input id="rw-token" name="token" type="password" autocomplete="current-password" required>
    <p class="rw-error" id="rw-signin-error" hidden></p>
    <button type="submit">Sign in</button>
    <p class="rw-hint">The token was printed when the server first started (and is kept beside
      its database). It stays in this browser tab only.</p>
  </form>
</div>
"""
