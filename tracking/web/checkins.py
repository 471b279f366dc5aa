"""The walker's own endpoints: check in at a point, call for help, and see their own walk."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tracking.checkins import CheckIn
from tracking.fixes import Fix, parse_time
from tracking.views import walker_view
from tracking.web.context import now, view_context
from tracking.web.deps import require_walker, tracker

router = APIRouter(tags=["walker"])


class CheckInRequest(BaseModel):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(ge=0, le=1e6)] = 0.0
    recorded_at: str | None = Field(default=None, max_length=64)


class SosRequest(BaseModel):
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    accuracy_m: Annotated[float | None, Field(ge=0, le=1e6)] = None
    message: str = Field(default="", max_length=500)


def _time(value: str | None) -> datetime:
    if value is None:
        return now()
    try:
        return parse_time(value)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None


@router.post("/api/checkins", status_code=201, response_model=None)
async def check_in(request: Request, body: CheckInRequest) -> dict | JSONResponse:
    """Check in at the nearest check-in point; 422 with the nearest point when too far."""
    state = require_walker(request)
    fix = Fix(
        _time(body.recorded_at),
        body.lat,
        body.lon,
        "checkin",
        accuracy_m=body.accuracy_m,
        client_id="checkin",
    )
    result = await tracker(request).check_in(state, fix, body.accuracy_m)
    if isinstance(result, CheckIn):
        assert state.route is not None
        cp = next(c for c in state.route.checkpoints if c.id == result.checkpoint_id)
        return {
            "checkpoint_id": cp.id,
            "name": cp.name,
            "distance_along_m": round(cp.distance_along_m, 1),
            "at": result.at.isoformat(),
            "out_of_order": result.out_of_order,
        }
    cp = result.checkpoint
    dist = result.distance_m
    far = f"{dist / 1000:.1f} km" if dist >= 1000 else f"{dist:.0f} m"
    return JSONResponse(
        status_code=422,
        content={
            "detail": f"You are {far} from {cp.name}; walk on and try again",
            "nearest": {"checkpoint_id": cp.id, "name": cp.name, "distance_m": round(dist, 1)},
        },
    )


@router.post("/api/sos", status_code=201)
async def sos(request: Request, body: SosRequest) -> dict:
    """Raise an SOS alert for the organisers (the page asks for confirmation first).

    Pressed again while the alert is open, it answers with the same alert.
    """
    state = require_walker(request)
    t = tracker(request)
    fix = None
    if body.lat is not None and body.lon is not None:
        fix = Fix(now(), body.lat, body.lon, "sos", accuracy_m=body.accuracy_m, client_id="sos")
    alert_id = await t.sos(state, fix, body.message)
    return {"alert_id": alert_id, "organiser_phone": t.event.organiser_phone}


@router.get("/api/me")
async def me(request: Request) -> dict:
    """The walker's own progress, check-ins and ETA (their own data only)."""
    state = require_walker(request)
    view = walker_view(state, view_context(tracker(request)), private=False)
    view["organiser_phone"] = tracker(request).event.organiser_phone
    return view
