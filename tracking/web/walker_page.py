"""The walker's page on their phone (/w/{token}), its app set-up page and its small map.

Everything here shows one walker their own data only: the token in the path names the walker,
and the page's script sends it as `Authorization: Bearer <token>` to /api/fixes, /api/checkins,
/api/sos and /api/me. The words come from one catalogue (`static/walker-i18n.json`) in Dutch,
English and French: pages are rendered in the negotiated language and the script gets the
same strings, so a message reads the same whether the server or the phone writes it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import folium
import segno
from branca.element import Element, Figure
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from maps.elements import Register
from maps.event_map import add_route_layer, bounds_of, route_colour
from maps.offline import offline_map
from routes.prepared import PreparedRoute
from tracking.app_setup import (
    APP_INTERVAL_S,
    owntracks_config,
    owntracks_link,
    traccar_link,
    traccar_qr_text,
)
from tracking.views import walker_view
from tracking.walker_state import WalkerState
from tracking.web.bytecache import MAP_CACHE_BYTES, byte_cached
from tracking.web.context import view_context
from tracking.web.deps import settings, tracker

router = APIRouter(include_in_schema=False)

LANGUAGES = ("nl", "en", "fr")
LANG_COOKIE = "rw_lang"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
CATALOGUE = STATIC_DIR / "walker-i18n.json"
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


# --- language ------------------------------------------------------------------------------
@cache
def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """{language: {"page": {...}, "setup": {...}}}; "page" is what the script also gets."""
    loaded: dict[str, dict[str, dict[str, str]]] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return loaded


def choose_language(query: str | None, cookie: str | None, accept_language: str) -> str:
    """?lang=, then the switch's cookie, then the browser's languages; Dutch for Belgium.

    A browser asking for none of the three gets Dutch when it is set to Belgium or the
    Netherlands (or says nothing), English otherwise.
    """
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    tags = _accepted(accept_language)
    for tag in tags:
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    if not tags or any(tag.endswith(("-be", "-nl")) for tag in tags):
        return "nl"
    return "en"


def _accepted(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first (q=0 dropped)."""
    weighted = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().lower().partition(";")
        match = re.search(r"q=([0-9.]+)", params)
        try:
            q = float(match[1]) if match else 1.0
        except ValueError:
            q = 0.0
        if tag and tag != "*" and q > 0:
            weighted.append((-q, i, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _language(request: Request) -> str:
    return choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language", ""),
    )


# --- rendering helpers ---------------------------------------------------------------------
@cache
def asset_url(name: str) -> str:
    """A static asset's URL with a content hash, so a phone never runs an old script."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def fill(template: str, text: dict[str, str], raw: dict[str, str] | None = None) -> str:
    """Replace {{key}}: from `raw` as given (already safe HTML), else escaped from `text`."""
    raw = raw or {}

    def value(match: re.Match[str]) -> str:
        key = match[1]
        return raw[key] if key in raw else html.escape(text[key])

    return re.sub(r"\{\{(\w+)\}\}", value, template)


def script_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


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
PAGE = """<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="theme-color" content="#12372a">
<title>{{page_title}} · {{event}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{css}}">
<script src="{{js}}" defer></script>
</head>
<body>
<header class="bar">
<div class="who"><b>{{event}}</b><h1>{{walker}}</h1></div>
<button id="sos-top" class="sos-pill" type="button" aria-label="{{sos_btn}}">{{sos_short}}</button>
</header>
<nav class="langs" aria-label="{{language}}">{{languages}}</nav>
<main>
<section class="card" id="share">
<h2>{{share_title}}</h2>
<p id="share-state" class="state off"><span class="dot"></span><span id="share-text">{{share_off}}</span></p>
<button id="share-btn" class="btn primary" type="button">{{share_start}}</button>
<p id="queue" class="queue"><span id="queue-n">{{queue_none}}</span><small id="last-sent"></small></p>
<p id="net" class="warn" hidden>{{offline}}</p>
<p id="refused" class="warn" hidden></p>
<p id="geo-msg" class="msg" hidden></p>
<p class="note"><span id="lock-state">{{lock_off}}</span> {{lock_warn}} <a href="{{apps_url}}">{{lock_app}}</a></p>
</section>
<section class="card" id="checkin">
<h2>{{checkin_title}}</h2>
<button id="checkin-btn" class="btn go" type="button">{{checkin_btn}}</button>
<p class="hint">{{checkin_hint}}</p>
<p id="checkin-msg" class="msg" role="status" aria-live="polite" hidden></p>
</section>
<section class="card" id="walk">
<h2>{{walk_title}}</h2>
<div id="progress-outer" class="track" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div id="progress" class="fill"></div></div>
<div class="nums"><p><b id="done">–</b>{{walk_done}}</p><p><b id="togo">–</b>{{walk_togo}}</p></div>
<p id="next"></p>
<p id="eta"></p>
<p id="checked" class="small"></p>
<p id="updated" class="small"></p>
<div id="map" class="map" hidden></div>
</section>
<section class="card" id="help">
<h2>{{help_title}}</h2>
<button id="sos-btn" class="btn sos" type="button">{{sos_btn}}</button>
<p id="sos-msg" class="msg" role="alert" hidden></p>
{{call_link}}
</section>
<section class="card" id="apps">
<h2>{{apps_title}}</h2>
<p>{{apps_text}}</p>
<a class="btn ghost" href="{{apps_url}}">{{apps_link}}</a>
</section>
<section class="card" id="follow">
<h2>{{follow_title}}</h2>
{{follow_block}}
<a class="btn ghost" href="{{follow_url}}">{{follow_link}}</a>
</section>
</main>
<dialog id="sos-dialog" aria-labelledby="sos-question">
<p id="sos-question">{{sos_question}}</p>
<button id="sos-yes" class="btn sos" type="button">{{sos_yes}}</button>
<button id="sos-no" class="btn ghost" type="button">{{sos_no}}</button>
{{call_link}}
</dialog>
<script type="application/json" id="rw-config">{{config}}</script>
</body>
</html>
"""


def call_link(phone: str, label: str) -> str:
    """A tel: link to the organisers (nothing when the event has no number)."""
    if not phone:
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


@router.get("/w/{token}", response_class=HTMLResponse)
async def walker_page(request: Request, token: str) -> HTMLResponse:
    """The walker's page: share position, check in, see the walk, call for help."""
    lang = _language(request)
    state = _walker(request, token)
    if state is None:
        return not_found(request, lang)
    text = catalogue()[lang]["page"]
    phone = tracker(request).event.organiser_phone
    body = fill(
        PAGE,
        {**text, "lang": lang, "event": tracker(request).event.name, "walker": _who(state)},
        {
            "css": asset_url("walker.css"),
            "js": asset_url("walker.js"),
            "languages": _language_links(lang, f"/w/{token}"),
            "apps_url": html.escape(f"/w/{token}/apps?lang={lang}"),
            "follow_url": html.escape(f"/w/{token}/follow?lang={lang}"),
            "follow_link": html.escape(
                text[
                    "follow_manage"
                    if tracker(request).follows.live_for(state.id)
                    else "follow_link"
                ]
            ),
            "follow_block": follow_block(request, state, token, text),
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
NOT_FOUND = """<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{css}}">
</head>
<body>
<header class="bar"><div class="who"><b>{{event}}</b><h1>{{title}}</h1></div></header>
<main>{{sections}}</main>
</body>
</html>
"""


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
        NOT_FOUND,
        {
            "lang": lang,
            "title": catalogue()[lang]["setup"]["nf_title"],
            "event": tracker(request).event.name,
        },
        {"css": asset_url("walker.css"), "sections": sections},
    )
    return _respond(body, lang, request, status=404, headers={"Content-Security-Policy": PAGE_CSP})


# --- app set-up ----------------------------------------------------------------------------
def qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


APPS = """<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{apps_title}} · {{event}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{css}}">
</head>
<body>
<header class="bar"><div class="who"><b>{{event}}</b><h1>{{walker}}</h1></div></header>
<nav class="langs" aria-label="{{language}}">{{languages}}</nav>
<main>
<a class="back" href="{{page_url}}">← {{apps_back}}</a>
<section class="card"><h2>{{apps_title}}</h2><p>{{apps_intro}}</p><p class="note">{{secret_note}}</p></section>
<section class="card" id="traccar">
<h2>Traccar Client</h2>
<ol>
<li>{{apps_store}}</li>
<li>{{apps_tap}}: <a class="btn primary" href="{{traccar_link}}">Traccar Client</a></li>
<li>{{traccar_qr_where}} {{apps_scan}}<div class="qr">{{traccar_qr}}</div></li>
<li>{{traccar_start}}</li>
</ol>
<p>{{apps_by_hand}}</p>
<dl>
<dt>{{field_url}}</dt><dd><code>{{osmand_url}}</code></dd>
<dt>{{field_device}}</dt><dd><code>{{token}}</code></dd>
<dt>{{field_accuracy}}</dt><dd>{{accuracy_high}}</dd>
<dt>{{field_interval}}</dt><dd>{{interval}}</dd>
</dl>
</section>
<section class="card" id="owntracks">
<h2>OwnTracks</h2>
<ol>
<li>{{apps_store}}</li>
<li>{{apps_tap}}: <a class="btn primary" href="{{owntracks_link}}">OwnTracks</a></li>
<li>{{apps_scan_camera}}<div class="qr">{{owntracks_qr}}</div></li>
<li>{{owntracks_start}}</li>
</ol>
<p>{{apps_by_hand}}</p>
<dl>
<dt>{{field_mode}}</dt><dd>HTTP</dd>
<dt>{{field_url}}</dt><dd><code>{{owntracks_url}}</code></dd>
<dt>{{field_user}}</dt><dd><code>{{owntracks_user}}</code> {{any_user}}</dd>
<dt>{{field_password}}</dt><dd><code>{{token}}</code></dd>
</dl>
</section>
</main>
</body>
</html>
"""


@router.get("/w/{token}/apps", response_class=HTMLResponse)
async def walker_apps(request: Request, token: str) -> HTMLResponse:
    """Set up Traccar Client or OwnTracks for this walker: links, QR codes, the values by hand."""
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
    }
    body = fill(
        APPS,
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


@byte_cached(MAP_CACHE_BYTES)  # bounded in bytes (a personal route's map can be MBs)
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
    # built once per route (cached), in a worker thread: folium is slow, the route immutable
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
