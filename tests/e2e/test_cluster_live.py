"""Two server processes, one event: real PostgreSQL, real Redis, real WebSocket dashboards.

Skipped, with the reason, where PostgreSQL or Redis does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.test_fix_path import (
    assert_checkins_match_the_walk,
    cohort,
    register,
    send,
)
from tests.e2e.test_fix_path import (
    page_fix as page,
)
from tests.e2e.test_restart import kept
from tests.pg import fresh_postgres
from tests.support import ORGANISER_TOKEN, Server, free_port

pytestmark = pytest.mark.e2e
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")


class Pair:
    def __init__(self, a: Server, b: Server, url: str) -> None:
        self.a, self.b, self.url = a, b, url


@pytest.fixture
def pair(tmp_path) -> Iterator[Pair]:
    redis_or_skip()
    with fresh_postgres() as url:
        a = Server(
            db=tmp_path / "a.sqlite3", database=url, env={"REFUGEE_WALK_PUBSUB_URL": REDIS_URL}
        )
        b = Server(
            db=tmp_path / "b.sqlite3", database=url, env={"REFUGEE_WALK_PUBSUB_URL": REDIS_URL}
        )
        a.start()
        b.start()
        try:
            yield Pair(a, b, url)
        finally:
            a.stop()
            b.stop()


def view(srv: Server, walker_id: str) -> dict:
    with srv.client() as c:
        return c.get(f"/api/walkers/{walker_id}", headers=srv.organiser).json()


def stored_pg(url: str, walker_id: str) -> int:
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute("SELECT COUNT(*) FROM fixes WHERE walker_id=%s", (walker_id,)).fetchone()[
            0
        ]


def test_one_walkers_fixes_alternate_between_processes_out_of_order(pair):
    w = register(pair.a, cohort()[4])  # the walker page on the 20 km
    w.fixes = w.fixes[:800]  # ends between check-in points
    chunks = [list(enumerate(w.fixes))[i : i + 30] for i in range(0, len(w.fixes), 30)]
    for k in range(0, len(chunks), 4):  # each group of four sent 0, 2, 1, 3: some come late
        for j in (0, 2, 1, 3):
            if k + j < len(chunks):
                srv = pair.a if (k + j) % 2 else pair.b
                with srv.client() as c:
                    send(c, w, chunks[k + j])
    time.sleep(1)
    on_a, on_b = view(pair.a, w.id), view(pair.b, w.id)
    assert kept(on_a) == kept(on_b)
    assert_checkins_match_the_walk(w, on_a)
    assert stored_pg(pair.url, w.id) == len(w.fixes)


def test_a_dashboard_on_b_sees_a_fix_posted_to_a_within_2_s(pair):
    w = register(pair.a, cohort()[4])

    async def scenario() -> float:
        async with connect(
            f"{pair.b.ws_url}/ws/live?token={ORGANISER_TOKEN}", open_timeout=10
        ) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "snapshot"
            t0 = time.monotonic()
            with httpx.Client(base_url=pair.a.url) as c:
                send(c, w, [(0, w.fixes[0])])
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if m["type"] == "walkers" and any(x["id"] == w.id and x["t"] for x in m["walkers"]):
                    return time.monotonic() - t0

    assert asyncio.run(scenario()) < 2.0


def test_an_sos_through_a_appears_once_on_dashboards_of_both(pair):
    w = register(pair.b, cohort()[4])

    async def watch(srv: Server, found: list[dict], ready: asyncio.Event) -> None:
        async with connect(f"{srv.ws_url}/ws/live?token={ORGANISER_TOKEN}", open_timeout=10) as ws:
            ready.set()
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if m["type"] == "alert" and m["walker_id"] == w.id:
                    found.append(m)

    async def scenario() -> tuple[list[dict], list[dict]]:
        on_a: list[dict] = []
        on_b: list[dict] = []
        ready_a, ready_b = asyncio.Event(), asyncio.Event()
        tasks = [
            asyncio.create_task(watch(pair.a, on_a, ready_a)),
            asyncio.create_task(watch(pair.b, on_b, ready_b)),
        ]
        await ready_a.wait()
        await ready_b.wait()
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=pair.a.url) as c:
            for _ in range(3):  # pressed three times: one alert
                r = await c.post(
                    "/api/sos",
                    json={"message": "help"},
                    headers={"Authorization": f"Bearer {w.token}"},
                )
                assert r.status_code == 201
        await asyncio.gather(*tasks)
        return on_a, on_b

    on_a, on_b = asyncio.run(scenario())
    assert [m["kind"] for m in on_a] == ["sos"] and [m["kind"] for m in on_b] == ["sos"]
    assert on_a[0]["id"] == on_b[0]["id"]
    with pair.b.client() as c:
        alerts = [
            a
            for a in c.get("/api/alerts", headers=pair.b.organiser).json()
            if a["walker_id"] == w.id
        ]
    assert [a["kind"] for a in alerts] == ["sos"]


def test_a_token_revoked_on_one_process_is_refused_on_the_other(pair):
    w = register(pair.a, cohort()[4])
    with pair.a.client() as c:
        assert c.post(f"/api/walkers/{w.id}/revoke", headers=pair.a.organiser).status_code == 200
    time.sleep(0.5)
    with pair.b.client() as c:
        r = c.get("/api/me", headers={"Authorization": f"Bearer {w.token}"})
    assert r.status_code == 401


def test_kill_9_of_a_loses_no_acknowledged_fix_and_b_takes_over(pair):
    walkers = [register(pair.a, w) for w in cohort()[4:6]]
    for w in walkers:
        w.fixes = w.fixes[:600]
    acked: dict[str, set[int]] = {w.id: set() for w in walkers}
    stop = threading.Event()

    def sender() -> None:
        with pair.a.client() as c:
            for k in range(0, 600, 10):
                for w in walkers:
                    if stop.is_set():
                        return
                    batch = list(enumerate(w.fixes))[k : k + 10]
                    try:
                        send(c, w, batch)
                    except (httpx.HTTPError, OSError):
                        return
                    acked[w.id].update(i for i, _ in batch)

    thread = threading.Thread(target=sender)
    thread.start()
    while sum(map(len, acked.values())) < 300 and thread.is_alive():
        thread.join(0.05)
    pair.a.kill9()
    stop.set()
    thread.join(30)
    for w in walkers:  # every acknowledged fix is in the database
        stored = {int(t) for t, _, _ in pg_fixes(pair.url, w.id)}  # the page sends milliseconds
        assert {int(w.fixes[i].at.timestamp()) for i in acked[w.id]} <= stored
    with pair.b.client() as c:  # B takes over: the phones send everything again to B
        for w in walkers:
            for k in range(0, 600, 30):
                send(c, w, list(enumerate(w.fixes))[k : k + 30])
    for w in walkers:
        assert_checkins_match_the_walk(w, view(pair.b, w.id))
        assert stored_pg(pair.url, w.id) == len(w.fixes)


def pg_fixes(url: str, walker_id: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute(
            "SELECT recorded_at, flags, distance_along_m FROM fixes WHERE walker_id=%s",
            (walker_id,),
        ).fetchall()


# --- Redis restarts: dashboards re-sync, no fix lost ----------------------------------------------


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, socket_connect_timeout=1).ping()
            return proc
        except redis.RedisError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def test_after_a_redis_restart_dashboards_resync_and_no_fix_is_lost(tmp_path):
    redis_or_skip()
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: a private Redis is needed to restart it")
    port = free_port()
    redis_proc = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    with fresh_postgres() as db:
        a = Server(
            db=tmp_path / "a.sqlite3", database=db, env={"REFUGEE_WALK_PUBSUB_URL": url}
        ).start()
        b = Server(
            db=tmp_path / "b.sqlite3", database=db, env={"REFUGEE_WALK_PUBSUB_URL": url}
        ).start()
        try:
            w = register(a, cohort()[4])
            w.fixes = w.fixes[:200]

            async def scenario() -> list[str]:
                seen: list[str] = []
                async with connect(
                    f"{b.ws_url}/ws/live?token={ORGANISER_TOKEN}", open_timeout=10
                ) as ws:
                    seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"])
                    with httpx.Client(base_url=a.url) as c:
                        send(c, w, list(enumerate(w.fixes))[:50])
                    redis_proc.kill()
                    redis_proc.wait()
                    with httpx.Client(base_url=a.url, timeout=30) as c:  # Redis away: 503, retried
                        r = c.post(
                            "/api/fixes",
                            json={"fixes": []},
                            headers={"Authorization": f"Bearer {w.token}"},
                        )
                        assert r.status_code in (200, 503)
                    restarted = start_redis(port)
                    try:
                        deadline = time.monotonic() + 15
                        while "snapshot" not in seen[1:] and time.monotonic() < deadline:
                            with contextlib.suppress(TimeoutError):
                                seen.append(
                                    json.loads(await asyncio.wait_for(ws.recv(), 1))["type"]
                                )
                        with httpx.Client(base_url=a.url) as c:
                            for k in range(50, 200, 30):
                                for _ in range(20):  # the phone resends until acknowledged
                                    r = c.post(
                                        "/api/fixes",
                                        json={
                                            "fixes": [
                                                page(w, i, f)
                                                for i, f in list(enumerate(w.fixes))[k : k + 30]
                                            ]
                                        },
                                        headers={"Authorization": f"Bearer {w.token}"},
                                    )
                                    if r.status_code == 200:
                                        break
                                    time.sleep(0.5)
                                assert r.status_code == 200, r.text
                    finally:
                        restarted.kill()
                        restarted.wait()
                return seen

            seen = asyncio.run(scenario())
            assert seen[0] == "snapshot" and "snapshot" in seen[1:]  # re-synchronised
            assert stored_pg(db, w.id) == len(w.fixes)
        finally:
            a.stop()
            b.stop()
            if redis_proc.poll() is None:
                redis_proc.kill()
