"""The operator's first hour with the command: purge, serve on a busy port, validate --json,
routes --geometry, and every subcommand's --help. Real subprocesses, real files."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import PROJECT, Server, free_port, register_walker
from tracking.cli import build_parser

pytestmark = pytest.mark.e2e


def cli(
    *args: str | Path, cwd: Path = PROJECT, stdin: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracking", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def fixes_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM fixes").fetchone()[0])


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A database with 5 positions, made by a real server on the bundled 2023 event."""
    srv = Server(db=tmp_path / "walk.sqlite3").start()
    try:
        walker = register_walker(srv, "Purge Me", route_id="20km")
        now = datetime.now(UTC)
        fixes = [
            {
                "id": f"p{k}",
                "recorded_at": (now - timedelta(minutes=5 - k)).isoformat(),
                "lat": 51.19 + k * 0.0005,
                "lon": 4.43,
            }
            for k in range(5)
        ]
        with srv.client() as c:
            r = c.post(
                "/api/fixes",
                json={"fixes": fixes},
                headers={"Authorization": f"Bearer {walker['token']}"},
            )
            assert r.status_code == 200
    finally:
        srv.stop()
    return srv.db


# --- purge ---------------------------------------------------------------------------------------
def test_purge_reads_the_event_from_the_database_and_keeps_positions_of_a_recent_event(
    filled: Path, tmp_path: Path
) -> None:
    recorded = json.loads((tmp_path / "walk.sqlite3.event.json").read_text())
    assert recorded["date"] == "2023-05-07" or recorded["name"]
    # the bundled 2023 event is long past: the database says so, positions may go
    r = cli("purge", "--db", filled, stdin="n\n")
    assert "This deletes 5 stored positions" in r.stdout
    assert "Nothing deleted" in r.stdout and r.returncode == 1  # asked, and not a terminal
    assert fixes_in(filled) == 5
    # an event of today (a demo database): nothing to delete yet, whatever --event says
    record = {**recorded, "date": datetime.now(UTC).date().isoformat()}
    (tmp_path / "walk.sqlite3.event.json").write_text(json.dumps(record))
    r = cli("purge", "--db", filled, "--event", "antwerp-2023", "--yes")
    assert r.returncode == 0 and "Nothing to delete yet" in r.stdout
    assert fixes_in(filled) == 5


def test_purge_asks_then_deletes_with_yes(filled: Path) -> None:
    r = cli("purge", "--db", filled, "--all")
    assert r.returncode == 1 and "--yes" in r.stderr and fixes_in(filled) == 5
    r = cli("purge", "--db", filled, "--all", "--yes")
    assert r.returncode == 0, r.stderr
    assert "This deletes 5 stored positions" in r.stdout and "Deleted 5" in r.stdout
    assert fixes_in(filled) == 0


def test_purge_refuses_a_database_that_does_not_say_its_event(filled: Path, tmp_path: Path) -> None:
    (tmp_path / "walk.sqlite3.event.json").unlink()
    r = cli("purge", "--db", filled, "--yes")
    assert r.returncode == 2 and "--event" in r.stderr and fixes_in(filled) == 5
    r = cli("purge", "--db", filled, "--event", "antwerp-2023", "--yes")
    assert r.returncode == 0 and fixes_in(filled) == 0


# --- serve ---------------------------------------------------------------------------------------
def test_serve_on_a_busy_port_says_so_in_one_sentence_and_makes_no_token(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        r = cli("serve", "--port", str(port), "--db", tmp_path / "w.sqlite3", cwd=tmp_path)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"port {port}" in lines[0] and "already in use" in lines[0]
    assert "Traceback" not in r.stderr and "token" not in r.stderr.lower()
    assert not (tmp_path / "w.sqlite3.organiser-token").exists()


def test_a_restart_says_where_the_token_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite3"
    for start in ("first", "second"):
        srv = Server(db=db, env={"REFUGEE_WALK_ORGANISER_TOKEN": ""})
        srv.start()
        srv.stop()
        log = srv.log.read_text() if srv.log else ""
        if start == "first":
            assert "Organiser token (kept in" in log
            srv.log.write_text("")  # type: ignore[union-attr]
    assert f"Organiser token: in {db}.organiser-token" in log


# --- validate --json, routes --geometry, --help ------------------------------------------------------
def test_validate_json_on_an_unreadable_file_prints_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat='51' lon='4'>")
    r = cli("validate", bad, "--distance", "20", "--json")
    assert r.returncode == 2
    answer = json.loads(r.stdout)
    assert answer["readable"] is False and answer["valid"] is False
    assert answer["code"] == "broken_xml" and answer["source"] == str(bad)
    assert "Traceback" not in r.stderr


def test_validate_json_piped_to_head_ends_without_a_traceback(tmp_path: Path) -> None:
    from tests.routes.test_validation import gpx_bytes, loop_route

    good = tmp_path / "loop.gpx"
    good.write_bytes(gpx_bytes([loop_route(20_600)]))
    r = subprocess.run(
        f"{sys.executable} -m tracking validate {good} --distance 20 --json | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
    )
    assert r.stdout.strip() == "{"
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr


def test_routes_json_geometry_is_geojson() -> None:
    r = cli("routes", "--json", "--geometry")
    assert r.returncode == 0
    routes = json.loads(r.stdout)
    line = routes[0]["geometry"]
    assert line["type"] == "LineString" and len(line["coordinates"]) > 100
    lon, lat = line["coordinates"][0]
    assert 4 < lon < 5 and 51 < lat < 52
    assert "geometry" not in json.loads(cli("routes", "--json").stdout)[0]


def test_every_subcommand_help_says_what_it_does() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert command.description and len(command.description) > 15, name
        assert command.description in command.format_help(), name


def test_simulate_with_a_wrong_token_says_so_and_registers_nobody(tmp_path: Path) -> None:
    srv = Server(db=tmp_path / "walk.sqlite3").start()
    try:
        r = cli(
            "simulate", "--url", srv.url, "--walkers", "5", "--duration", "2",
            "--organiser-token", "wrong-token",
        )  # fmt: skip
        assert r.returncode == 1
        assert "does not accept this organiser token" in r.stderr
        assert "Traceback" not in r.stderr
        with srv.client() as c:
            assert c.get("/api/walkers", headers=srv.organiser).json() == []
    finally:
        srv.stop()
