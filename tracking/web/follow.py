"""Follow a walker: the walker makes (and ends) a link; family open /f/{token}.

The walker's endpoints take their token as `Authorization: Bearer <walker token>`. The follow
link's own token opens the public JSON and page: it shows the chosen display name, route,
progress, check-ins and expected arrival, and the position only when the walker chose
`precise`. Never the walker's token, phone number or full name. Links answer 410 after
`follow_expiry_hours` past the event day, and 404 once ended or when the feature is off.
"""

from __future__ import annotations

import html
import io
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import segno
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from tracking.engine import Engine
from tracking.follow import DISPLAY_NAME_MAX, expires_at, follow_view
from tracking.storage.base import FollowLink
from tracking.walker_state import WalkerState
from tracking.web.context import now, view_context
from tracking.web.deps import require_walker, settings, tracker
from tracking.web.walker_page import (
    LANGUAGES,
    PAGE_CSP,
    PRIVATE,
    _language,
    asset_url,
    fill,
    qr_svg,
    script_json,
)

router = APIRouter(tags=["follow"])
CATALOGUE = Path(__file__).resolve().parents[1] / "static" / "follow-i18n.json"
POLL_MS = 4000  # a fix shows on the family's page within about 5 s
MAP_POINTS = 300


@cache
def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    loaded: dict[str, dict[str, dict[str, str]]] = json.loads(CATALOGUE.read_text("utf-8"))
    return loaded


class FollowRequest(BaseModel):
    precise: bool = False
    display_name: str = Field(default="", max_length=DISPLAY_NAME_MAX)


def _base_url(request: Request) -> str:
    return settings(request).public_url.rstrip("/") or str(request.base_url).rstrip("/")


def _expiry(t: Engine) -> datetime:
    return expires_at(t.event, t.settings.follow_expiry_hours)


def _link_view(request: Request, link: FollowLink) -> dict:
    return {
        "url": f"{_base_url(request)}/f/{link.token}",
        "token": link.token,
        "expires_at": _expiry(tracker(request)).isoformat(),
        "precise": link.precise,
        "display_name": link.display_name,
    }


def _enabled(request: Request) -> None:
    if not settings(request).follow_enabled:
        raise HTTPException(403, detail="following walkers is turned off for this event")


# --- the walker's side ---------------------------------------------------------------------
EXPIRED: dict[int | str, dict[str, Any]] = {
    410: {"description": "The event is over: follow links have expired."}
}


@router.post("/api/me/follow", status_code=201, responses=EXPIRED)
async def start_follow(request: Request, body: FollowRequest) -> dict:
    """Make a follow link (only when the walker asks; a new one ends the old one)."""
    state = require_walker(request)
    _enabled(request)
    t = tracker(request)
    if now() >= _expiry(t):
        raise HTTPException(410, detail="the event is over: follow links have expired")
    link = await t.start_follow(state, body.precise, body.display_name)
    return _link_view(request, link)


@router.get("/api/me/follow")
async def my_follow(request: Request) -> dict:
    state = require_walker(request)
    link = tracker(request).follows.live_for(state.id)
    if link is None:
        raise HTTPException(404, detail="you have no follow link; make one with POST")
    return _link_view(request, link)


@router.delete("/api/me/follow", status_code=204)
async def end_follow(request: Request) -> Response:
    """End the follow link at once: it answers 404 from now on."""
    state = require_walker(request)
    if not await tracker(request).end_follow(state):
        raise HTTPException(404, detail="you have no follow link")
    return Response(status_code=204)


# --- the family's side ---------------------------------------------------------------------
def _followed(request: Request, token: str) -> tuple[FollowLink, WalkerState]:
    t = tracker(request)
    link = t.follows.get(token)
    state = t.walkers.get(link.walker_id) if link else None
    if link is None or state is None or link.ended_at is not None or not t.settings.follow_enabled:
        raise HTTPException(404, detail="no such follow link, or the walker ended it")
    if now() >= _expiry(t):
        raise HTTPException(410, detail="this follow link has expired: the event is over")
    return link, state


@router.get("/api/follow/{token}", responses=EXPIRED)
async def follow_json(request: Request, token: str, response: Response) -> dict:
    """What family see of the walker (see tracking/follow.py)."""
    link, state = _followed(request, token)
    response.headers.update(PUBLIC)
    return follow_view(link, state, view_context(tracker(request)))


PUBLIC = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}

PAGE = "follow.html"  # web/templates/

GONE = "follow_gone.html"  # web/templates/


def _langs(lang: str, path: str) -> str:
    links = []
    for code in LANGUAGES:
        current = ' aria-current="true"' if code == lang else ""
        links.append(f'<a href="{path}?lang={code}" hreflang="{code}"{current}>{code.upper()}</a>')
    return "".join(links)


