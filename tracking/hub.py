"""The live feed's fan-out: batched updates to every dashboard, never slowed by a slow one.

`LiveHub` keeps one bounded queue per dashboard. The engine, after each commit, marks walkers
as changed (`walker_changed`) or posts events; a flush loop has the feed (`tracking.feed`)
turn them into one batch of messages, each encoded once, and offers the batch to every queue
without waiting. A queue holds batches, not
messages, so a burst of events (the sweep raising a thousand alerts at once) is one item, and
only a dashboard that is `queue_size` batches behind loses its backlog and gets a fresh
snapshot instead. Another transport (Redis pub/sub between
server processes) would implement the same `Broadcaster` methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("refugee_walk.hub")

SNAPSHOT = b"__snapshot__"
KEEPALIVE_S = 20.0
OVERVIEW_EVERY = 8  # batches between overview checks (2 s at 250 ms)
SNAPSHOT_MAX_AGE_S = 1.0  # dashboards (re)connecting together share one snapshot


class Broadcaster(Protocol):
    def walker_changed(self, walker_id: str) -> None: ...
    def publish(self, message: dict[str, Any]) -> None: ...
    def resync(self) -> None: ...


class FeedSource(Protocol):
    """What the hub needs from the feed: encoded messages."""

    def snapshot(self) -> bytes: ...
    def walkers(self, ids: list[str]) -> bytes: ...
    def overview(self) -> dict[str, Any]: ...
    def event_message(self, event: dict[str, Any]) -> bytes: ...
    def ping(self) -> bytes: ...


@dataclass(eq=False)
class Client:
    queue: asyncio.Queue[list[bytes]]  # one item per batch: the messages to send in order
    skipped: int = 0  # how many times this client fell behind and was given a snapshot

    def offer(self, batch: list[bytes]) -> None:
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.skipped += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait([SNAPSHOT])


@dataclass(eq=False)
class LiveHub:
    """In-process fan-out of what `feed` encodes."""

    feed: FeedSource
    batch_s: float = 0.25
    queue_size: int = 32
    clients: set[Client] = field(default_factory=set)
    generation: int = 0  # bumped whenever changes are drained: a snapshot is current until then
    _snapshot: tuple[int, float, bytes] | None = None
    _changed: set[str] = field(default_factory=set)
    _events: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task | None = None

    def walker_changed(self, walker_id: str) -> None:
        self._changed.add(walker_id)

    def publish(self, message: dict[str, Any]) -> None:
        self._events.append(message)

    def connect(self) -> Client:
        client = Client(asyncio.Queue(maxsize=self.queue_size))
        client.queue.put_nowait([SNAPSHOT])
        self.clients.add(client)
        return client

    def resync(self) -> None:
        """Every dashboard starts over from a fresh snapshot (after the cluster lost Redis)."""
        self._snapshot = None
        for client in list(self.clients):
            client.offer([SNAPSHOT])

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        last_overview: dict[str, Any] | None = None
        tick = 0
        while True:
            await asyncio.sleep(self.batch_s)
            tick += 1
            try:
                messages = self.drain()
                if self.clients and tick % OVERVIEW_EVERY == 0:
                    overview = self.feed.overview()
                    if overview != last_overview:
                        last_overview = overview
                        messages.append(self.feed.event_message({"type": "overview", **overview}))
            except Exception:  # one bad view must not stop the feed for good
                log.exception("live feed batch failed")
                continue
            if not messages and loop.time() - last_sent >= KEEPALIVE_S:
                messages.append(self.feed.ping())
            if messages:
                for client in list(self.clients):
                    client.offer(messages)
                last_sent = loop.time()

    def snapshot(self, max_age_s: float = SNAPSHOT_MAX_AGE_S) -> bytes:
        """The encoded snapshot from the feed, reused while nothing was drained since (and for
        at most `max_age_s`): fifty dashboards reconnecting after a restart cost one snapshot,
        not fifty (at 20,000 walkers each takes a tenth of a second of the event loop).

        Reuse is safe: a change made after the snapshot was built is either still pending, and
        goes to every dashboard connected when it is drained, or drained, which ends the reuse.
        """
        now = time.monotonic()
        cached = self._snapshot
        if cached is not None and cached[0] == self.generation and now - cached[1] < max_age_s:
            return cached[2]
        data = self.feed.snapshot()
        self._snapshot = (self.generation, now, data)
        return data

    def drain(self) -> list[bytes]:
        """The pending changes as encoded messages (events first, then walker states)."""
        if self._changed or self._events:
            self.generation += 1
        messages = [self.feed.event_message(e) for e in self._events]
        self._events.clear()
        if self._changed:
            ids = sorted(self._changed)
            self._changed.clear()
            if self.clients:
                messages.append(self.feed.walkers(ids))
        return messages
