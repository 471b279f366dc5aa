"""GET /organiser: the organisers' live dashboard (a folium map, a sidebar, and static/organiser/*.js).

The page itself holds no secret: the routes are public, and every live datum comes from the
WebSocket feed and the REST API, which both need the organiser token. The page asks for the
token once and keeps it in the tab's sessionStorage.

The map is built with folium in "served" mode: Leaflet and Leaflet.markercluster come from
/vendor/..., the page script and style from /static/... — nothing from a CDN. Only the tiles
come from `settings.tile_url`; the routes are vectors, so the page stays usable without them.
"""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from maps.dashboard import dashboard_page
from maps.event_map import km_label, route_colour
from routes.event import Event
from tracking.alerts import ALERT_KINDS
from tracking.contact import placeholder_warning
from tracking.route_views import routes_view
from tracking.settings import Settings
from tracking.status import STATUSES
from tracking.web.assets import STATIC_DIR, folder_version, render, script_json

router = APIRouter(tags=["dashboard"])


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

SCRIPTS = "organiser"  # static/organiser/*.js, ES modules

_pages: weakref.WeakKeyDictionary[FastAPI, str] = weakref.WeakKeyDictionary()


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


@router.get("/organiser-js/{version}/{name}", include_in_schema=False)
async def organiser_script(version: str, name: str) -> FileResponse:
    """The page's ES modules under a path carrying their folder's hash: never a stale module."""
    folder = STATIC_DIR / SCRIPTS
    if version != folder_version(SCRIPTS) or name not in {p.name for p in folder.glob("*.js")}:
        raise HTTPException(404, detail="no such script; reload the page")
    cache = "public, max-age=31536000, immutable"
    return FileResponse(
        folder / name, media_type="text/javascript", headers={"Cache-Control": cache}
    )


def render_page(event: Event, settings: Settings) -> str:
    body = render(
        "dashboard_body.html",
        event_name=event.name,
        phone_warning=placeholder_warning(event.organiser_phone, settings.event),
    )
    config = (
        f'<script type="application/json" id="rw-config">{script_json(page_config(event))}</script>'
    )
    return dashboard_page(
        event,
        settings.tile_url,
        settings.tile_attribution,
        f"Organisers — {event.name}",
        render("dashboard_head.html", script_version=folder_version(SCRIPTS)),
        body + config,
    )


def page_config(event: Event) -> dict[str, Any]:
    """What the page script needs to know before the feed starts: routes, points, colours, labels."""
    return {
        "event": {
            "name": event.name,
            "date": event.date.isoformat(),
            "timezone": event.timezone.key,
        },
        "routes": [
            {
                **view,
                "colour": route_colour(i),
                "checkpoints": [
                    {**cp, "km": km_label(cp["distance_along_m"])} for cp in view["checkpoints"]
                ],
            }
            for i, view in enumerate(routes_view(event))
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
