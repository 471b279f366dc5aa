"""Organiser endpoints for alerts and the overview."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from tracking.alerting import alert_view
from tracking.views import overview
from tracking.web.context import view_context
from tracking.web.deps import require_organiser, tracker

router = APIRouter(tags=["alerts"], dependencies=[Depends(require_organiser)])

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the alert's id")]


@router.get("/api/alerts")
async def list_alerts(
    request: Request, state: Literal["open", "acknowledged", "resolved"] | None = None
) -> list[dict]:
    t = tracker(request)
    return [alert_view(a, t.walkers.get(a.walker_id)) for a in t.alerts(state)]


async def _set(request: Request, alert_id: int, new_state: str) -> dict:
    t = tracker(request)
    alert = await t.set_alert_state(alert_id, new_state)
    if alert is None:
        raise HTTPException(404, detail=f"no alert {alert_id}")
    return alert_view(alert, t.walkers.get(alert.walker_id))


@router.post("/api/alerts/{alert_id}/ack")
async def ack_alert(request: Request, alert_id: AlertId) -> dict:
    """Someone is on it: the alert stays listed (and an SOS keeps its walker flagged)."""
    return await _set(request, alert_id, "acknowledged")


@router.post("/api/alerts/{alert_id}/resolve")
async def resolve_alert(request: Request, alert_id: AlertId) -> dict:
    return await _set(request, alert_id, "resolved")


@router.get("/api/overview")
async def get_overview(request: Request) -> dict:
    t = tracker(request)
    return overview(list(t.walkers.values()), view_context(t))
