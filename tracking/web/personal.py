"""Personal routes on the web: the planner page and the check behind it.

POST /api/personal-routes/validate takes a multipart form (`file`, `distance_km`) and answers
with the report of `routes.validation`. The body is read with a limit before it is parsed, so
an oversized upload is refused (413) without being held in memory or spooled to disk.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from routes.gpx_reader import read_route_gpx
from routes.gpx_writer import route_to_gpx
from routes.prepared import PreparedRoute, prepare_route
from routes.validation import (
    TARGETS_KM,
    ValidationReport,
    ValidationRules,
    report_to_dict,
    validate_gpx,
)
from tracking.web.assets import render
from tracking.web.cpu import cpu_gate
from tracking.web.deps import read_body, require_walker, settings, tracker
from tracking.web.i18n import LANGUAGES, catalogue, language, sections
from tracking.web.walkers import PERSONAL

router = APIRouter()

FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and the distance field
CHECKPOINT_MAX_OFFSET_M = 200.0  # a check-in point further from its place on the route is wrong


@router.get("/plan", response_class=HTMLResponse, include_in_schema=False)
async def plan_page(request: Request) -> HTMLResponse:
    """The planner: upload a GPX or draw a route, see its distance and whether it counts.

    Rendered in the browser's language; the page switches language by itself, so it carries
    the planner's words and the findings' sentences in all three.
    """
    lang = language(request)
    body = render(
        "plan.html",
        lang=lang,
        t=catalogue()[lang]["plan"],
        languages=LANGUAGES,
        texts=sections("plan", "findings"),
    )
    return HTMLResponse(body, headers={"Vary": "Accept-Language, Cookie"})


@router.get("/api/personal-routes/config")
async def planner_config(request: Request) -> dict[str, Any]:
    """What the planner page needs: tiles, the distances and the thresholds it explains."""
    s = settings(request)
    rules = s.validation
    return {
        "tile_url": s.tile_url,
        "tile_attribution": s.tile_attribution,
        "targets_km": list(TARGETS_KM),
        "max_upload_bytes": s.max_upload_bytes,
        "rules": {name: getattr(rules, name) for name in ValidationRules.__dataclass_fields__},
    }


@router.post("/api/personal-routes/validate")
async def validate(request: Request) -> dict[str, Any]:
    """Does this GPX (planned route or recording) count for 20 or 40 km? The report says why.

    Form fields: `file` (the GPX) and `distance_km` (20 or 40). A file that cannot be read
    gets 422 with the reason, one over the size limit 413.
    """
    _, report = await _checked_upload(request)
    return report_to_dict(report)


@router.post("/api/me/route")
async def attach_route(request: Request) -> JSONResponse:
    """A walker on route `personal` attaches their route (same form as validate).

    A route that counts is kept, and from then on the walker's progress is measured along it,
    like on the event's routes; a route that does not count is refused (422) with the report.
    """
    state = require_walker(request)
    if state.record.route_id != PERSONAL:
        raise HTTPException(
            409,
            detail=f"you walk the event's {state.record.route_id} route; only walkers on a "
            "personal route attach their own",
        )
    data, report = await _checked_upload(request)
    s = settings(request)
    route = await cpu_gate(request).run(
        _personal_route, data, s.route_max_checkpoints, **s.gpx_limits()
    )
    body = report_to_dict(report)
    if not report.valid:
        return JSONResponse(
            status_code=422,
            content={
                "detail": "this route does not count yet: "
                + "; ".join(p["message"] for p in body["problems"]),
                "report": body,
            },
        )
    await tracker(request).update_walker(
        state, replace(state.record, personal_gpx=_normalised(route))
    )
    return JSONResponse(status_code=201, content={"attached": True, "report": body})


def _personal_route(data: bytes, max_checkpoints: int, **limits: int) -> PreparedRoute:
    """The route with its check-in points, which must be few and in the order walked (422)."""
    route = prepare_route(read_route_gpx(data, "personal route", **limits), "personal")
    problem = checkpoint_problem(route, max_checkpoints)
    if problem:
        raise HTTPException(422, detail=problem)
    return route


def checkpoint_problem(route: PreparedRoute, max_checkpoints: int) -> str:
    """Why the route's check-in points cannot be used, or ''.

    Check-in points are placed along the route in file order, never going back; a point
    listed out of order lands far from where it is, so an offset above the limit means so.
    """
    points = route.checkpoints
    if len(points) > max_checkpoints:
        return (
            f"the route has {len(points)} check-in points (waypoints with a <type>); "
            f"at most {max_checkpoints} are allowed"
        )
    for cp in points:
        if cp.offset_m > CHECKPOINT_MAX_OFFSET_M:
            return (
                f"check-in point '{cp.name}' is {cp.offset_m:.0f} m from the route where it "
                "comes in the file; list the waypoints in the order the route passes them, "
                f"each within {CHECKPOINT_MAX_OFFSET_M:.0f} m of the route"
            )
    return ""


def _normalised(route: PreparedRoute) -> str:
    """The route re-written as plain UTF-8 GPX 1.1 (one line, its check-in points kept)."""
    points = zip(route.lons.tolist(), route.lats.tolist(), strict=True)
    return route_to_gpx(route.name or "Personal route", points, route.checkpoints)


async def _checked_upload(request: Request) -> tuple[bytes, ValidationReport]:
    """Read the multipart form within the limits and validate its GPX against its distance."""
    limit = settings(request).max_upload_bytes
    try:
        form = await _bounded_form(request, limit + FORM_OVERHEAD_BYTES)
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        raise HTTPException(
            413, detail=f"the GPX file is larger than the limit of {limit / 1e6:.1f} MB"
        ) from None
    target_km = _target_km(form.get("distance_km"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, detail="send the GPX file in the form field 'file'")
    data = await upload.read(limit + 1)
    s = settings(request)
    source = upload.filename or "upload"
    report = await cpu_gate(request).run(
        validate_gpx, data, source, target_km, s.validation, max_bytes=limit, **s.gpx_limits()
    )
    return data, report


async def _bounded_form(request: Request, limit: int) -> FormData:
    """The multipart form, parsed from a body read with `limit` (413 past it)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise HTTPException(
            415, detail="send the GPX as multipart/form-data with fields 'file' and 'distance_km'"
        )
    body = await read_body(request, limit)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, replay).form(max_files=1, max_fields=10)


def _target_km(value: object) -> int:
    text = value.strip() if isinstance(value, str) else ""
    try:
        km = float(text)
    except ValueError:
        km = 0.0
    if km not in TARGETS_KM:
        shown = f"'{text}'" if text else "missing"
        raise HTTPException(
            422, detail=f"distance_km must be 20 or 40 (the walk's distance), not {shown}"
        )
    return int(km)
