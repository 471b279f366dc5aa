"""The walker's page on their phone (/w/{token}), its app set-up page and its small map.

Everything here shows one walker their own data only: the token in the path names the walker,
and the page's script sends it as `Authorization: Bearer <token>` to /api/fixes, /api/checkins,
/api/sos and /api/me. The words come from one catalogue (`static/i18n.json`, see `i18n.py`) in Dutch,
English and French: pages are rendered in the negotiated language and the script gets the
same strings, so a message reads the same whether the server or the phone writes it.
"""

from __future__ import annotations

import html
import re
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from maps.event_map import route_colour
from maps.walker_map import map_html as build_map
from tracking.app_setup import (
    APP_DISTANCE_M,
    APP_INTERVAL_S,
    HEARTBEAT_S,
    osmand_template,
    owntracks_config,
    owntracks_link,
    traccar_link,
    traccar_qr_text,
)
from tracking.contact import callable_phone
from tracking.views import walker_view
from tracking.walker_state import WalkerState
from tracking.web.assets import STATIC_DIR, asset_url, render, script_json
from tracking.web.bytecache import MAP_CACHE_BYTES, byte_cached
from tracking.web.context import view_context
from tracking.web.deps import settings, tracker
from tracking.web.i18n import LANG_COOKIE, LANGUAGES, catalogue
from tracking.web.i18n import language as _language

router = APIRouter(include_in_schema=False)

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
    "Vary": "Accept-Language, Cookie",
}
# What the apps are told: a fix every 30 s or 25 m, with GPS (high accuracy).


# --- rendering helpers ---------------------------------------------------------------------
def fill(template: str, text: dict[str, str], raw: dict[str, str] | None = None) -> str:
    """The page `template` (web/templates/) with `text` escaped and `raw` as given (safe HTML)."""
    safe = {key: Markup(value) for key, value in (raw or {}).items()}
    return render(template, **text, **safe)


def _language_links(lang: str, path: str) -> str:
    links = []
    for code in LANGUAGES:
        name = html.escape(catalogue()[code]["page"]["lang_name"])
        current = ' aria-current="true"' if code == lang else ""
        links.append(
            f'<a href="{path}?lang={code}" hreflang="{code}" lang="{code}" '
            f'title="{name}"{current}>{code.upper()}</a>'
        )
    return "".join(links)


def _base_url(request: Request) -> str:
    """The public URL phones use: the public_url setting, else the address this request came to."""
    return settings(request).public_url.rstrip("/") or str(request.base_url).rstrip("/")


def _who(state: WalkerState) -> str:
    bib = f" · {state.record.bib}" if state.record.bib else ""
    return f"{state.record.name}{bib}"


def _respond(
    body: str, lang: str, request: Request, status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers={**PRIVATE, **(headers or {})})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/w", samesite="lax")
    return response


def _walker(request: Request, token: str) -> WalkerState | None:
    return tracker(request).by_token(token)


# --- the page ------------------------------------------------------------------------------


def call_link(phone: str, label: str) -> str:
    """A tel: link to the organisers (nothing when the event has no real number)."""
    if not callable_phone(phone):  # none, or the event file's placeholder
        return ""
    dial = re.sub(r"[^0-9+]", "", phone)
    return f'<a class="btn call" href="tel:{dial}">{html.escape(label.format(phone=phone))}</a>'


def page_config(state: WalkerState, request: Request, token: str, lang: str) -> dict[str, Any]:
    """What the script starts from: the walker's own view, their route's points, the strings."""
    t = tracker(request)
    route = state.route
    me = walker_view(state, view_context(t), private=False)
    return {
        "token": token,
        "lang": lang,
        "t": catalogue()[lang]["page"],
        "me": me,
        "checkpoints": [
            {"id": cp.id, "name": cp.name, "d": round(cp.distance_along_m)}
            for cp in (route.checkpoints if route else ())
        ],
        "map": f"/w/{token}/map" if route is not None else None,
    }


@router.get("/w/sw.js", include_in_schema=False)
async def walker_service_worker() -> FileResponse:
    """The walker page's service worker (scope /w/): the page opens again without signal."""
    return FileResponse(
        STATIC_DIR / "walker-sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/w/{token}/manifest.webmanifest", include_in_schema=False)
async def walker_manifest(request: Request, token: str) -> JSONResponse:
    """Add the walker's own page to the home screen (it opens at their link)."""
    state = _walker(request, token)
    if state is None:
        return JSONResponse({"detail": "unknown link"}, status_code=404)
    event = tracker(request).event
    manifest = {
        "name": event.name,
        "short_name": "Refugee Walk",
        "start_url": f"/w/{token}",
        "scope": f"/w/{token}",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#12372a",
        "icons": [{"src": "/favicon.ico", "sizes": "any", "type": "image/svg+xml"}],
    }
    return JSONResponse(
        manifest, media_type="application/manifest+json", headers={"Cache-Control": "no-store"}
    )