def _route_line(state: WalkerState) -> list[list[float]]:
    route = state.route
    if route is None:
        return []
    lons, lats = route.lons.tolist(), route.lats.tolist()
    step = max(1, len(lons) // MAP_POINTS)
    idx = [*range(0, len(lons), step), len(lons) - 1]
    return [[round(lons[i], 5), round(lats[i], 5)] for i in idx]


@router.get("/f/{token}", response_class=HTMLResponse, include_in_schema=False)
async def follow_page(request: Request, token: str) -> HTMLResponse:
    """The family's page in Dutch, French or English; it updates itself every few seconds."""
    lang = _language(request)
    t = tracker(request)
    text = catalogue()[lang]["page"]
    headers = {**PRIVATE, **PUBLIC, "Content-Security-Policy": PAGE_CSP}
    try:
        link, state = _followed(request, token)
    except HTTPException as exc:
        body = fill(
            GONE, {**text, "lang": lang, "event": t.event.name}, {"css": asset_url("walker.css")}
        )
        return HTMLResponse(body, status_code=exc.status_code, headers=headers)
    data = follow_view(link, state, view_context(t))
    er = t.event.routes.get(state.record.route_id)
    config: dict[str, Any] = {
        "token": token,
        "lang": lang,
        "t": text,
        "data": data,
        "poll_ms": POLL_MS,
        "tz": t.event.timezone.key,
        "line": _route_line(state) if link.precise else [],
    }
    body = fill(
        PAGE,
        {
            **text,
            "lang": lang,
            "event": t.event.name,
            "who": link.display_name or text["someone"],
            "route": er.name if er else state.record.route_id,
        },
        {
            "css": asset_url("walker.css"),
            "css2": asset_url("follow.css"),
            "js": asset_url("follow.js"),
            "languages": _langs(lang, f"/f/{html.escape(token)}"),
            "config": script_json(config),
        },
    )
    return HTMLResponse(body, headers=headers)


# --- the walker's follow page: make, share, stop -------------------------------------------
ME = "follow_me.html"  # web/templates/


@router.get("/w/{token}/follow", response_class=HTMLResponse, include_in_schema=False)
async def follow_me_page(request: Request, token: str) -> HTMLResponse:
    """The walker's own page for their follow link: the link, its QR code, share and stop."""
    lang = _language(request)
    t = tracker(request)
    state = t.by_token(token)
    text = catalogue()[lang]["me"]
    headers = {**PRIVATE, "Content-Security-Policy": PAGE_CSP}
    if state is None:
        raise HTTPException(404, detail="unknown walker link")
    link = t.follows.live_for(state.id)
    live = ""
    if link is not None:
        url = _link_view(request, link)["url"]
        until = _expiry(t).astimezone(t.event.timezone).strftime("%Y-%m-%d %H:%M")
        live = (
            f'<div id="live"><h2>{html.escape(text["live"])}</h2>'
            f'<p><a id="link" href="{html.escape(url)}">{html.escape(url)}</a></p>'
            f'<div class="qr">{qr_svg(url)}</div>'
            f'<p class="small">{html.escape(text["expires"].format(time=until))}</p>'
            f'<button id="share" class="btn primary" type="button">{html.escape(text["share"])}</button>'
            f'<button id="stop" class="btn ghost" type="button">{html.escape(text["stop"])}</button></div>'
        )
    if not t.settings.follow_enabled:
        live = f'<p class="warn">{html.escape(text["off"])}</p>'
    body = fill(
        ME,
        {**text, "lang": lang, "event": t.event.name, "first": state.record.name.split(" ")[0]},
        {
            "css": asset_url("walker.css"),
            "css2": asset_url("follow.css"),
            "js": asset_url("follow-me.js"),
            "live_block": live,
            "back_url": html.escape(f"/w/{token}?lang={lang}"),
            "config": script_json({"token": token, "t": text}),
        },
    )
    return HTMLResponse(body, headers=headers)


@router.get("/w/{token}/follow.svg", include_in_schema=False)
async def follow_qr(request: Request, token: str) -> Response:
    """The QR code of the walker's follow link, for family to scan from the walker's phone."""
    state = tracker(request).by_token(token)
    link = tracker(request).follows.live_for(state.id) if state else None
    if link is None:
        raise HTTPException(404, detail="no follow link")
    out = io.BytesIO()
    segno.make(_link_view(request, link)["url"], error="m").save(out, kind="svg", scale=4, border=2)
    return Response(out.getvalue(), media_type="image/svg+xml", headers=PRIVATE)
