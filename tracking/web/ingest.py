"""Where phones send positions: the walker page, Traccar Client / OsmAnd, and OwnTracks.

Each endpoint decodes its protocol (`tracking.protocols`), awaits the engine, and answers the
way its app expects. Whatever becomes of the fixes, a known walker gets 2xx: the apps resend
what we refuse, oldest first, forever, so a refusal is counted and shown to the organisers
instead. 4xx only for an unknown device, bad credentials or a request that cannot be read.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from tracking.protocols import Decoded, ProtocolError, app_label, osmand, owntracks, walker_api
from tracking.web.context import now
from tracking.web.deps import (
    basic_password,
    bearer,
    parse_json,
    read_body,
    read_json,
    require_walker,
    settings,
    tracker,
)

router = APIRouter(tags=["ingestion"])


@router.post("/api/fixes")
async def post_fixes(request: Request) -> Response:
    """The walker page's batch: each fix has a phone-made `id`, so a resent batch counts once.

    Per-fix refusals are listed with their reason (the page shows them to the walker).
    """
    state = require_walker(request)
    body = await read_json(request, settings(request).max_body_bytes)
    decoded = labelled(walker_api.decode(body, bearer(request)), request)
    intake = await tracker(request).ingest(state, decoded)
    answer = {
        "accepted": intake.accepted,
        "duplicates": intake.duplicates,
        "rejected": [{"id": r.client_id, "reason": r.message} for r in intake.refused],
    }
    return Response(orjson.dumps(answer), media_type="application/json")


@router.api_route("/ingest/osmand", methods=["GET", "POST"])
async def osmand_ingest(request: Request) -> Response:
    """Traccar Client / OsmAnd: query parameters, a form body, or Traccar Client's JSON."""
    body = await _body(request) if request.method == "POST" else b""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        decoded = osmand.decode_json(parse_json(body), now())
        unknown_status = 404
    else:
        params = dict(request.query_params) if request.url.query else _form(body)
        decoded = osmand.decode_params(params, now())
        unknown_status = 400
    t = tracker(request)
    state = t.by_token(decoded.token)
    if state is None:
        raise HTTPException(
            unknown_status, detail="unknown device id: use the id shown on your walker page"
        )
    await t.ingest(state, labelled(decoded, request))
    return Response(status_code=200)


@router.post("/ingest/owntracks")
async def owntracks_ingest(request: Request) -> JSONResponse:
    """OwnTracks HTTP mode; the walker is the Basic-auth password (the user name is free)."""
    t = tracker(request)
    token = basic_password(request)
    state = t.by_token(token) if token else None
    if state is None:
        raise HTTPException(
            401,
            detail="unknown walker: set your walker token as the password in OwnTracks",
            headers={"WWW-Authenticate": 'Basic realm="refugee-walk"'},
        )
    body = await _body(request)
    if body.strip():
        await t.ingest(state, labelled(owntracks.decode(parse_json(body), token), request))
    return JSONResponse([])


def labelled(decoded: Decoded, request: Request) -> Decoded:
    """The app and version that sent it (User-Agent), for the organisers' phone health view."""
    return replace(decoded, app=app_label(request.headers.get("user-agent", ""), decoded.app))


async def _body(request: Request) -> bytes:
    return await read_body(request, settings(request).max_body_bytes)


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise ProtocolError("the form body is not UTF-8") from None
