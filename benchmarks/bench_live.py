"""The live feed under load: walkers posting fixes, 50 dashboards watching, one real server.

Two runs: 2,148 walkers sending a fix every 5 s (the 2023 event), and 20,000 walkers every
10 s. Each run starts `refugee-walk serve` on a fresh SQLite file, registers the walkers,
connects the dashboards (WebSocket clients with permessage-deflate, as browsers negotiate),
then posts fixes from load-generator processes for a warm-up and a measured window.

Measured, for fixes posted inside the window:
- fixes/s accepted by the server (offered: walkers / interval);
- latency from a fix's POST to its arrival on each dashboard, p50 / p99 over all dashboards.
  The send time travels in the fix: `recorded_at` is the send time, and its sub-second part
  is also put in `battery_pct` (50 + fraction), which the compact walker state carries
  unrounded, so a dashboard computes the latency from the update alone;
- dropped: fixes accepted but never seen by a dashboard (a superseded update counts too);
  snapshots after the first (a dashboard that fell behind and was resynchronised);
- server CPU (% of one core) and RSS, from /proc.

The event is the bundled 2023 one moved to today, starting now (closing times ahead), so no
closing-time alerts fire for everyone at once; that burst is covered by tests/tracking/test_hub.py.

Everything shares this machine's cores: the load generators and the 50 dashboards use CPU
the server would otherwise have. Their own CPU use is reported beside the server's.

Run: python -m benchmarks.bench_live [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

TOKEN = "bench-organiser-token-0123456789"
REDIS_URL = "redis://127.0.0.1:6379/0"
LARGE = (("REFUGEE_WALK_LIVE_COMPRESSION", "0"),)  # at 20,000 walkers: CPU for fixes, not zlib
TARGET_P99_S = 1.0
GRACE_S = 3.0  # after the window, time for the last updates to reach the dashboards
BATTERY_BASE = 50.0


@dataclass(frozen=True)
class Scenario:
    name: str
    walkers: int
    interval_s: float
    dashboards: int = 50
    warmup_s: float = 10.0
    duration_s: float = 60.0
    generators: int = 1
    viewer_procs: int = 1
    processes: int = 1  # server processes; more than one needs PostgreSQL and Redis
    postgres: bool = False
    env: tuple[tuple[str, str], ...] = ()

    @property
    def offered_per_s(self) -> float:
        return self.walkers / self.interval_s


# --- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event_for_today(folder: Path) -> Path:
    """The bundled 2023 event, dated today, starting five minutes ago (closing times ahead)."""
    from routes.bundled import event_path
    from routes.event import load_event

    source = load_event(event_path("antwerp-2023"))
    tz = source.timezone
    now = datetime.now(tz)
    since = max(0, now.hour * 60 + now.minute - 5)
    start = f"{since // 60:02d}:{since % 60:02d}"
    lines = [
        f'name = "Benchmark ({source.name})"',
        f"date = {now.date().isoformat()}",
        f'timezone = "{tz.key}"',
        f"checkin_radius_m = {source.checkin_radius_m}",
        f"slowest_pace_kmh = {source.slowest_pace_kmh}",
        "",
    ]
    for er in source.routes.values():
        lines += [
            "[[routes]]",
            f'id = "{er.id}"',
            f'name = "{er.name}"',
            f'gpx = "{er.gpx_path.as_posix()}"',
            f'starts = ["{start}"]',
            "",
        ]
    path = folder / "bench-event.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class ServerProcess:
    def __init__(
        self,
        folder: Path,
        profile: Path | None = None,
        db: str = "",
        env_extra: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.folder = folder
        event = event_for_today(folder)
        env = {**os.environ, "REFUGEE_WALK_ORGANISER_TOKEN": TOKEN, **(env_extra or {})}
        self.log = open(folder / f"server-{self.port}.log", "ab")  # noqa: SIM115
        python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        self.proc = subprocess.Popen(
            [
                *python,
                "-m",
                "tracking",
                "serve",
                "--port",
                str(self.port),
                "--db",
                db or str(folder / "bench.sqlite3"),
                "--event",
                str(event),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.folder / f"server-{self.port}.log").read_text()[-2000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/routes", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> tuple[float, float]:
        """(RSS now, peak RSS) in MB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text().splitlines()
        values = dict(line.split(":", 1) for line in status if ":" in line)
        return int(values["VmRSS"].split()[0]) / 1024, int(values["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def register(url: str, n: int) -> list[tuple[str, str, str]]:
    """n walkers, two thirds on the 40 km; (id, token, route_id) each."""
    import httpx

    out = []
    with httpx.Client(base_url=url, timeout=600, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        for first in range(0, n, 2000):
            rows = ["name,route"] + [
                f"Walker {i},{'20km' if i % 3 == 0 else '40km'}"
                for i in range(first, min(n, first + 2000))
            ]
            r = c.post("/api/walkers/import", content="\n".join(rows).encode())
            r.raise_for_status()
            out += [(w["id"], w["token"], w["route_id"]) for w in r.json()["rows"]]
    assert len(out) == n, f"registered {len(out)} of {n}"
    return out


# --- load generators: a tiny keep-alive HTTP/1.1 client, to leave the CPU to the server ------------
class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)


def generator(
    port: int,
    walkers: list[tuple[str, str, str]],
    interval_s: float,
    t_start: float,
    w0: float,
    w1: float,
    out: Any,
    connections: int,
) -> None:
    """Post one fix per walker every `interval_s`, phases spread, one request per walker at a time."""
    from routes.bundled import event_path
    from routes.event import load_event

    routes = {rid: er.route for rid, er in load_event(event_path("antwerp-2023")).routes.items()}

    async def main() -> dict[str, Any]:
        rng = np.random.default_rng(len(walkers) + port)
        n = len(walkers)
        phase = rng.uniform(0, interval_s, n)
        start_m = rng.uniform(0.05, 0.9, n)
        pace = rng.uniform(1.1, 1.6, n)
        due = [(t_start + float(phase[i]), i) for i in range(n)]
        heapq.heapify(due)
        pending = [False] * n
        queue: asyncio.Queue[int] = asyncio.Queue()
        stats = {"accepted": 0, "errors": 0, "coalesced": 0, "sent": 0}
        http_s = array("d")

        async def worker() -> None:
            http = Http(port)
            while True:
                i = await queue.get()
                _, token, rid = walkers[i]
                route = routes[rid]
                now = time.time()
                along = min(route.length_m, start_m[i] * route.length_m + pace[i] * (now - t_start))
                lon, lat = route.point_at(along)
                body = orjson.dumps(
                    {
                        "fixes": [
                            {
                                "id": f"{now:.6f}",
                                "recorded_at": now,
                                "lat": lat,
                                "lon": lon,
                                "accuracy_m": 8.0,
                                "battery_pct": BATTERY_BASE + (now - int(now)),
                            }
                        ]
                    }
                )
                status, answer = await http.post("/api/fixes", token, body)
                done = time.time()
                pending[i] = False
                if w0 <= now <= w1:
                    stats["sent"] += 1
                    http_s.append(done - now)
                    if status == 200 and b'"accepted":1' in answer:
                        stats["accepted"] += 1
                    else:
                        stats["errors"] += 1

        workers = [asyncio.create_task(worker()) for _ in range(connections)]
        while True:
            now = time.time()
            if now > w1:
                break
            while due and due[0][0] <= now:
                t, i = heapq.heappop(due)
                heapq.heappush(due, (t + interval_s, i))
                if pending[i]:  # the previous fix is still on its way: a phone would batch
                    if w0 <= t <= w1:
                        stats["coalesced"] += 1
                    continue
                pending[i] = True
                queue.put_nowait(i)
            await asyncio.sleep(0.005)
        await asyncio.sleep(1.0)
        for w in workers:
            w.cancel()
        cpu = os.times()
        return {**stats, "http_s": http_s.tobytes(), "cpu_s": cpu.user + cpu.system}

    out.put(asyncio.run(main()))


# --- dashboards ------------------------------------------------------------------------------------
def viewers(port: int, count: int, window: Any, ready: Any, stop: Any, out: Any) -> None:
    """`count` WebSocket dashboards; each measures every new fix sent inside `window`."""
    from websockets.asyncio.client import connect

    async def one(results: list[dict[str, Any]]) -> None:
        latencies = array("d")
        last_t: dict[str, int] = {}
        state = {"received": 0, "snapshots": 0, "messages": 0, "bytes": 0}
        async with connect(
            f"ws://127.0.0.1:{port}/ws/live?token={TOKEN}",
            max_size=None,
            open_timeout=120,
            ping_interval=None,
        ) as ws:
            results.append(state)
            state["latencies"] = latencies  # type: ignore[assignment]
            async for raw in ws:
                arrived = time.time()
                state["messages"] += 1
                state["bytes"] += len(raw)
                message = orjson.loads(raw)
                kind = message["type"]
                if kind == "snapshot":
                    state["snapshots"] += 1
                    for w in message["walkers"]:
                        if w["t"] is not None:
                            last_t[w["id"]] = w["t"]
                    continue
                if kind != "walkers":
                    continue
                for w in message["walkers"]:
                    t = w["t"]
                    if t is None or last_t.get(w["id"]) == t or w["bat"] is None:
                        continue
                    last_t[w["id"]] = t
                    sent = t + (w["bat"] - BATTERY_BASE)
                    if window[0] <= sent <= window[1]:
                        state["received"] += 1
                        latencies.append(arrived - sent)

    async def main() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(one(results)))
            await asyncio.sleep(0.05)
        while len(results) < count or any(r["snapshots"] == 0 for r in results):
            await asyncio.sleep(0.2)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu = os.times()
        for r in results:
            r["latencies"] = r["latencies"].tobytes()
            r["cpu_s"] = cpu.user + cpu.system
        return results

    out.put(asyncio.run(main()))


# --- one run ---------------------------------------------------------------------------------------
def run_scenario(s: Scenario, profile: Path | None = None) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        db = ""
        env = dict(s.env)
        if s.postgres or s.processes > 1:
            from tests.pg import fresh_postgres

            db = stack.enter_context(fresh_postgres())
        if s.processes > 1:
            env["REFUGEE_WALK_PUBSUB_URL"] = REDIS_URL
        return _run_scenario(s, profile, db, env)
    raise AssertionError("unreachable")


def _run_scenario(
    s: Scenario, profile: Path | None, db: str, env: dict[str, str]
) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        servers = [ServerProcess(Path(folder), profile, db, env) for _ in range(s.processes)]
        server = servers[-1]  # dashboards watch the last process: across processes when several
        try:
            t = time.monotonic()
            walkers = register(servers[0].url, s.walkers)
            register_s = time.monotonic() - t
            setup = 30.0 + s.walkers * s.dashboards / 10000  # snapshots for every dashboard
            window = ctx.Array("d", [float("inf"), float("inf")])
            ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
            per = -(-s.dashboards // s.viewer_procs)
            procs = [
                ctx.Process(
                    target=viewers,
                    args=(server.port, min(per, s.dashboards - k * per), window, ready, stop, out),
                )
                for k in range(s.viewer_procs)
            ]
            for p in procs:
                p.start()
            t = time.monotonic()
            if not ready.wait(setup):
                raise RuntimeError("the dashboards did not connect in time")
            connect_s = time.monotonic() - t
            t_start = time.time()
            w0 = t_start + s.warmup_s
            w1 = w0 + s.duration_s
            window[0], window[1] = w0, w1
            n_gen = max(s.generators, s.processes)
            shards = [walkers[k::n_gen] for k in range(n_gen)]
            gens = [
                ctx.Process(
                    target=generator,
                    args=(
                        servers[k % len(servers)].port,
                        shard,
                        s.interval_s,
                        t_start,
                        w0,
                        w1,
                        out,
                        64,
                    ),
                )
                for k, shard in enumerate(shards)
            ]
            for p in gens:
                p.start()
            while time.time() < w0:
                time.sleep(0.05)
            cpu0 = sum(x.cpu_s() for x in servers)
            while time.time() < w1:
                time.sleep(0.05)
            cpu1 = sum(x.cpu_s() for x in servers)
            rss_mb, peak_mb = (max(v) for v in zip(*(x.memory_mb() for x in servers), strict=True))
            time.sleep(GRACE_S)
            stop.set()
            results = [out.get(timeout=120) for _ in range(len(gens) + len(procs))]
            for p in gens + procs:
                p.join(30)
        finally:
            for x in servers:
                x.stop()
    gen_stats = [r for r in results if isinstance(r, dict)]
    dash = [d for r in results if isinstance(r, list) for d in r]
    row = summarise(s, gen_stats, dash, (cpu1 - cpu0) / s.duration_s, rss_mb, peak_mb, register_s)
    return {**row, "connect_s": connect_s, "processes": s.processes}


def summarise(
    s: Scenario,
    gens: list[dict],
    dash: list[dict],
    server_cpu: float,
    rss_mb: float,
    peak_mb: float,
    register_s: float,
) -> dict[str, Any]:
    accepted = sum(g["accepted"] for g in gens)
    latencies = np.concatenate([np.frombuffer(d["latencies"], dtype="d") for d in dash])
    http = np.concatenate([np.frombuffer(g["http_s"], dtype="d") for g in gens])
    dropped = [max(0, accepted - d["received"]) for d in dash]
    return {
        "scenario": s.name,
        "walkers": s.walkers,
        "interval_s": s.interval_s,
        "dashboards": len(dash),
        "duration_s": s.duration_s,
        "offered_per_s": s.offered_per_s,
        "accepted_per_s": accepted / s.duration_s,
        "errors": sum(g["errors"] for g in gens),
        "coalesced": sum(g["coalesced"] for g in gens),
        "p50_s": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "p99_s": float(np.percentile(latencies, 99)) if len(latencies) else None,
        "max_s": float(latencies.max()) if len(latencies) else None,
        "http_p50_s": float(np.percentile(http, 50)) if len(http) else None,
        "http_p99_s": float(np.percentile(http, 99)) if len(http) else None,
        "dropped_total": int(sum(dropped)),
        "dropped_max": int(max(dropped, default=0)),
        "resnapshots": int(sum(d["snapshots"] - 1 for d in dash)),
        "mb_per_dashboard_per_s": float(
            np.mean([d["bytes"] for d in dash]) / 1e6 / (s.duration_s + s.warmup_s)
        ),
        "server_cpu_pct": 100 * server_cpu,
        "server_rss_mb": rss_mb,
        "server_peak_mb": peak_mb,
        "generators_cpu_s": sum(g["cpu_s"] for g in gens),
        "dashboards_cpu_s": sum({d["cpu_s"] for d in dash}),
        "register_s": register_s,
    }


def table(rows: list[dict[str, Any]]) -> str:
    def ms(v: float | None) -> str:
        return "–" if v is None else f"{v * 1000:,.0f} ms"

    lines = ["Live feed: fixes posted to /api/fixes, watched by WebSocket dashboards", ""]
    for r in rows:
        p99 = r["p99_s"]
        verdict = "n/a" if p99 is None else ("OK" if p99 < TARGET_P99_S else "MISSED")
        lines += [
            f"{r['scenario']}: {r['walkers']:,} walkers every {r['interval_s']:g} s, "
            f"{r['dashboards']} dashboards, {r['duration_s']:g} s measured",
            f"  fixes/s accepted   {r['accepted_per_s']:8.0f} of {r['offered_per_s']:.0f} offered "
            f"(ratio {r['accepted_per_s'] / r['offered_per_s']:.2f}; errors {r['errors']}, "
            f"coalesced by the phones {r['coalesced']})",
            f"  POST → dashboard   p50 {ms(r['p50_s'])}, p99 {ms(r['p99_s'])}, max {ms(r['max_s'])}"
            f"   target p99 < {TARGET_P99_S:g} s: {verdict}"
            + ("" if p99 is None else f" (ratio {p99 / TARGET_P99_S:.2f})"),
            f"  POST answered      p50 {ms(r['http_p50_s'])}, p99 {ms(r['http_p99_s'])}",
            f"  dropped            {r['dropped_total']} updates over all dashboards "
            f"(worst dashboard {r['dropped_max']}); re-snapshots {r['resnapshots']}   target 0",
            f"  per dashboard      {r['mb_per_dashboard_per_s']:.2f} MB/s received",
            f"  server             {r.get('processes', 1)} process(es), CPU {r['server_cpu_pct']:.0f} % of one core, "
            f"{10 * r['server_cpu_pct'] / max(r['accepted_per_s'], 1):.2f} ms CPU per fix, "
            f"RSS {r['server_rss_mb']:.0f} MB (peak {r['server_peak_mb']:.0f} MB)",
            f"  load generators    CPU {r['generators_cpu_s']:.0f} s, dashboards CPU "
            f"{r['dashboards_cpu_s']:.0f} s (same {os.cpu_count()} cores)",
            f"  set-up             registering {r['register_s']:.0f} s, 50 dashboards connected "
            f"with their snapshots in {r['connect_s']:.1f} s",
            "",
        ]
    return "\n".join(lines)


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario("2023 event", 2148, 5.0, warmup_s=5, duration_s=20),
            Scenario(
                "20,000 walkers", 20000, 10.0, warmup_s=5, duration_s=20, generators=2, env=LARGE
            ),
        ]
    return [
        Scenario("2023 event", 2148, 5.0),
        Scenario("20,000 walkers", 20000, 10.0, generators=2, env=LARGE),
    ]


def run(quick: bool = False, json_path: Path | None = None) -> str:
    rows = [run_scenario(s) for s in scenarios(quick)]
    if json_path is not None:
        json_path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s windows instead of 60 s")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    print(run(args.quick, args.json))


if __name__ == "__main__":
    main()
