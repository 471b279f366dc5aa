"""Where phones send positions: the walker page, Traccar Client / OsmAnd, and OwnTracks.

Each endpoint only decodes its protocol into `Fix` values; `Tracker.ingest` does the rest.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from tracking.protocols import ProtocolError, osmand, owntracks, walker_api
from tracking.web.context import now
from tracking.web.deps import (
    basic_password,
    read_body,
    read_json,
    require_walker,
    settings,
    tracker,
)

router = APIRouter(tags=["ingestion"])


@router.post("/api/fixes")
async def post_fixes(request: Request) -> dict:
    """The walker page's batch: each fix has a phone-made `id`, so a resent batch counts once."""
    state = require_walker(request)
    body = await read_json(request, settings(request).max_body_bytes)
    items = walker_api.batch_items(body)
    fixes, rejected = [], []
    for item in items:
        try:
            fixes.append(walker_api.decode_fix(item))
        except ValueError as exc:
            item_id = str(item.get("id", "")) if isinstance(item, dict) else ""
            rejected.append({"id": item_id, "reason": str(exc)})
    result = tracker(request).ingest(state, fixes, now())
    rejected += [{"id": r.id, "reason": r.reason} for r in result.rejected]
    return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected}


@router.api_route("/ingest/osmand", methods=["GET", "POST"])
async def osmand_ingest(request: Request) -> Response:
    """Traccar Client / OsmAnd: query parameters, a form body, or Traccar Client's JSON."""
    limit = settings(request).max_body_bytes
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, limit) if request.method == "POST" else b""
    if ctype == "application/json" and not request.url.query:
        try:
            import json

            message = json.loads(body)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, detail=f"the body is not valid JSON ({exc})") from None
        decoded = osmand.decode_json(message)
        unknown_status = 404
    else:
        params = dict(request.query_params) if request.url.query else _form(body)
        decoded = osmand.decode_params(params, settings(request).osmand_speed_unit)
        unknown_status = 400
    t = tracker(request)
    state = t.by_token(decoded.token)
    if state is None:
        raise HTTPException(
            unknown_status, detail="unknown device id: use the id shown on your walker page"
        )
    result = t.ingest(state, list(decoded.fixes), now())
    if result.rejected:
        raise HTTPException(400, detail=result.rejected[0].reason)
    return Response(status_code=200)


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise ProtocolError("the form body is not UTF-8") from None


@router.post("/ingest/owntracks")
async def owntracks_ingest(request: Request) -> JSONResponse:
    """OwnTracks HTTP mode; the walker is the Basic-auth password (the user name is free)."""
    t = tracker(request)
    state = t.by_token(basic_password(request))
    if state is None:
        raise HTTPException(
            401,
            detail="unknown walker: set your walker token as the password in OwnTracks",
            headers={"WWW-Authenticate": 'Basic realm="refugee-walk"'},
        )
    body = await read_body(request, settings(request).max_body_bytes)
    if not body.strip():
        return JSONResponse([])
    try:
        import json

        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, detail="the body is not valid JSON") from None
    fix = owntracks.decode_location(message)
    if fix is not None:
        result = t.ingest(state, [fix], now())
        if result.rejected:
            raise HTTPException(400, detail=result.rejected[0].reason)
    return JSONResponse([])
