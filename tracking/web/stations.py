"""Check-in stations: organisers open and close them; a volunteer's phone checks walkers in.

Organiser endpoints take the organiser token; the station's own endpoints take the station
token as `Authorization: Bearer <station token>`. A station token only checks in at its own
point, searches walkers by name or bib (name, bib and route only), and is refused once the
station is closed (410).
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracking.fixes import parse_time
from tracking.labels import Label, labels_pdf
from tracking.stations import station_view
from tracking.storage.base import Station
from tracking.web.context import now
from tracking.web.deps import bearer, require_organiser, settings, tracker
from tracking.web.walker_page import (
    LANGUAGES,
    PAGE_CSP,
    PRIVATE,
    _language,
    asset_url,
    fill,
    script_json,
)

router = APIRouter(tags=["stations"])
organiser = [Depends(require_organiser)]
JSQR = Path(__file__).resolve().parents[1] / "static" / "vendor" / "jsqr"
CATALOGUE = Path(__file__).resolve().parents[1] / "static" / "station-i18n.json"
SEARCH_LIMIT = 20
PAST_LIMIT = timedelta(hours=24)  # a queued check-in older than this is timed now


class OpenStation(BaseModel):
    checkpoint_id: str = Field(min_length=1, max_length=100)


class StationCheckIn(BaseModel):
    code: str = Field(min_length=0, max_length=100, description="a bib, or RW:<bib> from a QR")
    client_id: str = Field(min_length=1, max_length=100)
    at: str | None = Field(default=None, max_length=64)


def _base_url(request: Request) -> str:
    return settings(request).public_url.rstrip("/") or str(request.base_url).rstrip("/")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The station page's words in Dutch, French and English (static/station-i18n.json)."""
    loaded: dict[str, dict[str, str]] = json.loads(CATALOGUE.read_text("utf-8"))
    return loaded


# --- organisers ----------------------------------------------------------------------------
@router.post("/api/stations", status_code=201, dependencies=organiser)
async def open_station(request: Request, body: OpenStation) -> dict:
    """Open a station at a check-in point: its link goes to a volunteer's phone."""
    t = tracker(request)
    station = await t.open_station(body.checkpoint_id)
    return station_view(station, t.stations, _base_url(request))


@router.get("/api/stations", dependencies=organiser)
async def list_stations(request: Request) -> list[dict]:
    t = tracker(request)
    return [station_view(s, t.stations, _base_url(request)) for s in t.stations.stations.values()]


async def _close(request: Request, station_id: str) -> dict:
    t = tracker(request)
    station = await t.close_station(station_id)
    if station is None:
        raise HTTPException(404, detail=f"no station {station_id!r}; see GET /api/stations")
    return station_view(station, t.stations, _base_url(request))


@router.post("/api/stations/{station_id}/close", dependencies=organiser)
async def close_station(request: Request, station_id: str) -> dict:
    """Close a station: its token is refused from now on (410)."""
    return await _close(request, station_id)


@router.delete("/api/stations/{station_id}", dependencies=organiser)
async def delete_station(request: Request, station_id: str) -> dict:
    """The same as close: the station and its check-ins are kept, its token is refused."""
    return await _close(request, station_id)


PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A4 sheets of bib labels.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/api/stations/labels.pdf", dependencies=organiser, response_class=Response, responses=PDF
)
async def labels(request: Request, route_id: str | None = None) -> Response:
    """A4 sheets of bib labels (3 x 8): name, bib, route and the QR code `RW:<bib>`."""
    t = tracker(request)
    names = {rid: er.name for rid, er in t.event.routes.items()}
    items = sorted(
        (
            Label(s.record.name, s.record.bib, names.get(s.record.route_id, s.record.route_id))
            for s in t.walkers.values()
            if s.record.bib and (route_id is None or s.record.route_id == route_id)
        ),
        key=lambda label: (label.route, _bib_key(label.bib)),
    )
    pdf = await run_in_threadpool(labels_pdf, items, t.event.name)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="bib-labels.pdf"'},
    )


def _bib_key(bib: str) -> tuple[int, str]:
    return (int(bib), bib) if bib.isdigit() else (10**9, bib)


