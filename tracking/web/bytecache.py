"""A least-recently-used cache bounded in bytes, not entries, for built pages (walker maps).

A personal route's map page can be a few MB; 64 entries of that is a lot of memory. This cache
keeps built strings up to `max_bytes` in total, forgets the least recently used first, and
builds at most `builders` values at once (the others wait up to `wait_s`, then get `BusyError`,
answered 503 with Retry-After), so a burst of map requests cannot run many folium builds side by
side or hold every worker thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any

MAP_CACHE_BYTES = 32 * 1024 * 1024  # built walker route maps kept in memory


class BusyError(Exception):
    """Every builder stayed busy for the whole wait (HTTP 503 with Retry-After)."""


class ByteCache:
    def __init__(self, max_bytes: int, builders: int = 2, wait_s: float = 10.0) -> None:
        self.max_bytes = max_bytes
        self.wait_s = wait_s
        self.size = 0
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self._builders = threading.BoundedSemaphore(max(1, builders))

    def get_or_build(self, key: Hashable, build: Callable[[], str]) -> str:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        if not self._builders.acquire(timeout=self.wait_s):
            raise BusyError("the server is busy drawing maps; try again in a few seconds")
        try:
            with self._lock:  # built by another thread while this one waited?
                if key in self._items:
                    return self._items[key]
            value = build()
        finally:
            self._builders.release()
        self._put(key, value)
        return value

    def _put(self, key: Hashable, value: str) -> None:
        cost = len(value)
        if cost > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.size += cost
            while self.size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.size -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


def byte_cached(max_bytes: int, builders: int = 2) -> Callable[[Callable[..., str]], Any]:
    """Decorator: cache a function returning str by its (hashable) arguments, within bytes."""

    def decorate(func: Callable[..., str]) -> Any:
        cache = ByteCache(max_bytes, builders)

        @wraps(func)
        def wrapper(*args: Hashable) -> str:
            return cache.get_or_build(args, lambda: func(*args))

        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper

    return decorate
