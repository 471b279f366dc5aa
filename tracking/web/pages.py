"""The landing page: where a newcomer finds the dashboard, the planner and the API docs."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from tracking.web.deps import tracker

FAVICON = Path(__file__).resolve().parents[1] / "static" / "favicon.svg"

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}</title><style>
body{{font:18px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
a{{color:#0b5cad}} li{{margin:.4rem 0}} small{{color:#555}}
</style></head><body>
<h1>{name}</h1><p>{date} · {routes}</p>
<ul>
<li><a href="/organiser">Organiser dashboard</a> <small>(organiser token needed)</small></li>
<li><a href="/plan">Plan or check a personal route</a> <small>(GPX upload or draw on a map)</small></li>
<li><a href="/docs">API documentation</a></li>
<li><a href="/api/routes">The routes and check-in points (JSON)</a></li>
</ul>
<p><small>Walkers open the personal link they received from the organisers.</small></p>
</body></html>"""


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> str:
    event = tracker(request).event
    routes = ", ".join(
        f"{er.name} ({er.route.length_m / 1000:.1f} km)" for er in event.routes.values()
    )
    return PAGE.format(name=escape(event.name), date=event.date.isoformat(), routes=escape(routes))


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The icon browsers ask for by themselves (an SVG: every current browser reads it)."""
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )
