"""`refugee-walk demo`: one command gives a newcomer a live map with walkers moving."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from routes.bundled import event_path
from routes.event import load_event
from tests.support import free_port
from tracking.cli import main
from tracking.commands.demo_cmd import demo_event, demo_settings
from tracking.settings import Settings


def test_the_demo_event_is_today_with_nothing_closed():
    event = load_event(event_path("antwerp-2023"))
    now = datetime(2031, 5, 4, 16, 45, 12, tzinfo=UTC)
    moved = demo_event(event, now)
    assert moved.date.isoformat() == "2031-05-04" and moved.day_start < now
    for er in moved.routes.values():
        assert er.starts == (now.astimezone(event.timezone).replace(minute=46, second=0),)
        assert all(closes > now for closes in er.closing.values())
        assert er.route is event.routes[er.id].route


def test_the_demo_scales_the_speed_limit_and_the_alert_delays():
    base = replace(Settings(), max_speed_kmh=15.0, silent_minutes=15.0, off_route_minutes=3.0)
    s = demo_settings(base, 20, Path("x.sqlite3"), "tok")
    assert (s.max_speed_kmh, s.silent_minutes, s.off_route_minutes) == (300.0, 0.75, 0.15)
    assert s.stationary_minutes == base.stationary_minutes / 20
    assert (s.db_path, s.organiser_token) == (Path("x.sqlite3"), "tok")


def test_the_demo_wants_a_new_database(tmp_path, capsys):
    existing = tmp_path / "walk.sqlite3"
    existing.write_bytes(b"")
    assert main(["demo", "--db", str(existing)]) == 2
    assert "new database" in capsys.readouterr().err


def _lines(proc: subprocess.Popen) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def _read_until(lines: queue.Queue[str], marker: str, timeout_s: float) -> str:
    seen, deadline = [], time.monotonic() + timeout_s
    while not any(marker in line for line in seen):
        left = deadline - time.monotonic()
        assert left > 0, "".join(seen)
        try:
            seen.append(lines.get(timeout=left))
        except queue.Empty:
            continue
    return "".join(seen)


@pytest.mark.e2e
def test_one_command_gives_a_live_map_with_walkers_moving(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracking",
            "demo",
            "--walkers",
            "40",
            "--speed-up",
            "60",
            "--interval",
            "1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        intro = _read_until(_lines(proc), "Press Ctrl-C", 60)
        token = re.search(r"/organiser#token=(\S+)", intro)[1]  # type: ignore[index]
        walker_links = re.findall(r"(http://127\.0\.0\.1:\d+/w/\S+)", intro)
        db = Path(re.search(r"Database: (\S+?\.sqlite3)", intro)[1])  # type: ignore[index]
        assert len(walker_links) >= 3 and "sends an SOS" in intro and "60x" in intro

        with connect(f"ws://127.0.0.1:{port}/ws/live?token={token}", open_timeout=10) as ws:
            snapshot = json.loads(ws.recv(timeout=10))
            assert snapshot["type"] == "snapshot" and len(snapshot["walkers"]) == 40
            first = {w["id"]: w["d"] for w in snapshot["walkers"]}
            moved: set[str] = set()
            deadline = time.monotonic() + 20
            while len(moved) < 10:
                assert time.monotonic() < deadline, f"only {len(moved)} walkers moved"
                message = json.loads(ws.recv(timeout=10))
                for w in message.get("walkers", []):
                    if w["lat"] is not None and w["d"] > first.get(w["id"], 0) + 20:
                        moved.add(w["id"])

        with httpx.Client(timeout=10) as http:
            page = http.get(walker_links[0])
            assert page.status_code == 200 and "rw-config" in page.text
            assert http.get(f"http://127.0.0.1:{port}/organiser").status_code == 200
            overview = http.get(
                f"http://127.0.0.1:{port}/api/overview",
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert overview["walkers"] == 40 and overview["total_km"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0
    assert not db.exists() and not db.parent.exists()  # the temporary database is gone
