"""Simulated phones that talk to the server the way the real apps do: the demo and a load generator.

Each phone belongs to one simulated walker (`tracking.simulation`: true position along the
route, rests at the rest stops, correlated GPS noise) and speaks one protocol exactly as its
app sends it:

- `web`: the walker page, batches to /api/fixes with phone-made ids (Bearer token);
  its SOS button posts to /api/sos.
- `traccar`: Traccar Client 8 (Android): POST <server URL>?id=…&timestamp=…&lat=… with an empty
  body, speed in knots, `alarm=sos` for the SOS button.
- `traccar-json`: Traccar Client 9 (Android, iOS): POST of its JSON location to the same URL.
- `osmand`: OsmAnd's online tracking: GET with its URL template, time in milliseconds.
- `owntracks`: OwnTracks in HTTP mode: POST of a `_type: location` message, Basic auth.

Time: fixes carry the wall clock. With `speed_up` X the walkers move X times faster than they
would (simulated time runs X times faster than the wall clock), so a server receiving them
needs its speed limit raised X times (`max_speed_kmh`), or fast walkers are flagged.

The request builders are pure (they return `httpx.Request` objects); `Phone` holds a phone's
state; `run_phones` drives them all on one event loop, one request in flight per phone so each
walker's fixes arrive in order.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np

from routes.prepared import PreparedRoute
from tracking.simulation import Noise, WalkerPlan, true_along, true_xy

PROTOCOLS = ("web", "traccar", "traccar-json", "osmand", "owntracks")
DEFAULT_MIX = {"web": 0.5, "traccar": 0.3, "owntracks": 0.2}
MPS_TO_KNOTS = 3600.0 / 1852.0
WEB_BATCH_MAX = 200


# --- one reading of a phone, and the requests that carry it ---------------------------------
@dataclass(frozen=True)
class Reading:
    """What a phone's location service reports once."""

    at: datetime  # aware UTC (the wall clock)
    lat: float
    lon: float
    accuracy_m: float
    altitude_m: float
    speed_mps: float
    heading_deg: float
    battery_pct: float
    seq: int
    sos: bool = False


def web_fix(phone_id: str, r: Reading) -> dict:
    """One fix as the walker page queues it (see walker.js `makeFix`)."""
    return {
        "id": f"{phone_id}-{r.seq}",
        "recorded_at": r.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "lat": round(r.lat, 6),
        "lon": round(r.lon, 6),
        "accuracy_m": round(r.accuracy_m, 1),
        "altitude_m": round(r.altitude_m, 1),
        "speed_mps": round(r.speed_mps, 2),
        "heading_deg": round(r.heading_deg),
        "battery_pct": round(r.battery_pct),
    }


