"""Organiser endpoints for alerts and the overview."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request

from tracking.pipeline import alert_view
from tracking.views import overview
from tracking.web.context import now, view_context
from tracking.web.deps import require_organiser, tracker

router = APIRouter(tags=["alerts"], dependencies=[Depends(require_organiser)])


@router.get("/api/alerts")
def list_alerts(
    request: Request, state: Literal["open", "acknowledged", "resolved"] | None = None
) -> list[dict]:
    t = tracker(request)
    return [alert_view(a, t.walkers.get(a.walker_id)) for a in t.store.alerts(state)]


def _set(request: Request, alert_id: int, new_state: str) -> dict:
    t = tracker(request)
    alert = t.set_alert_state(alert_id, new_state, now())
    if alert is None:
        raise HTTPException(404, detail=f"no alert {alert_id}")
    return alert_view(alert, t.walkers.get(alert.walker_id))


@router.post("/api/alerts/{alert_id}/ack")
def ack_alert(request: Request, alert_id: int) -> dict:
    """Someone is on it: the alert stays listed (and an SOS keeps its walker flagged)."""
    return _set(request, alert_id, "acknowledged")


@router.post("/api/alerts/{alert_id}/resolve")
def resolve_alert(request: Request, alert_id: int) -> dict:
    return _set(request, alert_id, "resolved")


@router.get("/api/overview")
def get_overview(request: Request) -> dict:
    t = tracker(request)
    return overview(list(t.walkers.values()), view_context(t))