# --- the station's own endpoints -----------------------------------------------------------
def require_station(request: Request) -> Station:
    """The station whose token is in `Authorization: Bearer`; 410 once it was closed."""
    token = bearer(request)
    station = tracker(request).stations.by_token(token) if token else None
    if station is None:
        raise HTTPException(
            401,
            detail="unknown station link: ask the organisers for the station's link",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not station.open:
        raise HTTPException(410, detail="this station was closed; ask the organisers")
    return station


StationDep = Annotated[Station, Depends(require_station)]
CLOSED_410: dict[int | str, dict[str, Any]] = {410: {"description": "The station was closed."}}
CHECKIN_ANSWERS: dict[int | str, dict[str, Any]] = {
    **CLOSED_410,
    200: {"description": "Already checked in here: the earlier time stands."},
    201: {"description": "Checked in."},
}


@router.get("/api/station", responses=CLOSED_410)
async def this_station(request: Request, station: StationDep) -> dict:
    view = station_view(station, tracker(request).stations, _base_url(request))
    del view["token"], view["url"]
    return view


@router.get("/api/station/walkers", responses=CLOSED_410)
async def search_walkers(
    request: Request, station: StationDep, q: Annotated[str, Query(max_length=100)] = ""
) -> list[dict]:
    """Walkers whose name or bib contains `q`: name, bib and route only."""
    needle = q.strip().casefold()
    if len(needle) < 2 and not needle.isdigit():
        return []
    found = []
    for s in tracker(request).walkers.values():
        r = s.record
        if needle in r.name.casefold() or (r.bib and r.bib.startswith(needle)):
            found.append({"name": r.name, "bib": r.bib, "route_id": r.route_id})
            if len(found) >= SEARCH_LIMIT:
                break
    return found


@router.post("/api/station/checkins", response_model=None, responses=CHECKIN_ANSWERS)
async def station_check_in(
    request: Request, station: StationDep, body: StationCheckIn
) -> JSONResponse:
    """Check a walker in at this station's point: 201 done, 200 already (with the earlier time),
    404 unknown bib, 409 the point is not on the walker's route. Sent again with the same
    `client_id`, it gets the same answer and is stored once."""
    answer = await tracker(request).station_check_in(
        station, body.code, body.client_id, _when(request, body.at)
    )
    return JSONResponse(answer.body, status_code=answer.status)


def _when(request: Request, value: str | None) -> datetime:
    """The time the volunteer checked the walker in (queued offline: earlier than now)."""
    current = now()
    if not value:
        return current
    try:
        at = parse_time(value)
    except ValueError:
        return current
    ahead = timedelta(seconds=settings(request).future_tolerance_s)
    return at if current - PAST_LIMIT <= at <= current + ahead else current


# --- the page ------------------------------------------------------------------------------
PAGE = "station.html"  # web/templates/

CLOSED = "station_closed.html"  # web/templates/


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
async def station_page(request: Request, token: str) -> HTMLResponse:
    """The volunteer's page: check walkers in by bib, name or QR code; works offline."""
    t = tracker(request)
    station = t.stations.by_token(token)
    lang = _language(request)
    text = {**catalogue()[lang], "lang": lang, "event": t.event.name}
    headers = {**PRIVATE, "Content-Security-Policy": PAGE_CSP}
    if station is None or not station.open:
        which = "closed" if station else "unknown"
        body = fill(
            CLOSED,
            {**text, "title": text[f"{which}_title"], "text": text[f"{which}_text"]},
            {"css": asset_url("station.css")},
        )
        return HTMLResponse(body, status_code=410 if station else 404, headers=headers)
    found = t.stations.checkpoint(station.checkpoint_id)
    point, routes = found if found else (station.checkpoint_id, [])
    config = {
        "token": token,
        "station": station.id,
        "point": point,
        "routes": routes,
        "jsqr": "/vendor/jsqr/jsQR.js",
        "lang": lang,
        "tz": t.event.timezone.key,
        "t": catalogue()[lang],
    }
    body = fill(
        PAGE,
        {**text, "point": point},
        {
            "css": asset_url("station.css"),
            "js": asset_url("station.js"),
            "languages": _languages(lang, f"/s/{html.escape(token)}"),
            "config": script_json(config),
        },
    )
    return HTMLResponse(body, headers=headers)


def _languages(lang: str, path: str) -> str:
    links = []
    for code in LANGUAGES:
        current = ' aria-current="true"' if code == lang else ""
        links.append(f'<a href="{path}?lang={code}" hreflang="{code}"{current}>{code.upper()}</a>')
    return "".join(links)


@router.get("/vendor/jsqr/{name}", include_in_schema=False)
async def jsqr(name: str) -> FileResponse:
    """jsQR (Apache-2.0, vendored from the npm registry): QR decoding without BarcodeDetector."""
    if name not in ("jsQR.js", "LICENSE", "SOURCE.md"):
        raise HTTPException(404, detail=f"no vendored file {html.escape(name)}")
    return FileResponse(JSQR / name, headers={"Cache-Control": "public, max-age=86400"})
