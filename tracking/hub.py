"""The live feed's fan-out: batched updates to every dashboard, never slowed by a slow one.

`LiveHub` keeps one bounded queue per dashboard. Ingestion only marks walkers as changed
(`walker_changed`) or posts events; a flush loop turns them into one batch of messages, each
encoded once, and offers the batch to every queue without waiting. A queue holds batches, not
messages, so a burst of events (the sweep raising a thousand alerts at once) is one item, and
only a dashboard that is `queue_size` batches behind loses its backlog and gets a fresh
snapshot instead. Another transport (Redis pub/sub between
server processes) would implement the same `Broadcaster` methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

log = logging.getLogger("refugee_walk.hub")

SNAPSHOT = b"__snapshot__"
KEEPALIVE_S = 20.0
OVERVIEW_EVERY = 8  # batches between overview checks (2 s at 250 ms)


class Broadcaster(Protocol):
    def walker_changed(self, walker_id: str) -> None: ...
    def publish(self, message: dict[str, Any]) -> None: ...


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
    """In-process fan-out. `states(ids)` gives compact walker states; `overview()` the counts."""

    states: Callable[[list[str]], list[dict[str, Any]]]
    overview: Callable[[], dict[str, Any]]
    batch_s: float = 0.25
    queue_size: int = 32
    clients: set[Client] = field(default_factory=set)
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
                    overview = self.overview()
                    if overview != last_overview:
                        last_overview = overview
                        messages.append(encode({"type": "overview", **overview}))
            except Exception:  # one bad view must not stop the feed for good
                log.exception("live feed batch failed")
                continue
            if not messages and loop.time() - last_sent >= KEEPALIVE_S:
                messages.append(encode({"type": "ping"}))
            if messages:
                for client in list(self.clients):
                    client.offer(messages)
                last_sent = loop.time()

    def drain(self) -> list[bytes]:
        """The pending changes as encoded messages (events first, then walker states)."""
        messages = [encode(e) for e in self._events]
        self._events.clear()
        if self._changed:
            ids = sorted(self._changed)
            self._changed.clear()
            if self.clients:
                messages.append(encode({"type": "walkers", "walkers": self.states(ids)}))
        return messages


def encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)
