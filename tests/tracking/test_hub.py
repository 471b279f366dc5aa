"""LiveHub: batching, a snapshot first, bounded per-dashboard queues, keepalive. In-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import pytest

from tracking import hub as hub_module
from tracking.hub import SNAPSHOT, LiveHub

BATCH_S = 0.02


class Views:
    """Fake feed: records which walkers it was asked for; `snapshots` are what it builds."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.counts = {"walkers": 0}
        self.fail_next = False
        self.snapshots: list[bytes] = []

    def walkers(self, ids: list[str]) -> bytes:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("a broken view")
        self.calls.append(list(ids))
        return orjson.dumps({"type": "walkers", "walkers": [{"id": i} for i in ids]})

    def overview(self) -> dict[str, Any]:
        return dict(self.counts)

    def snapshot(self) -> bytes:
        self.snapshots.append(f"snapshot {len(self.snapshots) + 1}".encode())
        return self.snapshots[-1]

    def event_message(self, event: dict[str, Any]) -> bytes:
        return orjson.dumps(event)

    def ping(self) -> bytes:
        return orjson.dumps({"type": "ping"})


def make_hub(views: Views, queue_size: int = 32) -> LiveHub:
    return LiveHub(views, batch_s=BATCH_S, queue_size=queue_size)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=10))


def decode(batch: list[bytes]) -> list[Any]:
    return [m if m == SNAPSHOT else orjson.loads(m) for m in batch]


async def next_batch(client: hub_module.Client, timeout: float = 2.0) -> list[Any]:
    return decode(await asyncio.wait_for(client.queue.get(), timeout))


async def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(BATCH_S / 4)


def test_a_new_dashboard_starts_with_a_snapshot() -> None:
    hub = make_hub(Views())
    client = hub.connect()
    assert client.queue.get_nowait() == [SNAPSHOT]
    assert client in hub.clients
    hub.disconnect(client)
    assert client not in hub.clients


def test_changes_within_a_batch_become_one_message_with_each_walker_once() -> None:
    async def scenario() -> None:
        views = Views()
        hub = make_hub(views)
        client = hub.connect()
        client.queue.get_nowait()
        for walker_id in ("b", "a", "b", "c", "a"):
            hub.walker_changed(walker_id)
        hub.start()
        try:
            batch = await next_batch(client)
        finally:
            await hub.stop()
        assert batch == [{"type": "walkers", "walkers": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}]
        assert views.calls == [["a", "b", "c"]]

    run(scenario)


def test_events_come_before_walker_states_in_the_order_published() -> None:
    hub = make_hub(Views())
    hub.connect()
    hub.walker_changed("w1")
    hub.publish({"type": "alert", "id": 1})
    hub.publish({"type": "checkin", "walker_id": "w1"})
    messages = [orjson.loads(m) for m in hub.drain()]
    assert [m["type"] for m in messages] == ["alert", "checkin", "walkers"]
    assert hub.drain() == []  # drained once


def test_no_views_are_built_while_nobody_watches() -> None:
    views = Views()
    hub = make_hub(views)
    hub.walker_changed("w1")
    assert hub.drain() == []
    assert views.calls == []
    client = hub.connect()
    assert hub.drain() == []  # the change before the dashboard came is in its snapshot
    assert client.queue.qsize() == 1


def test_every_dashboard_gets_every_batch() -> None:
    async def scenario() -> None:
        hub = make_hub(Views())
        clients = [hub.connect() for _ in range(3)]
        for c in clients:
            c.queue.get_nowait()
        hub.start()
        try:
            for i in range(3):
                hub.walker_changed(f"w{i}")
                got = [await next_batch(c) for c in clients]
                assert all(b == got[0] for b in got)
                assert got[0][0]["walkers"] == [{"id": f"w{i}"}]
        finally:
            await hub.stop()

    run(scenario)


