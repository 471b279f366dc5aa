"""Organiser endpoints for walkers: register one, import the registration CSV, list, change status."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from tracking.storage.base import WalkerRecord
from tracking.views import walker_view
from tracking.web.context import view_context
from tracking.web.deps import read_body, require_organiser, settings, tracker

router = APIRouter(tags=["walkers"], dependencies=[Depends(require_organiser)])

PERSONAL = "personal"


class NewWalker(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    route_id: str
    bib: str = Field(default="", max_length=40)
    team: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)


class StatusChange(BaseModel):
    status: Literal["dropped_out", "picked_up", "walking"]


def _known_routes(request: Request) -> list[str]:
    return [*tracker(request).event.routes, PERSONAL]


def _create(request: Request, body: NewWalker) -> dict:
    routes = _known_routes(request)
    if body.route_id not in routes:
        raise HTTPException(
            422, detail=f"unknown route {body.route_id!r}; use one of {', '.join(routes)}"
        )
    record = WalkerRecord(
        id="w" + secrets.token_hex(4),
        token=secrets.token_urlsafe(24),
        name=body.name.strip(),
        route_id=body.route_id,
        bib=body.bib.strip(),
        team=body.team.strip(),
        phone=body.phone.strip(),
    )
    tracker(request).add_walker(record)
    return {
        "id": record.id,
        "token": record.token,
        "route_id": record.route_id,
        "url": f"{settings(request).base_url}/w/{record.token}",
        "name": record.name,
    }


@router.post("/api/walkers", status_code=201)
def create_walker(request: Request, body: NewWalker) -> dict:
    """Register a walker; the answer holds their personal link (keep the token secret)."""
    return _create(request, body)


@router.post("/api/walkers/import")
async def import_walkers(request: Request) -> dict:
    """Registration list as CSV with a header: name, route, bib, team (phone optional)."""
    raw = await read_body(request, settings(request).max_upload_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, detail="the CSV is not UTF-8 text; save it as CSV UTF-8") from None
    sample = text[:2048]
    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    if not {"name", "route"} <= fields:
        raise HTTPException(
            400, detail="the CSV needs a header row with at least: name, route (and bib, team)"
        )
    rows = []
    for line, row in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        rows.append(_import_row(request, line, row))
    return {
        "created": sum(r["result"] == "created" for r in rows),
        "skipped": sum(r["result"] != "created" for r in rows),
        "rows": rows,
    }


def _import_row(request: Request, line: int, row: dict[str, str]) -> dict:
    route = row.get("route", "").replace(" ", "").lower()
    if not row.get("name"):
        return {"line": line, "result": "skipped", "reason": "no name"}
    if route not in _known_routes(request):
        return {
            "line": line,
            "result": "skipped",
            "reason": f"unknown route {row.get('route')!r}; use one of {', '.join(_known_routes(request))}",
        }
    bib = row.get("bib", "")
    if bib and any(s.record.bib == bib for s in tracker(request).walkers.values()):
        return {"line": line, "result": "skipped", "reason": f"bib {bib} is already registered"}
    made = _create(
        request,
        NewWalker(
            name=row["name"],
            route_id=route,
            bib=bib,
            team=row.get("team", ""),
            phone=row.get("phone", ""),
        ),
    )
    return {"line": line, "result": "created", **made}


@router.get("/api/walkers")
def list_walkers(
    request: Request,
    route: str | None = None,
    status: str | None = None,
    q: Annotated[str | None, Query(description="text search in name, bib and team")] = None,
) -> list[dict]:
    t = tracker(request)
    ctx = view_context(t)
    out = []
    needle = (q or "").strip().lower()
    for state in t.walkers.values():
        if route and state.record.route_id != route:
            continue
        if (
            needle
            and needle not in f"{state.record.name} {state.record.bib} {state.record.team}".lower()
        ):
            continue
        view = walker_view(state, ctx)
        if status and view["status"] != status:
            continue
        out.append(view)
    return out


def _state(request: Request, walker_id: str):
    state = tracker(request).walkers.get(walker_id)
    if state is None:
        raise HTTPException(404, detail=f"no walker with id {walker_id!r}")
    return state


@router.get("/api/walkers/{walker_id}")
def get_walker(request: Request, walker_id: str) -> dict:
    state = _state(request, walker_id)
    return walker_view(state, view_context(tracker(request)))


@router.get("/api/walkers/{walker_id}/track")
def get_track(request: Request, walker_id: str) -> dict:
    """The walker's accepted positions so far, as [lon, lat] pairs in time order."""
    _state(request, walker_id)
    fixes = tracker(request).store.fixes(walker_id)
    return {
        "walker_id": walker_id,
        "coordinates": [
            [f.fix.lon, f.fix.lat] for f in fixes if not f.flags or f.flags == ("late",)
        ],
    }


@router.post("/api/walkers/{walker_id}/status")
def set_status(request: Request, walker_id: str, body: StatusChange) -> dict:
    """Dropped out, picked up (by the broom wagon), or back walking."""
    state = _state(request, walker_id)
    override = "" if body.status == "walking" else body.status
    tracker(request).update_walker(state, replace(state.record, status_override=override))
    return walker_view(state, view_context(tracker(request)))


@router.post("/api/walkers/{walker_id}/revoke")
def revoke_token(request: Request, walker_id: str) -> dict:
    """Revoke a walker's link (a lost phone): the old token is refused; a new link is returned."""
    state = _state(request, walker_id)
    tracker(request).new_token(state, secrets.token_urlsafe(24))
    return {
        "id": state.id,
        "token": state.record.token,
        "url": f"{settings(request).base_url}/w/{state.record.token}",
    }


@router.delete("/api/walkers/{walker_id}", status_code=204)
def delete_walker(request: Request, walker_id: str) -> None:
    """Delete a walker with every stored position, check-in and alert (the right to be forgotten)."""
    tracker(request).forget_walker(_state(request, walker_id))
