"""Ingestion: fixes per second end to end (stored and matched), against a no-op endpoint.

The server is the real app (`create_app`) in its own process under uvicorn, with one route
added for the benchmark only: `/ingest/bench-noop`, which reads the request body and answers 200.
The load generator is a small asyncio HTTP/1.1 client (keep-alive connections, requests
encoded once up front) so that the client costs far less than the server; the server's CPU
time comes from /proc/<pid>/stat and its memory from /proc/<pid>/status.

Phases:
1. throughput: 2,148 registered walkers, each connection sending its walkers' fixes in time
   order as fast as answers come: the no-op endpoint with the same requests, /api/fixes
   (one fix per request, as the page sends when online), /ingest/osmand (OsmAnd's GET);
2. sustained: every one of 2,148 walkers sends a fix every 5 s (page, Traccar Client and
   OwnTracks), for 30 s (10 s with --quick): server CPU, latency, whether it keeps up;
3. memory: a fresh server with 10,000 registered walkers, each with 3 fixes: RSS.

Run: python -m benchmarks.bench_ingest [--quick]
Serve only (used by the benchmark): python -m benchmarks.bench_ingest --serve PORT DB
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import numpy as np
from fastapi import Request
from fastapi.responses import Response

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute

TOKEN = "bench-organiser-token-0123456789"
WALKERS = 2148
RSS_WALKERS = 10_000
INTERVAL_S = 5.0
CONNECTIONS = 16
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the server under test -------------------------------------------------------------------


def event_today(folder: Path) -> Path:
    """The bundled Antwerp event moved to today, its starts 5 minutes ago.

    With the real 2023 date every closing time has long passed and every walker would be
    alerted at the first sweep; today the benchmark sees what the event day sees.
    """
    bundled = event_path("antwerp-2023")
    raw = tomllib.loads(bundled.read_text(encoding="utf-8"))
    tz = ZoneInfo(raw["timezone"])
    local = datetime.now(tz) - timedelta(minutes=5)
    lines = [
        'name = "Benchmark"',
        f"date = {local.date().isoformat()}",
        f'timezone = "{raw["timezone"]}"',
        "checkin_radius_m = 75",
        "slowest_pace_kmh = 3.0",
    ]
    for r in raw["routes"]:
        gpx = (bundled.parent / r["gpx"]).resolve()
        lines += [
            "[[routes]]",
            f'id = "{r["id"]}"',
            f'name = "{r["name"]}"',
            f'gpx = "{gpx}"',
            f'starts = ["{local:%H:%M}"]',
        ]
    path = folder / "event.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serve(port: int, db: Path) -> None:
    """The production app plus a no-op route, under uvicorn as `refugee-walk serve` runs it."""
    import uvicorn

    from tracking.app import create_app
    from tracking.settings import Settings

    settings = Settings(
        host="127.0.0.1",
        port=port,
        db_path=db,
        organiser_token=TOKEN,
        event=str(event_today(db.parent)),
    )
    app = create_app(settings)

    @app.api_route("/ingest/bench-noop", methods=["GET", "POST"])
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@dataclass
class ServerProcess:
    db: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = self.db.with_suffix(".log")
        with open(log, "ab") as out:  # a file, not a pipe: a full pipe would stall the server
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_ingest",
                    "--serve",
                    str(self.port),
                    str(self.db),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(log.read_text()[-2000:])
            try:
                if httpx.get(f"{self.url}/api/routes", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.proc.kill()  # never leave a server behind
        self.proc.wait()
        raise RuntimeError(f"the benchmark server did not start within {timeout_s:.0f} s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MB."""
        assert self.proc is not None
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


# --- walkers and their fixes -------------------------------------------------------------------


@dataclass
class Walker:
    id: str
    token: str
    route_id: str
    fixes: list[tuple[float, float, float, float]] = field(default_factory=list)
    # (epoch s, lat, lon, accuracy m), one every INTERVAL_S, in time order


def registration_csv(n: int, first_bib: int = 1) -> str:
    rows = ["name,route,bib,team"]
    for k in range(n):
        route = "40km" if k % 5 < 3 else "20km"
        rows.append(f"Walker {first_bib + k},{route},{first_bib + k},Team {k % 40}")
    return "\n".join(rows) + "\n"