def web_request(
    base_url: str, token: str, phone_id: str, readings: Sequence[Reading]
) -> httpx.Request:
    """The walker page's batch: POST /api/fixes {fixes: [...]}, oldest first."""
    body = {"fixes": [web_fix(phone_id, r) for r in readings]}
    return httpx.Request(
        "POST",
        f"{base_url}/api/fixes",
        content=json.dumps(body, separators=(",", ":")),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def sos_request(base_url: str, token: str, r: Reading | None) -> httpx.Request:
    """The walker page's SOS button, after the walker confirmed."""
    body: dict = {"message": "SOS from the walker page"}
    if r is not None:
        body.update(lat=round(r.lat, 6), lon=round(r.lon, 6), accuracy_m=round(r.accuracy_m, 1))
    return httpx.Request(
        "POST",
        f"{base_url}/api/sos",
        content=json.dumps(body, separators=(",", ":")),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _java(x: float) -> str:
    """A double as Java's `toString` writes it (what Traccar Client 8 puts in the URL)."""
    return repr(float(x))


def traccar_request(base_url: str, token: str, r: Reading) -> httpx.Request:
    """Traccar Client 8: the OsmAnd protocol in the query string of a POST with no body."""
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("id", token),
        ("timestamp", str(int(r.at.timestamp()))),
        ("lat", _java(r.lat)),
        ("lon", _java(r.lon)),
        ("speed", _java(r.speed_mps * MPS_TO_KNOTS)),
        ("bearing", _java(r.heading_deg)),
        ("altitude", _java(r.altitude_m)),
        ("accuracy", _java(r.accuracy_m)),
        ("batt", _java(r.battery_pct)),
    ]
    if r.sos:
        params.append(("alarm", "sos"))
    return httpx.Request("POST", f"{base_url}/ingest/osmand", params=params, content=b"")


def traccar_json_request(base_url: str, token: str, r: Reading) -> httpx.Request:
    """Traccar Client 9: its location template as JSON, the device id beside it."""
    stamp = r.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    location = {
        "timestamp": stamp,
        "coords": {
            "latitude": r.lat,
            "longitude": r.lon,
            "accuracy": r.accuracy_m,
            "speed": r.speed_mps,
            "heading": r.heading_deg,
            "altitude": r.altitude_m,
        },
        "is_moving": r.speed_mps > 0,
        "odometer": 0,
        "event": "sos" if r.sos else "",
        "battery": {"level": round(r.battery_pct / 100, 2), "is_charging": False},
        "activity": {"type": "walking" if r.speed_mps > 0 else "still"},
        "extras": {},
        "_": f"&id={token}&lat={r.lat}&lon={r.lon}&timestamp={stamp}&",
    }
    return httpx.Request(
        "POST",
        f"{base_url}/ingest/osmand",
        content=json.dumps({"location": location, "device_id": token}, separators=(",", ":")),
        headers={"Content-Type": "application/json"},
    )


def osmand_request(base_url: str, token: str, r: Reading) -> httpx.Request:
    """OsmAnd's online tracking: `?id=…&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}`."""
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("id", token),
        ("lat", f"{r.lat:.6f}"),
        ("lon", f"{r.lon:.6f}"),
        ("timestamp", str(int(r.at.timestamp() * 1000))),
        ("hdop", f"{r.accuracy_m:.1f}"),
        ("altitude", f"{r.altitude_m:.1f}"),
        ("speed", f"{r.speed_mps:.2f}"),
    ]
    return httpx.Request("GET", f"{base_url}/ingest/osmand", params=params)


def owntracks_request(base_url: str, token: str, user: str, tid: str, r: Reading) -> httpx.Request:
    """OwnTracks (HTTP mode): one location message; the walker token is the password."""
    tst = int(r.at.timestamp())
    body = {
        "_type": "location",
        "tid": tid,
        "tst": tst,
        "created_at": tst,
        "lat": round(r.lat, 7),
        "lon": round(r.lon, 7),
        "acc": round(r.accuracy_m),
        "alt": round(r.altitude_m),
        "vac": 3,
        "vel": round(r.speed_mps * 3.6),
        "cog": round(r.heading_deg),
        "batt": round(r.battery_pct),
        "bs": 1,
        "conn": "m",
        "m": 2,
        "t": "u",
    }
    auth = base64.b64encode(f"{user}:{token}".encode()).decode()
    return httpx.Request(
        "POST",
        f"{base_url}/ingest/owntracks",
        content=json.dumps(body, separators=(",", ":")),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Basic {auth}",
            "X-Limit-U": user,
            "X-Limit-D": "phone",
        },
    )


# --- a simulated phone ---------------------------------------------------------------------
@dataclass(frozen=True)
class SimClock:
    """Simulated time runs `speed_up` times faster than the wall clock from `wall_start`."""

    wall_start: datetime
    speed_up: float = 1.0

    def sim(self, wall: datetime) -> datetime:
        return self.wall_start + (wall - self.wall_start) * self.speed_up


