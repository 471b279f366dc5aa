"""Restarts: a clean stop in the middle of the walk, and `kill -9` while phones are sending.

Every acknowledged fix must still be there afterwards, and every walker's state (progress,
check-ins, last position) is rebuilt from storage to what it was before.
"""

from __future__ import annotations

import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from tests.e2e.test_fix_path import (
    Walker,
    assert_checkins_match_the_walk,
    cohort,
    register,
    send,
    stored_fixes,
    view,
)
from tests.support import Server, register_walker

pytestmark = pytest.mark.e2e

# What must survive a restart (the rest of a view depends on the clock: ETA, silent status).
KEPT = (
    "distance_along_m",
    "offset_m",
    "last_fix",
    "checkins",
    "pace_kmh",
    "route_length_m",
    "progress_pct",
    "battery_pct",
    "status_override",
)


def kept(v: dict) -> dict:
    return {k: v[k] for k in KEPT}


def deliver(srv: Server, w: Walker, start: int, stop: int, chunk: int = 30) -> list[float]:
    """Send fixes start..stop-1 in the walker's form; the progress polled after each chunk."""
    seen = []
    with srv.client() as c:
        indexed = list(enumerate(w.fixes))[start:stop]
        for i in range(0, len(indexed), chunk):
            send(c, w, indexed[i : i + chunk])
            seen.append(view(c, srv, w)["distance_along_m"])
    return seen


def views(srv: Server, walkers: list[Walker]) -> dict[str, dict]:
    with srv.client() as c:
        return {w.id: kept(view(c, srv, w)) for w in walkers}


def test_a_restart_in_the_middle_of_the_walk(server):
    # OsmAnd on the 40 km (stops at 28 km); walker page, Traccar Client and a form on the 20 km.
    walkers = [register(server, w) for w in cohort()[3:7]]
    halves = [len(w.fixes) // 2 for w in walkers]
    with ThreadPoolExecutor(max_workers=len(walkers)) as pool:
        first = list(
            pool.map(lambda wh: deliver(server, wh[0], 0, wh[1]), zip(walkers, halves, strict=True))
        )
    before = views(server, walkers)
    counts = {w.id: len(stored_fixes(server, w.id)) for w in walkers}

    server.restart()

    assert views(server, walkers) == before
    assert {w.id: len(stored_fixes(server, w.id)) for w in walkers} == counts
    with ThreadPoolExecutor(max_workers=len(walkers)) as pool:
        second = list(
            pool.map(
                lambda wh: deliver(server, wh[0], wh[1], len(wh[0].fixes)),
                zip(walkers, halves, strict=True),
            )
        )
    with server.client() as c:
        for w, a, b in zip(walkers, first, second, strict=True):
            seen = a + b
            assert all(y >= x for x, y in itertools.pairwise(seen)), w.name
            assert_checkins_match_the_walk(w, view(c, server, w))
            assert len(stored_fixes(server, w.id)) == len(w.fixes)


def test_a_restart_after_a_late_backlog_keeps_the_progress(server):
    w = register(server, cohort()[4])  # the walker page on the 20 km
    a, b, c = 500, 700, 800
    deliver(server, w, 0, a)
    deliver(server, w, b, c)
    backlog = list(enumerate(w.fixes))[a:b]
    random.Random(9).shuffle(backlog)
    with server.client() as client:
        for i in range(0, len(backlog), 40):
            send(client, w, backlog[i : i + 40])
    before = views(server, [w])[w.id]
    server.restart()
    after = views(server, [w])[w.id]
    # Pace is measured over the fixes replayed at start-up; late ones shorten that window.
    assert after.pop("pace_kmh") == pytest.approx(before.pop("pace_kmh"), abs=0.25)
    assert after == before


def test_a_restart_keeps_progress_when_every_recent_fix_was_flagged(server):
    w = register(server, cohort()[4])
    deliver(server, w, 0, 600)
    last = w.fixes[599]
    # Then 40 minutes of positions 400 m uncertain (a phone in a bag): stored, flagged.
    vague = [
        {
            "id": f"vague-{k}",
            "recorded_at": (last.at + timedelta(seconds=10 * k)).isoformat(),
            "lat": last.lat,
            "lon": last.lon,
            "accuracy_m": 400,
        }
        for k in range(1, 241)
    ]
    with server.client() as c:
        r = c.post(
            "/api/fixes", json={"fixes": vague}, headers={"Authorization": f"Bearer {w.token}"}
        )
        assert r.json()["accepted"] == 240
    before = views(server, [w])
    assert before[w.id]["distance_along_m"] > 7000
    server.restart()
    assert views(server, [w]) == before


def test_a_restart_keeps_the_distance_walked_without_a_route(server):
    w = cohort()[4]
    made = register_walker(server, "No route", "personal")
    w = Walker("No route", "personal", "page", w.fixes[:700], made["id"], made["token"])
    deliver(server, w, 0, 700)
    before = views(server, [w])
    assert before[w.id]["distance_along_m"] > 7000
    server.restart()
    assert views(server, [w]) == before


def sender(
    srv: Server, walkers: list[Walker], acked: dict[str, set[int]], stop: threading.Event
) -> None:
    """Phones sending in turn, one chunk each, until the server dies or all is sent."""
    position = {w.id: 0 for w in walkers}
    with srv.client() as c:
        while not stop.is_set() and any(position[w.id] < len(w.fixes) for w in walkers):
            for w in walkers:
                k = position[w.id]
                batch = list(enumerate(w.fixes))[k : k + 10]
                if not batch:
                    continue
                try:
                    send(c, w, batch)
                except (httpx.HTTPError, OSError):
                    return  # the server is gone: the batch was never acknowledged
                acked[w.id].update(i for i, _ in batch)
                position[w.id] = k + len(batch)


def test_kill_9_keeps_every_acknowledged_fix_and_rebuilds_the_state(server):
    walkers = [register(server, w) for w in cohort()[4:] if w.app in ("page", "owntracks", "form")]
    acked: dict[str, set[int]] = {w.id: set() for w in walkers}
    stop = threading.Event()
    thread = threading.Thread(target=sender, args=(server, walkers, acked, stop))
    thread.start()
    while sum(map(len, acked.values())) < 1500 and thread.is_alive():
        thread.join(0.05)  # poll until enough fixes are acknowledged; requests are in flight
    sent_before_kill = sum(map(len, acked.values()))
    server.kill9()
    stop.set()
    thread.join(30)
    assert not thread.is_alive() and sent_before_kill >= 1500

    server.start()
    for w in walkers:
        stored = {int(t) for t, _, _ in stored_fixes(server, w.id)}  # whole seconds: some apps
        wanted = {int(w.fixes[i].at.timestamp()) for i in acked[w.id]}  # send no more
        assert wanted <= stored, (w.name, len(wanted - stored))

    # Send the rest (and what was not acknowledged), then kill again when all is quiet.
    with ThreadPoolExecutor(max_workers=len(walkers)) as pool:
        list(pool.map(lambda w: deliver(server, w, 0, len(w.fixes), chunk=60), walkers))
    before = views(server, walkers)
    server.kill9()
    server.start()
    assert views(server, walkers) == before
    with server.client() as c:
        for w in walkers:
            assert_checkins_match_the_walk(w, view(c, server, w))
            assert len(stored_fixes(server, w.id)) == len(w.fixes)
