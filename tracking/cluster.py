"""Several server processes, one event: coordination through Redis. PostgreSQL holds the data.

The rule stays one writer per walker, now across processes: a tick takes a short lease on
every walker it touches (`SET lock:<walker> NX PX`); a walker leased elsewhere waits for the
next tick. Each walker's saved state carries a version; the newest version is kept in Redis,
set before the commit, so a process that finds a newer version than its own copy loads that
walker's state from the database before it applies anything. A killed process's leases
expire within seconds, and any other process carries on from the saved state.

After each commit a process publishes what changed (walker records, saved states, alerts and
the dashboards' events) on one channel; every other process applies it to its copy, so a
dashboard on any process sees every walker. The clock sweep runs on one process at a time
(a leader lease). Redis carries coordination and the live feed, never the data: when Redis
comes back after a restart, every process reloads from the database and every dashboard
gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger("refugee_walk.cluster")

LEASE_MS = 10_000  # a walker's lease outlives any tick; a killed process frees it in 10 s
PREFIX = "refugee-walk"
RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
"""
# KEYS: lock1, ver1, lock2, ver2, ...; ARGV: this process, lease ms. For each walker: 0 when
# leased elsewhere, else its new version (the one this tick will write): one round trip.
LEASE = """
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = redis.call('INCR', KEYS[i + 1])
  else
    out[#out + 1] = 0
  end
end
return out
"""


class Cluster:
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.node = 0  # a small number unique to this process (alert ids carry it)
        self.redis: aioredis.Redis = aioredis.from_url(url)
        self._release = self.redis.register_script(RELEASE)
        self._lease = self.redis.register_script(LEASE)
        self._listener: asyncio.Task | None = None

    @property
    def channel(self) -> str:
        return f"{self.prefix}:changes"

    def _lock(self, walker_id: str) -> str:
        return f"{self.prefix}:lock:{walker_id}"

    def _version(self, walker_id: str) -> str:
        return f"{self.prefix}:ver:{walker_id}"

    async def start(
        self,
        on_message: Callable[[dict[str, Any]], None],
        on_resync: Callable[[], Awaitable[None]],
    ) -> None:
        self.node = int(await self.redis.incr(f"{self.prefix}:nodes")) % (1 << 20)
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(on_message, on_resync, ready))
        await asyncio.wait_for(ready.wait(), 10)

    async def _listen(
        self,
        on_message: Callable[[dict[str, Any]], None],
        on_resync: Callable[[], Awaitable[None]],
        ready: asyncio.Event,
    ) -> None:
        first = True
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(self.channel)
                if not first:
                    await on_resync()  # anything published while we were away is in the database
                first = False
                ready.set()
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    message = orjson.loads(item["data"])
                    if message.get("from") != self.name:
                        on_message(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            except Exception:
                log.exception("a cluster message could not be applied")

    async def lease(self, walker_ids: list[str]) -> dict[str, int]:
        """Lease walkers for a tick: {walker: the version this tick writes} for those leased.

        The version is taken (INCR) with the lease, before anything is written: a process that
        holds an older copy than `version - 1` reloads it from the database first.
        """
        if not walker_ids:
            return {}
        keys = [k for w in walker_ids for k in (self._lock(w), self._version(w))]
        answers = await self._lease(keys=keys, args=[self.name, LEASE_MS])
        return {w: int(v) for w, v in zip(walker_ids, answers, strict=True) if int(v)}

    async def finish(self, walker_ids: list[str], message: dict[str, Any] | None) -> None:
        """After the commit: tell the others what changed, and give the leases back."""
        async with self.redis.pipeline(transaction=False) as pipe:
            if message is not None:
                pipe.publish(self.channel, orjson.dumps({**message, "from": self.name}))
            if walker_ids:
                await self._release(
                    keys=[self._lock(w) for w in walker_ids], args=[self.name], client=pipe
                )
            await pipe.execute()

    async def release(self, walker_ids: list[str]) -> None:
        if walker_ids:
            await self._release(keys=[self._lock(w) for w in walker_ids], args=[self.name])

    async def leader(self, role: str, ttl_s: float) -> bool:
        """Is this process the one to do `role` now? (a lease, renewed by its holder)"""
        key = f"{self.prefix}:leader:{role}"
        ms = int(ttl_s * 1000)
        if await self.redis.set(key, self.name, nx=True, px=ms):
            return True
        holder = await self.redis.get(key)
        if holder in (self.name, self.name.encode()):
            await self.redis.pexpire(key, ms)
            return True
        return False

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisConnectionError):
                await self._listener
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()