@dataclass
class Phone:
    walker_id: str
    token: str
    protocol: str
    route: PreparedRoute
    plan: WalkerPlan
    noise: Noise
    drain_pct_per_h: float = 8.0
    phone_id: str = ""
    seq: int = 0
    pending: list[Reading] = field(default_factory=list)
    done: bool = False  # finished, or gone silent
    sos_due: bool = False
    sos_sent: bool = False
    last_sim: datetime | None = None
    last_xy: tuple[float, float] | None = None
    last_along: float = 0.0
    last: Reading | None = None
    sent_batches: int = 0

    def read(self, sim_at: datetime, wall_at: datetime) -> Reading | None:
        """The location service's next reading, or None once the phone stops sending."""
        if self.done:
            return None
        elapsed = max(0.0, (sim_at - self.plan.start_at).total_seconds())
        along = true_along(self.route, self.plan, elapsed)
        if self.plan.silent_after_m is not None and along >= self.plan.silent_after_m:
            self.done = True
            return None
        x, y = true_xy(self.route, self.plan, along, elapsed)
        dt = (sim_at - self.last_sim).total_seconds() if self.last_sim else 10.0
        nx, ny = self.noise.step(max(dt, 1.0))
        lon, lat = self.route.projection.to_lonlat(np.array([x + nx]), np.array([y + ny]))
        heading, speed = self._motion(x, y, along, dt)
        self.last_sim, self.last_xy, self.last_along = sim_at, (x, y), along
        self.seq += 1
        sos = self.plan.sos_at_m is not None and along >= self.plan.sos_at_m and not self.sos_sent
        self.sos_due = self.sos_due or sos
        self.sos_sent = self.sos_sent or sos
        self.done = along >= self.route.length_m
        self.last = Reading(
            at=wall_at,
            lat=float(lat[0]),
            lon=float(lon[0]),
            accuracy_m=round(
                max(3.0, self.noise.sigma_m * float(self.noise.rng.uniform(0.8, 1.6))), 1
            ),
            altitude_m=12.0,
            speed_mps=speed,
            heading_deg=heading,
            battery_pct=max(1.0, 100.0 - self.drain_pct_per_h * elapsed / 3600.0),
            seq=self.seq,
            sos=sos,
        )
        return self.last

    def _motion(self, x: float, y: float, along: float, dt: float) -> tuple[float, float]:
        """(heading in degrees, walking speed in m/s) since the last reading (simulated time)."""
        if self.last_xy is None or dt <= 0:
            return 0.0, 0.0
        dx, dy = x - self.last_xy[0], y - self.last_xy[1]
        if math.hypot(dx, dy) < 1.0:
            return 0.0, 0.0
        return math.degrees(math.atan2(dx, dy)) % 360.0, min((along - self.last_along) / dt, 2.5)

    def requests(self, base_url: str, batch_every: int) -> list[tuple[httpx.Request, int]]:
        """What to send now, as (request, readings it carries), oldest first."""
        if not self.pending:
            return []
        if self.protocol == "web":
            waiting = self.sent_batches and len(self.pending) < batch_every
            if waiting and not self.sos_due and not self.done:
                return []
            batch = self.pending[:WEB_BATCH_MAX]
            return [(web_request(base_url, self.token, self.phone_id, batch), len(batch))]
        return [(self._single(base_url, r), 1) for r in self.pending]

    def _single(self, base_url: str, r: Reading) -> httpx.Request:
        if self.protocol == "traccar":
            return traccar_request(base_url, self.token, r)
        if self.protocol == "traccar-json":
            return traccar_json_request(base_url, self.token, r)
        if self.protocol == "osmand":
            return osmand_request(base_url, self.token, r)
        tid = self.walker_id[-2:].upper()
        return owntracks_request(base_url, self.token, f"walker-{self.walker_id}", tid, r)


