"""WS /ws/live against a real server process, with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tests.support import Server, register_walker

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def route() -> PreparedRoute:
    return load_event(event_path("antwerp-2023")).routes["40km"].route


def run(test: Callable[[], Coroutine[Any, Any, None]], timeout: float = 60) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def live(srv: Server, token: str | None = None, **kw: Any) -> Any:
    token = srv.token if token is None else token
    return connect(f"{srv.ws_url}/ws/live?token={token}", open_timeout=10, **kw)


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def wait_for_message(
    ws: ClientConnection, match: Callable[[dict], bool], timeout: float = 10.0
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the expected message did not arrive"
        message = await receive(ws, left)
        if match(message):
            return message


def fix_body(route: PreparedRoute, along: float, at: datetime, **extra: Any) -> dict:
    lon, lat = route.point_at(along)
    return {
        "fixes": [
            {
                "id": f"f{at.timestamp()}",
                "recorded_at": at.isoformat(),
                "lat": lat,
                "lon": lon,
                "accuracy_m": 6,
                **extra,
            }
        ]
    }


async def post_fix(
    client: httpx.AsyncClient, walker: dict, route: PreparedRoute, along: float, at: datetime
) -> None:
    r = await client.post(
        "/api/fixes",
        json=fix_body(route, along, at),
        headers={"Authorization": f"Bearer {walker['token']}"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def walker_in(message: dict, walker_id: str) -> dict | None:
    if message["type"] not in ("walkers", "snapshot"):
        return None
    return next((w for w in message["walkers"] if w["id"] == walker_id), None)


# --- refusal ------------------------------------------------------------------------------------
def test_the_feed_refuses_a_missing_or_wrong_token(module_server: Server) -> None:
    async def scenario() -> None:
        for token in ("", "not-the-token", module_server.token + "x"):
            with pytest.raises(InvalidStatus) as refused:
                async with live(module_server, token=token):
                    pass
            assert refused.value.response.status_code == 403
        async with live(module_server) as ws:  # and the right one is let in
            assert (await receive(ws))["type"] == "snapshot"

    run(scenario)


# --- snapshot, then updates --------------------------------------------------------------------
def test_snapshot_first_then_the_walker_that_moved(server: Server, route: PreparedRoute) -> None:
    amina = register_walker(server, "Amina", bib="11")
    bram = register_walker(server, "Bram", bib="12")

    async def scenario() -> None:
        async with live(server) as ws, httpx.AsyncClient(base_url=server.url) as http:
            snap = await receive(ws)
            assert snap["type"] == "snapshot"
            assert {w["id"] for w in snap["walkers"]} == {amina["id"], bram["id"]}
            assert {w["s"] for w in snap["walkers"]} == {"registered"}
            assert snap["overview"]["walkers"] == 2
            assert snap["overview"]["routes"]["40km"]["statuses"]["registered"] == 2

            at = datetime.now(UTC).replace(microsecond=0)
            await post_fix(http, amina, route, 8000, at)
            update = await wait_for_message(
                ws, lambda m: (walker_in(m, amina["id"]) or {}).get("t") == int(at.timestamp())
            )
            w = walker_in(update, amina["id"])
            assert w is not None
            lon, lat = route.point_at(8000)
            assert (w["lat"], w["lon"]) == (round(lat, 6), round(lon, 6))
            assert w["t"] == int(at.timestamp())
            assert w["s"] == "walking" and w["n"] == "Amina" and w["b"] == "11"
            assert w["d"] == pytest.approx(8000, abs=30)

            await post_fix(http, amina, route, 8100, at + timedelta(seconds=60))
            t = int(at.timestamp()) + 60
            update = await wait_for_message(
                ws, lambda m: (walker_in(m, amina["id"]) or {}).get("t") == t
            )
            assert walker_in(update, bram["id"]) is None  # only who changed

            overview = await wait_for_message(ws, lambda m: m["type"] == "overview")
            assert overview["routes"]["40km"]["statuses"]["walking"] == 1

    run(scenario)


def test_alerts_and_checkins_are_pushed(server: Server, route: PreparedRoute) -> None:
    walker = register_walker(server, "Chloé")

    async def scenario() -> None:
        async with live(server) as ws, httpx.AsyncClient(base_url=server.url) as http:
            await receive(ws)
            now = datetime.now(UTC)
            await post_fix(http, walker, route, 0, now - timedelta(seconds=60))  # at the start
            await post_fix(http, walker, route, 300, now - timedelta(seconds=30))
            checkin = await wait_for_message(ws, lambda m: m["type"] == "checkin")
            assert checkin["walker_id"] == walker["id"]
            assert checkin["checkpoint_id"] == route.checkpoints[0].id

            r = await http.post(
                "/api/sos",
                json={"message": "help"},
                headers={"Authorization": f"Bearer {walker['token']}"},
            )
            assert r.status_code == 201
            alert = await wait_for_message(ws, lambda m: m["type"] == "alert")
            assert (alert["kind"], alert["state"], alert["walker_name"]) == ("sos", "open", "Chloé")
            flagged = await wait_for_message(
                ws, lambda m: (walker_in(m, walker["id"]) or {}).get("s") == "needs_help"
            )
            assert flagged["type"] == "walkers"

            r = await http.post(f"/api/alerts/{alert['id']}/ack", headers=server.organiser)
            assert r.status_code == 200
            acked = await wait_for_message(ws, lambda m: m["type"] == "alert")
            assert (acked["id"], acked["state"]) == (alert["id"], "acknowledged")

    run(scenario)


# --- batching ------------------------------------------------------------------------------------
def test_updates_are_batched(server: Server, route: PreparedRoute) -> None:
    walkers = [register_walker(server, f"Walker {i}") for i in range(30)]
    ids = {w["id"] for w in walkers}

    async def scenario() -> None:
        async with live(server) as ws, httpx.AsyncClient(base_url=server.url) as http:
            await receive(ws)
            at = datetime.now(UTC)
            started = time.monotonic()
            await asyncio.gather(
                *(post_fix(http, w, route, 1000 + 100 * i, at) for i, w in enumerate(walkers))
            )
            seen: set[str] = set()
            messages = []
            while seen != ids:
                m = await wait_for_message(ws, lambda m: m["type"] == "walkers")
                messages.append((time.monotonic(), m))
                seen |= {w["id"] for w in m["walkers"]} & ids
            elapsed = messages[-1][0] - started
        # 30 fixes, far fewer messages: at most one per 250 ms batch
        assert len(messages) < len(walkers)
        assert len(messages) <= elapsed / 0.25 + 2
        assert max(len(m["walkers"]) for _, m in messages) > 1

    run(scenario)


# --- a stalled dashboard ----------------------------------------------------------------------------
def stalled_socket(srv: Server) -> socket.socket:
    """A TCP connection with a tiny receive buffer, so a client that stops reading blocks soon."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    sock.setblocking(False)
    return sock