def test_a_dashboard_that_falls_behind_gets_a_snapshot_instead_of_its_backlog() -> None:
    async def scenario() -> None:
        hub = make_hub(Views(), queue_size=4)
        slow, fast = hub.connect(), hub.connect()
        received: list[list[Any]] = []

        async def read_fast() -> None:
            while True:
                received.append(await next_batch(fast))

        reader = asyncio.create_task(read_fast())
        hub.start()
        try:
            for i in range(8):  # the slow one reads nothing: 1 snapshot + 8 batches > 4
                hub.walker_changed(f"w{i}")
                await wait_for(
                    lambda i=i: any(
                        b[0] != SNAPSHOT and b[0]["walkers"][0]["id"] == f"w{i}" for b in received
                    )
                )
        finally:
            reader.cancel()
            await hub.stop()
        assert slow.skipped >= 1
        assert fast.skipped == 0
        backlog = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        assert backlog[0] == [SNAPSHOT]  # the backlog was replaced by a fresh snapshot
        assert len(backlog) < 4
        walkers_seen = [b[0]["walkers"][0]["id"] for b in received if b[0] != SNAPSHOT]
        assert walkers_seen == [f"w{i}" for i in range(8)]  # the fast one lost nothing

    run(scenario)


def test_a_burst_of_events_is_one_batch_and_overflows_nobody() -> None:
    async def scenario() -> None:
        hub = make_hub(Views(), queue_size=4)
        client = hub.connect()
        client.queue.get_nowait()
        for i in range(1000):  # e.g. the sweep raising closing-time alerts for everyone
            hub.publish({"type": "alert", "id": i})
        hub.start()
        try:
            batch = await next_batch(client)
        finally:
            await hub.stop()
        assert [m["id"] for m in batch] == list(range(1000))
        assert client.skipped == 0

    run(scenario)


def test_overview_is_sent_only_when_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "OVERVIEW_EVERY", 2)

    async def scenario() -> None:
        views = Views()
        hub = make_hub(views)
        client = hub.connect()
        client.queue.get_nowait()
        hub.start()
        try:
            first = await next_batch(client)
            assert first == [{"type": "overview", "walkers": 0}]
            await asyncio.sleep(BATCH_S * 6)
            assert client.queue.empty()  # unchanged: nothing sent
            views.counts["walkers"] = 5
            assert await next_batch(client) == [{"type": "overview", "walkers": 5}]
        finally:
            await hub.stop()

    run(scenario)


def test_a_quiet_feed_sends_pings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "KEEPALIVE_S", BATCH_S * 2)
    monkeypatch.setattr(hub_module, "OVERVIEW_EVERY", 10**9)

    async def scenario() -> None:
        hub = make_hub(Views())
        client = hub.connect()
        client.queue.get_nowait()
        hub.start()
        try:
            assert await next_batch(client) == [{"type": "ping"}]
        finally:
            await hub.stop()

    run(scenario)


def test_a_failing_view_does_not_stop_the_feed() -> None:
    async def scenario() -> None:
        views = Views()
        hub = make_hub(views)
        client = hub.connect()
        client.queue.get_nowait()
        views.fail_next = True
        hub.walker_changed("lost")
        hub.start()
        try:
            await wait_for(lambda: not views.fail_next)
            hub.walker_changed("w2")
            batch = await next_batch(client)
        finally:
            await hub.stop()
        assert batch == [{"type": "walkers", "walkers": [{"id": "w2"}]}]

    run(scenario)


def test_stop_ends_the_flush_loop() -> None:
    async def scenario() -> None:
        hub = make_hub(Views())
        hub.start()
        task = hub._task
        assert task is not None and not task.done()
        await hub.stop()
        assert task.done() and hub._task is None
        await hub.stop()  # twice is harmless

    run(scenario)


def test_dashboards_connecting_together_share_one_snapshot() -> None:
    views = Views()
    hub = make_hub(views)
    hub.connect()
    assert hub.snapshot() == b"snapshot 1"
    assert hub.snapshot() == b"snapshot 1"  # nothing drained since: reused
    hub.walker_changed("w1")
    assert hub.snapshot() == b"snapshot 1"  # pending changes go to every dashboard anyway
    hub.drain()
    assert hub.snapshot() == b"snapshot 2"  # drained changes end the reuse
    assert hub.snapshot(max_age_s=0.0) == b"snapshot 3"  # and so does age
    assert len(views.snapshots) == 3


def test_changes_drained_while_nobody_watched_are_in_the_next_snapshot() -> None:
    views = Views()
    hub = make_hub(views)
    first = hub.connect()
    assert hub.snapshot() == b"snapshot 1"
    hub.disconnect(first)
    hub.walker_changed("w1")
    assert hub.drain() == []  # nobody to tell...
    hub.connect()
    assert hub.snapshot() == b"snapshot 2"  # ...so the next dashboard must not get the old one