# --- statistics ----------------------------------------------------------------------------
@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    fixes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)

    def summary(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        lat = sorted(self.latencies_s[-20000:])
        p50 = statistics.median(lat) * 1000 if lat else 0.0
        p95 = lat[int(0.95 * (len(lat) - 1))] * 1000 if lat else 0.0
        errors = sum(self.errors.values())
        detail = (
            f" ({', '.join(f'{k}: {v}' for k, v in self.errors.most_common(3))})" if errors else ""
        )
        return (
            f"{self.fixes} positions in {self.requests} requests ({self.requests / seconds:.1f}/s), "
            f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, errors {errors}{detail}"
        )


# --- driving the phones --------------------------------------------------------------------
async def deliver(
    client: httpx.AsyncClient, phone: Phone, base_url: str, stats: Stats, batch_every: int
) -> None:
    """Send what the phone holds, oldest first; keep what did not get through for next time."""
    for request, count in phone.requests(base_url, batch_every):
        status = await _send(client, request, stats)
        if status is None or status >= 500:
            return  # no answer: the phone keeps it and tries again later, as the apps do
        del phone.pending[:count]
        phone.sent_batches += 1
        if status >= 400:
            stats.errors[f"HTTP {status}"] += 1
        else:
            stats.fixes += count
    if phone.sos_due and phone.protocol == "web":
        if await _send(client, sos_request(base_url, phone.token, phone.last), stats) is not None:
            phone.sos_due = False
    elif phone.protocol != "web":
        phone.sos_due = False


async def _send(client: httpx.AsyncClient, request: httpx.Request, stats: Stats) -> int | None:
    t0 = time.monotonic()
    try:
        response = await client.send(request)
    except httpx.HTTPError as exc:
        stats.errors[type(exc).__name__] += 1
        return None
    stats.requests += 1
    stats.latencies_s.append(time.monotonic() - t0)
    return response.status_code


async def run_phone(
    client: httpx.AsyncClient,
    phone: Phone,
    base_url: str,
    clock: SimClock,
    stop: asyncio.Event,
    interval_s: float,
    stats: Stats,
    batch_every: int,
    first_delay_s: float,
) -> None:
    """One phone: a reading every `interval_s` (wall clock), sent as its app would."""
    if await _wait(stop, first_delay_s):
        return
    while True:
        wall = datetime.now(UTC)
        reading = phone.read(clock.sim(wall), wall)
        if reading is not None:
            phone.pending.append(reading)
        await deliver(client, phone, base_url, stats, batch_every)
        if phone.done and not phone.pending:
            return
        if await _wait(stop, interval_s):
            return


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


async def run_phones(
    client: httpx.AsyncClient,
    phones: Sequence[Phone],
    base_url: str,
    clock: SimClock,
    stop: asyncio.Event,
    interval_s: float,
    stats: Stats,
    batch_every: int = 3,
    seed: int = 0,
) -> None:
    """All phones at once, their readings spread evenly over each interval."""
    rng = random.Random(seed)
    await asyncio.gather(
        *(
            run_phone(
                client,
                p,
                base_url,
                clock,
                stop,
                interval_s,
                stats,
                batch_every,
                rng.uniform(0, interval_s),
            )
            for p in phones
        )
    )


# --- who walks -----------------------------------------------------------------------------
FIRST_NAMES = (
    "Amira",
    "Jonas",
    "Fatima",
    "Lotte",
    "Yonas",
    "Sara",
    "Arne",
    "Mariam",
    "Wout",
    "Hana",
    "Elif",
    "Pieter",
    "Noor",
    "Samir",
    "Ines",
    "Tesfay",
    "Lien",
    "Omar",
    "Zainab",
    "Bram",
    "Aster",
    "Milan",
    "Leila",
    "Jef",
    "Nadia",
    "Ruben",
    "Semhar",
    "Femke",
    "Ahmad",
    "Louise",
)
LAST_INITIALS = "ABCDEFGHIJKLMNOPRSTVWYZ"
TEAMS = (
    "",
    "",
    "",
    "Scouts Lier",
    "Vluchtelingenwerk",
    "KSA Berchem",
    "Team Mortsel",
    "De Stappers",
)


@dataclass(frozen=True)
class WalkerSpec:
    """A walker to register and simulate (before the server has given them an id)."""

    name: str
    route_id: str
    bib: str
    team: str
    protocol: str
    plan: WalkerPlan
    role: str = ""  # "", "off_route", "sos", "silent"


def walker_specs(
    n: int,
    routes: dict[str, PreparedRoute],
    now: datetime,
    seed: int = 0,
    head_start_h: float = 0.0,
    mix: dict[str, float] | None = None,
    scenario: bool = True,
    bib_prefix: str = "",
) -> list[WalkerSpec]:
    """n walkers with varied paces (3.5–6.5 km/h), rests of 5–20 minutes at the rest stops.

    Most are spread along the first `head_start_h` hours of their route. With `scenario`, a few
    starting now leave the route for a while, one raises an SOS and one phone goes silent.
    """
    rng = np.random.default_rng(seed)
    mix = mix or DEFAULT_MIX
    protocols = list(mix)
    weights = np.array([mix[p] for p in protocols], dtype=float)
    route_ids = list(routes)
    specs = []
    for i in range(n):
        route_id = route_ids[0] if len(route_ids) == 1 or rng.uniform() < 0.4 else route_ids[1]
        pace = float(np.clip(rng.normal(4.8, 0.6), 3.5, 6.5)) / 3.6
        start = (
            now
            - timedelta(hours=float(rng.uniform(0, head_start_h)))
            + timedelta(seconds=float(rng.uniform(0, 120)))
        )
        plan = WalkerPlan(pace, start, rest_s=float(rng.uniform(300, 1200)))
        protocol = str(rng.choice(protocols, p=weights / weights.sum()))
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_INITIALS[(i * 7) % len(LAST_INITIALS)]}."
        team = TEAMS[int(rng.integers(len(TEAMS)))]
        specs.append(WalkerSpec(name, route_id, f"{bib_prefix}{i + 1}", team, protocol, plan))
    return _with_scenario(specs, now, rng) if scenario and n >= 6 else specs