def test_a_stalled_dashboard_slows_nobody(server: Server, route: PreparedRoute) -> None:
    """One dashboard stops reading; another keeps getting each update within the batch time.

    If the hub waited for the slowest dashboard, the healthy one would wait for the stalled
    socket (tens of seconds, until the server's ping timeout). That the stalled one then gets
    a fresh snapshot instead of its backlog, once it is 32 batches behind, is shown in
    tests/tracking/test_hub.py: here the kernel's socket buffers (megabytes) absorb the backlog.
    """
    long_name = "Stalling test walker with a long name " * 5  # bigger messages fill buffers sooner
    with server.client() as c:
        csv = "name,route,bib\n" + "".join(f"{long_name[:190]} {i},40km,{i}\n" for i in range(120))
        r = c.post("/api/walkers/import", content=csv.encode(), headers=server.organiser)
        walkers = [row for row in r.json()["rows"] if row["result"] == "created"]
    assert len(walkers) == 120
    probe = walkers[0]

    async def scenario() -> None:
        stalled = await connect(
            f"{server.ws_url}/ws/live?token={server.token}",
            sock=stalled_socket(server),
            max_queue=1,
            ping_interval=None,
            compression=None,
            max_size=None,
        )
        latencies: list[float] = []
        start = datetime.now(UTC) - timedelta(minutes=20)
        last_t = 0
        try:
            async with (
                live(server, max_size=None) as healthy,
                httpx.AsyncClient(base_url=server.url, timeout=30) as http,
            ):
                await receive(healthy)
                for round_ in range(8):
                    at = start + timedelta(seconds=10 * round_)
                    await asyncio.gather(
                        *(post_fix(http, w, route, 500 + 12 * round_, at) for w in walkers[1:])
                    )
                    posted = time.monotonic()
                    await post_fix(http, probe, route, 500 + 12 * round_, at)
                    last_t = int(at.timestamp())
                    await wait_for_message(
                        healthy, lambda m, t=last_t: (walker_in(m, probe["id"]) or {}).get("t") == t
                    )
                    latencies.append(time.monotonic() - posted)
            # the stalled dashboard reads again: it catches up with the latest position
            await wait_for_message(
                stalled, lambda m: (walker_in(m, probe["id"]) or {}).get("t") == last_t, 30
            )
        finally:
            await stalled.close()
        assert max(latencies) < 2.0, latencies

    run(scenario, timeout=150)


