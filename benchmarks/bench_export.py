"""Export of 500,000 stored fixes: server memory over its baseline, and fix latency meanwhile.

A real server process (`refugee-walk serve`) on a database holding 500 walkers x 1,000 fixes
(50 x 1,000 with --quick), written straight into SQLite before the server starts. For each
export the server's RSS is sampled every 20 ms from /proc while the client reads and discards
the stream, and one phone posts a fix to /api/fixes every 100 ms; the table gives the peak
RSS over the RSS just before the export, the export's time and size, and the fix latencies
during it against the same phone's latencies with no export running.

Run: python -m benchmarks.bench_export [--quick]   (or python -m benchmarks.run --only export)
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.bench_live import TOKEN, ServerProcess

EXPORTS = ("fixes.geojson", "tracks.geojson", "tracks.gpx", "tracks.gpkg")
FIXES_PER_WALKER = 1000
INSERT = (
    "INSERT INTO fixes (walker_id, recorded_at, client_id, received_at, lat, lon, accuracy_m,"
    " speed_mps, heading_deg, altitude_m, battery_pct, source, sos, flags, distance_along_m,"
    " offset_m) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
)


def fill(db: Path, walkers: list[tuple[str, str]], start: datetime) -> int:
    """FIXES_PER_WALKER stored fixes per walker, 10 s apart along the route, in one transaction."""
    from routes.bundled import event_path
    from routes.event import load_event

    routes = load_event(event_path("antwerp-2023")).routes
    conn = sqlite3.connect(db)
    n = 0
    t0 = start.timestamp()
    with conn:
        for walker_id, route_id in walkers:
            route = routes[route_id].route
            rows = []
            for i in range(FIXES_PER_WALKER):
                along = min(route.length_m, 13.0 * i)
                lon, lat = route.point_at(along)
                flags = "" if i % 50 else "poor_accuracy"
                at = t0 + 10 * i
                fix = (lat, lon, 8.0, 1.3, None, 12.5, 80.0, "web", flags, along, 3.0)
                rows.append((walker_id, at, f"b{i}", at + 1, *fix))
            conn.executemany(INSERT, rows)
            n += len(rows)
    conn.close()
    return n


class Phone(threading.Thread):
    """Posts one fix every 100 ms and records each answer's latency, until stopped."""

    def __init__(self, url: str, token: str, route_id: str) -> None:
        super().__init__(daemon=True)
        from routes.bundled import event_path
        from routes.event import load_event

        self.route = load_event(event_path("antwerp-2023")).routes[route_id].route
        self.client = httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()
        self.i = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.i += 1
            lon, lat = self.route.point_at(min(self.route.length_m, 0.15 * self.i))
            fix = {
                "id": f"p{self.i}",
                "recorded_at": datetime.now(UTC).isoformat(),
                "lat": lat,
                "lon": lon,
                "accuracy_m": 5,
            }
            started = time.perf_counter()
            r = self.client.post("/api/fixes", json={"fixes": [fix]})
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.failures += r.status_code != 200
            self.stop.wait(0.1)

    def take(self) -> list[float]:
        out, self.latencies = self.latencies, []
        return out


def export(srv: ServerProcess, name: str) -> tuple[float, float, int]:
    """(peak RSS over the RSS before, seconds, bytes) for one export read to the end."""
    base, _ = srv.memory_mb()
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, srv.memory_mb()[0])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size = 0
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        httpx.Client(base_url=srv.url, timeout=600, headers=headers) as c,
        c.stream("GET", f"/api/export/{name}") as r,
    ):
        assert r.status_code == 200, r.read()[:300]
        for chunk in r.iter_raw():
            size += len(chunk)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return peak - base, elapsed, size


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(quick: bool = False) -> str:
    n_walkers = 50 if quick else 500
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        folder = Path(tmp)
        srv = ServerProcess(folder)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=srv.url, timeout=60, headers=headers) as c:
            made = []
            for i in range(n_walkers + 1):
                walker = {"name": f"Walker {i}", "route_id": "20km" if i % 2 else "40km"}
                r = c.post("/api/walkers", json=walker)
                assert r.status_code == 201, r.text
                made.append(r.json())
        phone_row, stored = made[0], made[1:]
        srv.stop()
        start = datetime.now(UTC) - timedelta(hours=4)
        total = fill(folder / "bench.sqlite3", [(w["id"], w["route_id"]) for w in stored], start)
        srv = ServerProcess(folder)
        try:
            return measure(srv, phone_row, total)
        finally:
            srv.stop()


def measure(srv: ServerProcess, phone_row: dict, total: int) -> str:
    phone = Phone(srv.url, phone_row["token"], phone_row["route_id"])
    phone.start()
    time.sleep(3)
    idle = phone.take()
    lines = [
        f"{total:,} stored fixes; one phone posting a fix every 100 ms throughout.",
        "",
        "| export | peak RSS over baseline (MB) | time (s) | size sent (MB, gzip) "
        "| fix latency p50 / p95 / max (ms) |",
        "|---|---:|---:|---:|---|",
        f"| (none: the phone alone, 3 s) | | | | {_lat(idle)} |",
    ]
    for name in EXPORTS:
        over, seconds, size = export(srv, name)
        during = phone.take()
        lines.append(f"| {name} | {over:.0f} | {seconds:.1f} | {size / 1e6:.1f} | {_lat(during)} |")
    phone.stop.set()
    phone.join()
    rss, hwm = srv.memory_mb()
    lines += [
        "",
        f"Server RSS after the exports {rss:.0f} MB (peak {hwm:.0f} MB); "
        f"{phone.failures} fixes not answered 200.",
    ]
    return "\n".join(lines)


def _lat(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"{statistics.median(values):.0f} / {percentile(values, 95):.0f} / {max(values):.0f}"
        f" ({len(values)} fixes)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(run(parser.parse_args().quick))