def register(url: str, n: int, first_bib: int = 1) -> tuple[list[Walker], float]:
    """Import n walkers with one CSV upload; (walkers, seconds the import took)."""
    t0 = time.perf_counter()
    r = httpx.post(
        f"{url}/api/walkers/import",
        content=registration_csv(n, first_bib).encode(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    r.raise_for_status()
    rows = [row for row in r.json()["rows"] if row["result"] == "created"]
    assert len(rows) == n, r.json()["skipped"]
    return [Walker(row["id"], row["token"], row["route_id"]) for row in rows], seconds


def give_fixes(
    walkers: Sequence[Walker],
    routes: dict[str, PreparedRoute],
    count: int,
    start: datetime,
    seed: int = 0,
) -> None:
    """`count` fixes per walker from `start`, somewhere along the route, sigma 10 m noise."""
    rng = np.random.default_rng(seed)
    for w in walkers:
        route = routes[w.route_id]
        pace = rng.uniform(3.5, 6.5) / 3.6
        along = rng.uniform(0, 0.9 * route.length_m) + pace * INTERVAL_S * np.arange(count)
        along = np.minimum(along, route.length_m)
        xs = np.interp(along, route.cum_m, route.xs) + np.cumsum(rng.normal(0, 3, count))
        ys = np.interp(along, route.cum_m, route.ys) + np.cumsum(rng.normal(0, 3, count))
        lons, lats = route.projection.to_lonlat(xs, ys)
        t0 = start.timestamp() + rng.uniform(0, INTERVAL_S)
        w.fixes = [
            (
                t0 + k * INTERVAL_S,
                float(lats[k]),
                float(lons[k]),
                round(float(rng.uniform(5, 20)), 1),
            )
            for k in range(count)
        ]


# --- requests, encoded once -----------------------------------------------------------------


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def page_request(w: Walker, k: int, path: str = "/api/fixes") -> bytes:
    at, lat, lon, acc = w.fixes[k]
    body = json.dumps(
        {
            "fixes": [
                {
                    "id": f"{w.id}-{k}",
                    "recorded_at": _iso(at),
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "accuracy_m": acc,
                    "speed_mps": 1.3,
                    "heading_deg": 90,
                    "battery_pct": 80,
                }
            ]
        }
    ).encode()
    return _post(
        path, body, {"Authorization": f"Bearer {w.token}", "Content-Type": "application/json"}
    )


def osmand_request(w: Walker, k: int, path: str = "/ingest/osmand") -> bytes:
    at, lat, lon, acc = w.fixes[k]
    query = urlencode(
        {
            "id": w.token,
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "timestamp": int(at * 1000),
            "hdop": round(acc / 5, 1),
            "altitude": "11.0",
            "speed": "1.3",
        }
    )
    return f"GET {path}?{query} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def traccar_request(w: Walker, k: int) -> bytes:
    at, lat, lon, acc = w.fixes[k]
    query = urlencode(
        {
            "id": w.token,
            "timestamp": int(at),
            "lat": lat,
            "lon": lon,
            "speed": "2.5",
            "bearing": "90.0",
            "altitude": "12.0",
            "accuracy": acc,
            "batt": "80.0",
        }
    )
    return _post(f"/ingest/osmand?{query}", b"", {})


def owntracks_request(w: Walker, k: int) -> bytes:
    at, lat, lon, acc = w.fixes[k]
    body = json.dumps(
        {
            "_type": "location",
            "lat": lat,
            "lon": lon,
            "tst": int(at),
            "acc": round(acc),
            "alt": 12,
            "batt": 80,
            "vel": 5,
            "cog": 90,
            "tid": "BW",
            "t": "u",
            "conn": "m",
        }
    ).encode()
    auth = base64.b64encode(f"bench:{w.token}".encode()).decode()
    return _post(
        "/ingest/owntracks",
        body,
        {"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )


# --- the load generator -----------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; `send` writes a request and reads the answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def send(self, request: bytes) -> int:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Run:
    name: str
    requests: int
    fixes: int
    seconds: float
    server_cpu_s: float
    client_cpu_s: float
    statuses: dict[int, int]
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.fixes / self.seconds

    @property
    def cpu_pct(self) -> float:
        return 100 * self.server_cpu_s / self.seconds

    @property
    def cpu_ms_per_fix(self) -> float:
        return 1000 * self.server_cpu_s / self.fixes


def _count(statuses: dict[int, int], status: int) -> None:
    statuses[status] = statuses.get(status, 0) + 1


async def _blast(port: int, queues: list[list[bytes]]) -> dict[int, int]:
    statuses: dict[int, int] = {}

    async def one(queue: list[bytes]) -> None:
        conn = await Connection(port).open()
        try:
            for request in queue:
                _count(statuses, await conn.send(request))
        finally:
            conn.close()

    await asyncio.gather(*(one(q) for q in queues))
    return statuses


def throughput(srv: ServerProcess, name: str, walkers: Sequence[Walker], ks: range, build) -> Run:
    """Each connection sends its walkers' fixes `ks` in time order, as fast as answered.

    A connection takes every CONNECTIONS-th walker and goes round them: fix k of each, then
    fix k+1 of each, so one walker's fixes always arrive in time order.
    """
    queues = [
        [build(w, k) for k in ks for w in walkers[c::CONNECTIONS]] for c in range(CONNECTIONS)
    ]
    cpu0, client0, t0 = srv.cpu_s(), time.process_time(), time.perf_counter()
    statuses = asyncio.run(_blast(srv.port, queues))
    seconds = time.perf_counter() - t0
    n = sum(len(q) for q in queues)
    return Run(name, n, n, seconds, srv.cpu_s() - cpu0, time.process_time() - client0, statuses)


async def _sustained(
    port: int, walkers: Sequence[Walker], rounds: int, first_k: int, builders: Sequence
) -> tuple[dict[int, int], list[float], float]:
    """(answers, latency from due time to answer in ms, seconds from first due to last answer)."""
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.5

    async def one(c: int) -> None:
        conn = await Connection(port).open()
        mine = list(enumerate(walkers))[c::CONNECTIONS]
        try:
            for r in range(rounds):
                for i, w in mine:
                    due = t0 + r * INTERVAL_S + INTERVAL_S * i / len(walkers)
                    if due > loop.time():
                        await asyncio.sleep(due - loop.time())
                    _count(statuses, await conn.send(builders[i % len(builders)](w, first_k + r)))
                    latencies.append(1000 * (loop.time() - due))
        finally:
            conn.close()

    await asyncio.gather(*(one(c) for c in range(CONNECTIONS)))
    return statuses, latencies, loop.time() - t0


def sustained(srv: ServerProcess, walkers: Sequence[Walker], seconds: float, first_k: int) -> Run:
    rounds = int(seconds / INTERVAL_S)
    # half the walker page, 3 in 10 Traccar Client, 2 in 10 OwnTracks
    mix = [page_request] * 5 + [traccar_request] * 3 + [owntracks_request] * 2
    cpu0, client0 = srv.cpu_s(), time.process_time()
    statuses, latencies, wall = asyncio.run(_sustained(srv.port, walkers, rounds, first_k, mix))
    n = rounds * len(walkers)
    return Run(
        f"{len(walkers):,} walkers, a fix every {INTERVAL_S:.0f} s",
        n,
        n,
        wall,
        srv.cpu_s() - cpu0,
        time.process_time() - client0,
        statuses,
        latencies,
    )


def stored_history(db: Path, walkers: Sequence[Walker], routes: dict[str, PreparedRoute]) -> None:
    """Write walkers, their fixes and their saved state straight into a database, as a day of
    ingestion leaves it (a few hundred thousand rows per transaction)."""
    from tracking.fixes import Fix
    from tracking.storage.base import StoredFix, WalkerRecord, WriteBatch
    from tracking.storage.sqlite import SqliteStorage
    from tracking.walker_state import WalkerState, saved

    store = SqliteStorage(db)
    try:
        batch = WriteBatch(received_at=time.time())
        for w in walkers:
            record = WalkerRecord(w.id, w.token, w.id, w.route_id)
            batch.walkers_added.append(record)
            state = WalkerState(record, routes[w.route_id])
            for k, (at, lat, lon, acc) in enumerate(w.fixes):
                fix = Fix(
                    datetime.fromtimestamp(at, UTC),
                    lat,
                    lon,
                    "web",
                    accuracy_m=acc,
                    client_id=f"{w.id}-{k}",
                )
                batch.fixes.append((w.id, StoredFix(fix, (), 1000.0 + 6.5 * k, 5.0)))
                state.progress.last_fix = state.progress.last_good_fix = fix
            state.progress.distance_along_m = 1000.0 + 6.5 * len(w.fixes)
            batch.states[w.id] = saved(state)
            if len(batch.fixes) > 200_000:
                store.write(batch)
                batch = WriteBatch(received_at=time.time())
        store.write(batch)
    finally:
        store.close()


def restart_seconds(
    folder: Path, routes: dict[str, PreparedRoute], n_walkers: int, n_fixes: int
) -> tuple[float, float]:
    """(seconds to start on an empty database, on one holding n_walkers x n_fixes)."""
    times = []
    for name, n in (("empty", 0), ("full", n_walkers)):
        walkers = [Walker(f"w{k}", f"token-{k}", "40km" if k % 5 < 3 else "20km") for k in range(n)]
        give_fixes(walkers, routes, n_fixes, datetime.now(UTC) - timedelta(hours=8), seed=2)
        db = folder / f"restart-{name}.sqlite3"
        stored_history(db, walkers, routes)
        t0 = time.perf_counter()
        srv = ServerProcess(db)
        try:
            srv.start(timeout_s=900)
            times.append(time.perf_counter() - t0)
        finally:
            srv.stop()
        db.unlink()
    return times[0], times[1]


def late_fix_ms(routes: dict[str, PreparedRoute], history: int, late: int) -> tuple[float, float]:
    """Engine time per late fix (in process, real SQLite): (one per request, all in one).

    A walker with `history` stored fixes, then `late` older fixes arriving afterwards, as a
    phone's offline backlog does when the live position went first.
    """
    from tests.tracking.engine_support import engine_on, fixes
    from tracking.fixes import Fix

    event = load_event(event_path("antwerp-2023"))
    walker = Walker("late", "late-token", "40km")
    give_fixes([walker], routes, history + late, datetime.now(UTC) - timedelta(hours=30), seed=3)
    made = [
        Fix(datetime.fromtimestamp(at, UTC), lat, lon, "web", accuracy_m=acc, client_id=str(k))
        for k, (at, lat, lon, acc) in enumerate(walker.fixes)
    ]
    gap = made[history // 2 : history // 2 + late]
    live = made[: history // 2] + made[history // 2 + late :]

    async def measure(batched: bool) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            stored_history(Path(tmp) / "engine.sqlite3", [], routes)
            async with engine_on(Path(tmp), event, []) as engine:
                from tracking.storage.base import WalkerRecord

                (state,) = await engine.register(
                    [WalkerRecord("late", "late-token", "late", "40km")]
                )
                for k in range(0, len(live), 1000):
                    await engine.ingest(state, fixes(*live[k : k + 1000]))
                t0 = time.perf_counter()
                if batched:
                    await engine.ingest(state, fixes(*gap))
                else:
                    for fix in gap:
                        await engine.ingest(state, fixes(fix))
                return 1000 * (time.perf_counter() - t0) / late

    return asyncio.run(measure(False)), asyncio.run(measure(True))


# --- the report -----------------------------------------------------------------------------


def late_table(routes: dict[str, PreparedRoute]) -> str:
    lines = [
        "Late fixes (in process, real SQLite): a walker with N stored fixes receives 100 older ones",
        "",
        "| stored fixes | ms per late fix, one per request | ms per late fix, all in one request |",
        "|---:|---:|---:|",
    ]
    for history in (2_000, 20_000):
        one, batch = late_fix_ms(routes, history, 100)
        lines.append(f"| {history:,} | {one:.2f} | {batch:.2f} |")
    return "\n".join(lines)


def throughput_table(runs: list[Run], baselines: dict[str, Run]) -> str:
    lines = [
        f"Ingestion, {WALKERS:,} walkers, {CONNECTIONS} keep-alive connections, 1 fix a request",
        "",
        "| endpoint | fixes/s | vs no-op | server CPU | server CPU ms/fix | fixes/s per"
        " busy core | vs no-op (CPU) | answers |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        base = baselines.get(r.name)
        ratio = f"{r.rate / base.rate:.2f}x" if base else "baseline"
        cpu_ratio = f"{base.cpu_ms_per_fix / r.cpu_ms_per_fix:.2f}x" if base else "baseline"
        lines.append(
            f"| {r.name} | {r.rate:,.0f} | {ratio} | {r.cpu_pct:.0f} % | "
            f"{r.cpu_ms_per_fix:.2f} | {1000 / r.cpu_ms_per_fix:,.0f} | {cpu_ratio} | "
            f"{r.statuses} |"
        )
    return "\n".join(lines)


def sustained_table(run: Run) -> str:
    lat = sorted(run.latencies_ms)
    p50 = statistics.median(lat)
    p99 = lat[int(0.99 * (len(lat) - 1))]
    offered = WALKERS / INTERVAL_S
    return "\n".join(
        [
            "Sustained load (50 % walker page, 30 % Traccar Client, 20 % OwnTracks)",
            "",
            "| load | offered fixes/s | achieved fixes/s | server CPU | latency p50 | latency p99 |"
            " answers |",
            "|---|---:|---:|---:|---:|---:|---|",
            f"| {run.name} | {offered:,.0f} | {run.rate:,.0f} | {run.cpu_pct:.0f} % | "
            f"{p50:.1f} ms | {p99:.1f} ms | {run.statuses} |",
        ]
    )


def memory_table(rows: list[tuple[str, float, float]]) -> str:
    lines = ["Server memory", "", "| state | RSS MB | peak RSS MB |", "|---|---:|---:|"]
    lines += [f"| {name} | {rss:,.0f} | {hwm:,.0f} |" for name, rss, hwm in rows]
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    event = load_event(event_path("antwerp-2023"))
    routes = {rid: er.route for rid, er in event.routes.items()}
    per_phase = 4 if quick else 12
    sustain_s = 10.0 if quick else 30.0
    rounds = int(sustain_s / INTERVAL_S)
    # The last fix of the sustained phase is due about now + the phases' duration: fix times
    # stay in the past (never refused as future) and recent (no walker looks silent).
    start = datetime.now(UTC) - timedelta(seconds=INTERVAL_S * (2 * per_phase + rounds) + 60)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "bench.sqlite3").start()
        memory = [("started, no walkers", *srv.memory_mb())]
        try:
            walkers, import_s = register(srv.url, WALKERS)
            give_fixes(walkers, routes, 2 * per_phase + rounds, start)
            noop_json = throughput(
                srv,
                "no-op (POST, walker page body)",
                walkers,
                range(per_phase),
                lambda w, k: page_request(w, k, "/ingest/bench-noop"),
            )
            page = throughput(
                srv, "/api/fixes (walker page)", walkers, range(per_phase), page_request
            )
            noop_get = throughput(
                srv,
                "no-op (GET, OsmAnd query)",
                walkers,
                range(per_phase, 2 * per_phase),
                lambda w, k: osmand_request(w, k, "/ingest/bench-noop"),
            )
            osmand = throughput(
                srv,
                "/ingest/osmand (OsmAnd GET)",
                walkers,
                range(per_phase, 2 * per_phase),
                osmand_request,
            )
            steady = sustained(srv, walkers, sustain_s, 2 * per_phase)
            memory.append(
                (f"{WALKERS:,} walkers, {2 * per_phase + rounds} fixes each", *srv.memory_mb())
            )
        finally:
            srv.stop()
        out.append(
            throughput_table(
                [noop_json, page, noop_get, osmand], {page.name: noop_json, osmand.name: noop_get}
            )
        )
        out.append(sustained_table(steady))

        big = ServerProcess(Path(tmp) / "rss.sqlite3").start()
        try:
            many, big_import_s = register(big.url, RSS_WALKERS)
            give_fixes(many, routes, 3, start, seed=1)
            queues = [[] for _ in range(CONNECTIONS)]
            for i, w in enumerate(many):
                body = json.dumps(
                    {
                        "fixes": [
                            {
                                "id": f"{w.id}-{k}",
                                "recorded_at": _iso(at),
                                "lat": lat,
                                "lon": lon,
                                "accuracy_m": acc,
                            }
                            for k, (at, lat, lon, acc) in enumerate(w.fixes)
                        ]
                    }
                )
                queues[i % CONNECTIONS].append(
                    _post(
                        "/api/fixes",
                        body.encode(),
                        {"Authorization": f"Bearer {w.token}", "Content-Type": "application/json"},
                    )
                )
            statuses = asyncio.run(_blast(big.port, queues))
            assert statuses == {200: RSS_WALKERS}, statuses
            memory.append((f"{RSS_WALKERS:,} walkers, 3 fixes each", *big.memory_mb()))
        finally:
            big.stop()
        out.append(memory_table(memory))
        out.append(
            f"Registration by CSV import: {WALKERS:,} walkers in {import_s:.1f} s, "
            f"{RSS_WALKERS:,} walkers in {big_import_s:.1f} s."
        )
        out.append(late_table(routes))
        n_restart = 300 if quick else WALKERS
        empty_s, full_s = restart_seconds(Path(tmp), routes, n_restart, 2880)
        out.append(
            f"Restart to ready (the port answers): {empty_s:.1f} s on an empty database; "
            f"{full_s:.1f} s with {n_restart:,} walkers x 2,880 stored fixes "
            f"({n_restart * 2880:,} fixes: an event day at one fix every 15 s for 12 h). "
            "A restart loads each walker's saved state, never their fixes."
        )
    return "\n\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter phases")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return
    print(run(args.quick))


if __name__ == "__main__":
    main()