# --- reconnect ------------------------------------------------------------------------------------
def test_a_reconnecting_dashboard_catches_up(server: Server, route: PreparedRoute) -> None:
    walker = register_walker(server, "Dries")
    first = datetime.now(UTC) - timedelta(minutes=2)
    second = datetime.now(UTC) - timedelta(minutes=1)

    async def scenario(expected_t: int, post: tuple[float, datetime] | None) -> None:
        async with live(server) as ws, httpx.AsyncClient(base_url=server.url) as http:
            snap = await receive(ws)
            assert snap["type"] == "snapshot"
            assert walker_in(snap, walker["id"]) is not None
            # the snapshot may be shared with dashboards that connected a moment earlier; a
            # change it lacks follows within one batch
            if walker_in(snap, walker["id"])["t"] != expected_t:  # type: ignore[index]
                await wait_for_message(
                    ws, lambda m: (walker_in(m, walker["id"]) or {}).get("t") == expected_t, 2
                )
            if post is not None:
                await post_fix(http, walker, route, *post)

    with httpx.Client(base_url=server.url) as http:
        r = http.post(
            "/api/fixes",
            json=fix_body(route, 2000, first),
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.status_code == 200
    run(lambda: scenario(int(first.timestamp()), (2500, second)))
    # the fix posted just before the first dashboard left is in the next one's snapshot
    run(lambda: scenario(int(second.timestamp()), None))
    # and after a server restart, the state is rebuilt from the database
    server.restart()
    run(lambda: scenario(int(second.timestamp()), None))


def test_many_dashboards_all_get_the_same_update(
    module_server: Server, route: PreparedRoute
) -> None:
    walker = register_walker(module_server, "Emma")

    async def scenario() -> None:
        clients = [await live(module_server) for _ in range(10)]
        try:
            for ws in clients:
                assert (await receive(ws))["type"] == "snapshot"
            async with httpx.AsyncClient(base_url=module_server.url) as http:
                at = datetime.now(UTC).replace(microsecond=0)
                await post_fix(http, walker, route, 4000, at)
            t = int(at.timestamp())
            got = await asyncio.gather(
                *(
                    wait_for_message(ws, lambda m: (walker_in(m, walker["id"]) or {}).get("t") == t)
                    for ws in clients
                )
            )
            assert len(got) == 10
        finally:
            for ws in clients:
                await ws.close()

    run(scenario)
