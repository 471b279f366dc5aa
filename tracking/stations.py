"""Check-in stations: a volunteer's phone at one check-in point checks walkers in by bib.

Runs inside the engine's tick (no I/O): each check-in is answered once per client id, and
the answer is kept, so a check-in a station sends again (its answer was lost) gets the same
answer and is stored once. A walker's QR code says `RW:<bib>`: it names the walker to a
station, and is not their secret token.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from routes.event import Event
from tracking.alerting import Tick
from tracking.checkins import CheckIn
from tracking.fixpath import record_checkin
from tracking.registry import Registry
from tracking.storage.base import Station, StationAnswer

QR_PREFIX = "RW:"


def walker_code(bib: str) -> str:
    """What a walker's QR code holds: their bib, never their token."""
    return f"{QR_PREFIX}{bib}"


def bib_from(text: str) -> str:
    """A typed bib or a scanned `RW:<bib>`."""
    text = text.strip()
    return text[len(QR_PREFIX) :].strip() if text.upper().startswith(QR_PREFIX) else text


class Stations:
    """The open and closed stations and their answers (changed only inside engine ticks)."""

    def __init__(self, registry: Registry, event: Event) -> None:
        self.registry = registry
        self.event = event
        self.stations: dict[str, Station] = {}
        self._by_token: dict[str, str] = {}
        self.answers: dict[tuple[str, str], StationAnswer] = {}

    def load(self, stations: list[Station], answers: list[StationAnswer]) -> None:
        self.stations.clear()
        self._by_token.clear()
        self.answers.clear()
        for station in stations:
            self._add(station)
        for answer in answers:
            self.answers[(answer.station_id, answer.client_id)] = answer

    def _add(self, station: Station) -> None:
        self.stations[station.id] = station
        self._by_token[station.token] = station.id

    def forget(self, walker_id: str) -> None:
        """A deleted walker: their check-ins' answers (with their name) go too."""
        for key in [k for k, a in self.answers.items() if a.walker_id == walker_id]:
            del self.answers[key]

    def by_token(self, token: str) -> Station | None:
        station_id = self._by_token.get(token)
        return self.stations.get(station_id) if station_id else None

    def checkpoint(self, checkpoint_id: str) -> tuple[str, list[str]] | None:
        """(name, route ids) of a check-in point of the event, or None."""
        name, routes = "", []
        for er in self.event.routes.values():
            for cp in er.route.checkpoints:
                if cp.id == checkpoint_id:
                    name = name or cp.name
                    routes.append(er.id)
        return (name, routes) if routes else None

    # --- jobs (inside a tick) -------------------------------------------------------------
    def open_station(self, tick: Tick, checkpoint_id: str, now: datetime) -> Station:
        station_id = "s" + secrets.token_hex(5)
        while station_id in self.stations:
            station_id = "s" + secrets.token_hex(5)
        station = Station(station_id, secrets.token_urlsafe(24), checkpoint_id, now)
        self._add(station)
        tick.batch.stations.append(station)
        return station

    def close_station(self, tick: Tick, station_id: str, now: datetime) -> Station | None:
        station = self.stations.get(station_id)
        if station is None or not station.open:
            return station
        closed = replace(station, closed_at=now)
        self._add(closed)
        tick.batch.stations.append(closed)
        return closed

    def check_in(
        self, tick: Tick, station: Station, code: str, client_id: str, at: datetime
    ) -> StationAnswer:
        """One check-in by bib; the same client id always gets the first answer."""
        key = (station.id, client_id)
        if key in self.answers:
            return self.answers[key]
        walker_id, status, body = self._decide(tick, station, bib_from(code), at)
        answer = StationAnswer(station.id, client_id, walker_id, status, body, at)
        self.answers[key] = answer
        tick.batch.station_answers.append(answer)
        return answer

    def _decide(
        self, tick: Tick, station: Station, bib: str, at: datetime
    ) -> tuple[str | None, int, dict[str, Any]]:
        """Unknown bib (404), the point not on the walker's route (409), already (200), done."""
        state = self.registry.by_bib(bib) if bib else None
        if state is None:
            return None, 404, {"result": "unknown", "bib": bib, "detail": _unknown(bib)}
        who = f"{state.record.name} (bib {bib})"
        body = {"name": state.record.name, "bib": bib, "route_id": state.record.route_id}
        route = state.route
        points = route.checkpoints if route is not None else ()
        cp = next((c for c in points if c.id == station.checkpoint_id), None)
        if cp is None:
            detail = (
                f"{who} walks the {state.record.route_id} route: this point is not on it."
                " Do not check them in here; show them the way."
            )
            return state.id, 409, {"result": "wrong_route", **body, "detail": detail}
        body["checkpoint_id"] = cp.id
        earlier = state.checkins.get(cp.id)
        if earlier is not None:
            detail = f"{who} was already checked in here"
            return (
                state.id,
                200,
                {"result": "already", **body, "at": earlier.at.isoformat(), "detail": detail},
            )
        done = frozenset(state.checkins)
        late = any(c.id in done and c.distance_along_m > cp.distance_along_m for c in points)
        record_checkin(tick, state, CheckIn(cp.id, at, "station", late))
        detail = f"{who} checked in at {cp.name}"
        return (
            state.id,
            201,
            {"result": "checked_in", **body, "at": at.isoformat(), "detail": detail},
        )


def _unknown(bib: str) -> str:
    if not bib:
        return "Type a bib number or scan the walker's QR code."
    return f"No walker has bib {bib}. Check the number on the bib, or search the name."


def station_view(station: Station, stations: Stations, base_url: str) -> dict[str, Any]:
    found = stations.checkpoint(station.checkpoint_id)
    name, routes = found if found else ("", [])
    return {
        "id": station.id,
        "token": station.token,
        "url": f"{base_url}/s/{station.token}",
        "checkpoint_id": station.checkpoint_id,
        "checkpoint_name": name,
        "route_ids": routes,
        "opened_at": station.opened_at.isoformat(),
        "closed_at": station.closed_at.isoformat() if station.closed_at else None,
        "open": station.open,
        "checkins": sum(
            1 for (sid, _), a in stations.answers.items() if sid == station.id and a.status == 201
        ),
    }