def _with_scenario(
    specs: list[WalkerSpec], now: datetime, rng: np.random.Generator
) -> list[WalkerSpec]:
    """The last few walkers start now: three wander off the route, one SOS, one goes silent."""
    out = list(specs)
    k = len(out)
    roles = [
        ("off_route", {"detour_at_m": 900.0, "detour_s": 1200.0, "detour_offset_m": 320.0}),
        ("off_route", {"detour_at_m": 1600.0, "detour_s": 900.0, "detour_offset_m": 260.0}),
        ("off_route", {"detour_at_m": 2300.0, "detour_s": 1500.0, "detour_offset_m": 400.0}),
        ("sos", {"sos_at_m": 1200.0}),
        ("silent", {"silent_after_m": 1500.0}),
    ]
    for j, (role, changes) in enumerate(roles):
        spec = out[k - 1 - j]
        protocol = "web" if role == "sos" else spec.protocol
        plan = replace(
            spec.plan, start_at=now + timedelta(seconds=float(rng.uniform(0, 60))), **changes
        )
        out[k - 1 - j] = replace(spec, protocol=protocol, plan=plan, role=role)
    return out


def registration_csv(specs: Sequence[WalkerSpec]) -> str:
    """The organisers' registration list (name, route, bib, team) for /api/walkers/import."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "route", "bib", "team"])
    for s in specs:
        writer.writerow([s.name, s.route_id, s.bib, s.team])
    return buffer.getvalue()


async def register(
    client: httpx.AsyncClient, base_url: str, organiser_token: str, specs: Sequence[WalkerSpec]
) -> list[dict]:
    """Register every walker in one CSV import; the rows, in order, with id, token and url."""
    response = await client.post(
        f"{base_url}/api/walkers/import",
        content=registration_csv(specs).encode(),
        headers={"Authorization": f"Bearer {organiser_token}", "Content-Type": "text/csv"},
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"registering walkers failed: HTTP {response.status_code} {response.text[:200]}"
        )
    rows = response.json()["rows"]
    skipped = [r for r in rows if r.get("result") != "created"]
    if skipped:
        raise RuntimeError(
            f"{len(skipped)} walkers were not registered: {skipped[0].get('reason')}"
        )
    return list(rows)


def make_phones(
    specs: Sequence[WalkerSpec],
    rows: Sequence[dict],
    routes: dict[str, PreparedRoute],
    seed: int = 0,
) -> list[Phone]:
    """One phone per registered walker, with its own noise and battery drain."""
    rng = np.random.default_rng(seed + 1)
    phones = []
    for i, (spec, row) in enumerate(zip(specs, rows, strict=True)):
        noise = Noise(
            sigma_m=float(rng.uniform(4.0, 12.0)),
            tau_s=60.0,
            rng=np.random.default_rng(seed * 100_003 + i),
        )
        phones.append(
            Phone(
                walker_id=row["id"],
                token=row["token"],
                protocol=spec.protocol,
                route=routes[spec.route_id],
                plan=spec.plan,
                noise=noise,
                drain_pct_per_h=float(rng.uniform(5.0, 11.0)),
                phone_id=f"sim{i:05d}",
            )
        )
    return phones