@router.get("/w/{token}", response_class=HTMLResponse)
async def walker_page(request: Request, token: str) -> HTMLResponse:
    """The walker's page: share position, check in, see the walk, call for help."""
    lang = _language(request)
    state = _walker(request, token)
    if state is None:
        return not_found(request, lang)
    text = catalogue()[lang]["page"]
    follow = catalogue()[lang]["setup"]  # server-side only: not in the script's strings
    phone = tracker(request).event.organiser_phone
    body = fill(
        "walker.html",
        {**text, "lang": lang, "event": tracker(request).event.name, "walker": _who(state)},
        {
            "css": asset_url("walker.css"),
            "js": asset_url("walker.js"),
            "languages": _language_links(lang, f"/w/{token}"),
            "apps_url": html.escape(f"/w/{token}/apps?lang={lang}"),
            "follow_url": html.escape(f"/w/{token}/follow?lang={lang}"),
            "follow_button": html.escape(
                follow[
                    "follow_manage"
                    if tracker(request).follows.live_for(state.id)
                    else "follow_link"
                ]
            ),
            "follow_block": follow_block(request, state, token, follow),
            "follow_title": html.escape(follow["follow_title"]),
            "manifest_url": html.escape(f"/w/{token}/manifest.webmanifest"),
            "call_link": call_link(phone, text["call"]),
            "config": script_json(page_config(state, request, token, lang)),
        },
    )
    return _respond(body, lang, request, headers={"Content-Security-Policy": PAGE_CSP})


def follow_block(request: Request, state: WalkerState, token: str, text: dict[str, str]) -> str:
    """The walker's follow link with its QR code and a share button, or what it is for."""
    link = tracker(request).follows.live_for(state.id)
    if link is None:
        return f"<p>{html.escape(text['follow_text'])}</p>"
    url = f"{_base_url(request)}/f/{link.token}"
    shown = url.split("://", 1)[-1][: -len(link.token) + 8] + "…"
    return (
        f'<p><a id="follow-url" href="{html.escape(url)}">{html.escape(shown)}</a></p>'
        f'<img src="/w/{html.escape(token)}/follow.svg" alt="QR" width="180" height="180">'
        f'<button id="follow-share" class="btn primary" type="button">'
        f"{html.escape(text['follow_share'])}</button>"
        f'<script src="{asset_url("follow-share.js")}" defer></script>'
    )


# --- unknown link --------------------------------------------------------------------------


def not_found(request: Request, lang: str) -> HTMLResponse:
    """A friendly 404 in all three languages, the browser's first."""
    order = [lang, *(code for code in LANGUAGES if code != lang)]
    sections = "".join(
        f'<section class="card" lang="{code}"><h2>{html.escape(catalogue()[code]["setup"]["nf_title"])}'
        f"</h2><p>{html.escape(catalogue()[code]['setup']['nf_text'])}</p>"
        f"{call_link(tracker(request).event.organiser_phone, catalogue()[code]['page']['call'])}</section>"
        for code in order
    )
    body = fill(
        "walker_not_found.html",
        {
            "lang": lang,
            "title": catalogue()[lang]["setup"]["nf_title"],
            "event": tracker(request).event.name,
        },
        {"css": asset_url("walker.css"), "sections": sections},
    )
    return _respond(body, lang, request, status=404, headers={"Content-Security-Policy": PAGE_CSP})


# --- app set-up ----------------------------------------------------------------------------
# bounded in bytes (a personal route's map can be MBs); at most two built at once
map_html = byte_cached(MAP_CACHE_BYTES)(build_map)


def qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


@router.get("/w/{token}/apps", response_class=HTMLResponse)
async def walker_apps(request: Request, token: str) -> HTMLResponse:
    """Set up Traccar Client, OwnTracks or OsmAnd for this walker: links, QR codes, the values
    by hand with the names each app's own screens use (docs/phone-apps.md)."""
    lang = _language(request)
    state = _walker(request, token)
    if state is None:
        return not_found(request, lang)
    base = _base_url(request)
    route = state.route
    own = owntracks_config(
        base,
        token,
        state.id,
        state.record.bib,
        route.checkpoints if route else (),
        tracker(request).event.checkin_radius_m,
        int(tracker(request).event.day_start.timestamp()),
    )
    text = {
        **catalogue()[lang]["page"],
        **catalogue()[lang]["setup"],
        "lang": lang,
        "event": tracker(request).event.name,
        "walker": _who(state),
        "token": token,
        "osmand_url": f"{base}/ingest/osmand",
        "owntracks_url": own["url"],
        "owntracks_user": own["username"],
        "interval": f"{APP_INTERVAL_S} s",
        "interval_s": str(APP_INTERVAL_S),
        "distance_m": str(APP_DISTANCE_M),
        "heartbeat_s": str(HEARTBEAT_S),
        "osmand_template": osmand_template(base, token),
    }
    body = fill(
        "walker_apps.html",
        text,
        {
            "css": asset_url("walker.css"),
            "languages": _language_links(lang, f"/w/{token}/apps"),
            "page_url": html.escape(f"/w/{token}?lang={lang}"),
            "traccar_link": html.escape(traccar_link(base, token)),
            "traccar_qr": qr_svg(traccar_qr_text(base, token)),
            "owntracks_link": html.escape(owntracks_link(own)),
            "owntracks_qr": qr_svg(owntracks_link(own)),
        },
    )
    return _respond(body, lang, request, headers={"Content-Security-Policy": PAGE_CSP})


# --- the small map -------------------------------------------------------------------------
@router.get("/w/{token}/map", response_class=HTMLResponse)
async def walker_map(request: Request, token: str) -> HTMLResponse:
    """The walker's route as a small Leaflet map (framed by the page, which moves the marker)."""
    lang = _language(request)
    state = _walker(request, token)
    if state is None or state.route is None:
        return not_found(request, lang)
    s = settings(request)
    route_ids = list(tracker(request).event.routes)
    index = route_ids.index(state.record.route_id) if state.record.route_id in route_ids else 0
    body = await run_in_threadpool(
        map_html, state.route, route_colour(index), s.tile_url, s.tile_attribution
    )
    return HTMLResponse(
        body,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Content-Security-Policy": "frame-ancestors 'self'",
        },
    )
