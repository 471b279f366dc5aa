"""Organiser endpoints for walkers: register one, import the registration CSV, list, change status."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field, ValidationError

from tracking.registry import new_token
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


def _record(request: Request, body: NewWalker) -> WalkerRecord:
    routes = _known_routes(request)
    if body.route_id not in routes:
        raise HTTPException(
            422, detail=f"unknown route {body.route_id!r}; use one of {', '.join(routes)}"
        )
    return WalkerRecord(
        id=tracker(request).registry.fresh_id(),
        token=new_token(),
        name=body.name.strip(),
        route_id=body.route_id,
        bib=body.bib.strip(),
        team=body.team.strip(),
        phone=body.phone.strip(),
    )


def _made(request: Request, record: WalkerRecord) -> dict:
    return {
        "id": record.id,
        "token": record.token,
        "route_id": record.route_id,
        "url": f"{settings(request).base_url}/w/{record.token}",
        "name": record.name,
    }


@router.post("/api/walkers", status_code=201)
async def create_walker(request: Request, body: NewWalker) -> dict:
    """Register a walker; the answer holds their personal link (keep the token secret)."""
    record = _record(request, body)
    await tracker(request).register([record])
    return _made(request, record)


@router.post("/api/walkers/import")
async def import_walkers(request: Request) -> dict:
    """Registration list as CSV with a header: name, route, bib, team (phone optional).

    All or nothing: a row that cannot be registered gives 422 naming the row and the column,
    and no walker is created. Rows without a name are skipped (empty lines in a spreadsheet).
    """
    raw = await read_body(request, settings(request).max_upload_bytes)
    rows = registration_rows(raw)
    records, skipped = [], []
    for line, row in rows:
        if not row.get("name"):
            skipped.append({"line": line, "result": "skipped", "reason": "no name"})
            continue
        records.append((line, _row_record(request, line, row)))
    bibs: dict[str, int] = {}
    for line, record in records:
        if record.bib and (record.bib in bibs or tracker(request).registry.by_bib(record.bib)):
            raise HTTPException(
                422, detail=f"line {line}, column bib: bib {record.bib} is already registered"
            )
        bibs[record.bib] = line
    await tracker(request).register([r for _, r in records])
    made = [{"line": line, "result": "created", **_made(request, r)} for line, r in records]
    return {
        "created": len(made),
        "skipped": len(skipped),
        "rows": sorted(made + skipped, key=lambda r: r["line"]),
    }


def registration_rows(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a registration CSV, with lower-case column names."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, detail="the CSV is not UTF-8 text; save it as CSV UTF-8") from None
    sample = text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel  # one column: the header check below says what is missing
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    fields = {f.strip().lower() for f in (reader.fieldnames or []) if f}
    if not {"name", "route"} <= fields:
        raise HTTPException(
            400,
            detail="the CSV needs a header row with at least the columns name and route "
            "(and bib, team, phone), separated by commas or semicolons",
        )
    try:
        return [
            (line, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k})
            for line, row in enumerate(reader, start=2)
        ]
    except csv.Error as exc:
        raise HTTPException(400, detail=f"the CSV cannot be read: {exc}") from None


def _row_record(request: Request, line: int, row: dict[str, str]) -> WalkerRecord:
    route = row.get("route", "").replace(" ", "").lower()
    if route not in _known_routes(request):
        raise HTTPException(
            422,
            detail=f"line {line}, column route: unknown route {row.get('route')!r}; "
            f"use one of {', '.join(_known_routes(request))}",
        )
    values = {"name": row["name"], "route_id": route}
    values.update({k: row.get(k, "") for k in ("bib", "team", "phone")})
    try:
        return _record(request, NewWalker(**values))
    except ValidationError as exc:
        column = str(exc.errors()[0]["loc"][0]) if exc.errors() else "?"
        column = "route" if column == "route_id" else column
        message = exc.errors()[0]["msg"] if exc.errors() else "invalid"
        raise HTTPException(422, detail=f"line {line}, column {column}: {message}") from None


@router.get("/api/walkers")
async def list_walkers(
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
async def get_walker(request: Request, walker_id: str) -> dict:
    state = _state(request, walker_id)
    return walker_view(state, view_context(tracker(request)))


@router.get("/api/walkers/{walker_id}/track")
async def get_track(request: Request, walker_id: str) -> dict:
    """The walker's accepted positions so far, as [lon, lat] pairs in time order."""
    _state(request, walker_id)
    t = tracker(request)
    assert t.store is not None
    fixes = await t.read(t.store.fixes, walker_id)
    return {
        "walker_id": walker_id,
        "coordinates": [
            [f.fix.lon, f.fix.lat] for f in fixes if not f.flags or f.flags == ("late",)
        ],
    }


@router.post("/api/walkers/{walker_id}/status")
async def set_status(request: Request, walker_id: str, body: StatusChange) -> dict:
    """Dropped out, picked up (by the broom wagon), or back walking."""
    state = _state(request, walker_id)
    override = "" if body.status == "walking" else body.status
    await tracker(request).update_walker(state, replace(state.record, status_override=override))
    return walker_view(state, view_context(tracker(request)))


@router.post("/api/walkers/{walker_id}/revoke")
async def revoke_token(request: Request, walker_id: str) -> dict:
    """Revoke a walker's link (a lost phone): the old token is refused; a new link is returned."""
    state = _state(request, walker_id)
    await tracker(request).revoke(state)
    return {
        "id": state.id,
        "token": state.record.token,
        "url": f"{settings(request).base_url}/w/{state.record.token}",
    }


@router.delete("/api/walkers/{walker_id}", status_code=204)
async def delete_walker(request: Request, walker_id: str) -> None:
    """Delete a walker with every stored position, check-in and alert (the right to be forgotten)."""
    await tracker(request).delete(_state(request, walker_id))
