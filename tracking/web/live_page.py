"""The public live page of the event (/live) and its JSON (GET /api/live).

Counts only (tracking/live_view.py): no names, tokens or positions. The page can be embedded
in the event's website: who may frame it is the `live_frame_ancestors` setting.
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from tracking.engine import Engine
from tracking.live_view import live_view
from tracking.web.context import view_context
from tracking.web.deps import settings, tracker
from tracking.web.walker_page import LANGUAGES, _language, asset_url, fill, script_json

router = APIRouter(tags=["live"])
CATALOGUE = Path(__file__).resolve().parents[1] / "static" / "live-i18n.json"
FRESH_S = 2.0  # many screens poll: one computation serves them all for this long
POLL_MS = 5000
_cached: dict[int, tuple[float, dict]] = {}


@cache
def catalogue() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(CATALOGUE.read_text("utf-8"))
    return loaded


def _live(t: Engine) -> dict:
    at, data = _cached.get(id(t), (0.0, {}))
    if time.monotonic() - at > FRESH_S:
        data = live_view(list(t.walkers.values()), view_context(t))
        _cached[id(t)] = (time.monotonic(), data)
    return data


def _csp(request: Request) -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {settings(request).live_frame_ancestors}"
    )


@router.get("/api/live")
async def live_json(request: Request, response: Response) -> dict:
    """Walkers on the way and finished per route, km together, recent check-ins per point,
    and the crowd per stretch of route. Counts only."""
    response.headers["Cache-Control"] = "public, max-age=2"
    return _live(tracker(request))


PAGE = "live.html"  # web/templates/


@router.get("/live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(request: Request, big: int = 0) -> HTMLResponse:
    """The event live, for everyone; `?big=1` for a big screen at the finish."""
    lang = _language(request)
    t = tracker(request)
    text = catalogue()[lang]
    suffix = "&big=1" if big else ""
    links = "".join(
        f'<a href="/live?lang={code}{suffix}"{" aria-current=true" if code == lang else ""}>'
        f"{code.upper()}</a>"
        for code in LANGUAGES
    )
    body = fill(
        PAGE,
        {**text, "lang": lang, "event": t.event.name},
        {
            "css": asset_url("live.css"),
            "js": asset_url("live.js"),
            "mode": "big" if big else "",
            "languages": links,
            "config": script_json(
                {
                    "lang": lang,
                    "t": text,
                    "data": _live(t),
                    "poll_ms": POLL_MS,
                    "tz": t.event.timezone.key,
                }
            ),
        },
    )
    return HTMLResponse(
        body,
        headers={"Content-Security-Policy": _csp(request), "Cache-Control": "no-cache"},
    )
