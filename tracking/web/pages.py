"""The landing page: where a newcomer finds the dashboard, the planner and the API docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from tracking.web.assets import STATIC_DIR, render
from tracking.web.deps import tracker
from tracking.web.i18n import LANG_COOKIE, LANGUAGES, catalogue, language, language_links

router = APIRouter(include_in_schema=False)

FAVICON: Path = STATIC_DIR / "favicon.svg"


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    """The event, its routes, and the doors: dashboard, planner, API docs; in NL, EN or FR."""
    event = tracker(request).event
    lang = language(request)
    routes = ", ".join(
        f"{er.name} ({er.route.length_m / 1000:.1f} km)" for er in event.routes.values()
    )
    body = render(
        "landing.html",
        lang=lang,
        t=catalogue()[lang]["landing"],
        event_name=event.name,
        date=event.date.isoformat(),
        routes=routes,
        languages=language_links(lang, "/"),
    )
    response = HTMLResponse(body, headers={"Vary": "Accept-Language, Cookie"})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax")
    return response


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The icon browsers ask for by themselves (an SVG: every current browser reads it)."""
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )
