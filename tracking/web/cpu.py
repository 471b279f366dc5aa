"""CPU-heavy work (GPX validation, map building) off the event loop, a bounded number at a time.

Fixes are handled on the event loop; a GPX validation takes up to a second or two of CPU.
`CpuGate.run` runs such work in a worker thread, at most `cpu_concurrency` at once; a request
that finds every slot taken waits up to `cpu_wait_s`, then gets 503 with `Retry-After`, so a
burst of uploads neither stalls fixes nor piles up memory. When the last job finishes, memory
that glibc keeps after a large parse is given back (`malloc_trim`), so RSS returns near its
start after a run of uploads.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import math
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class CpuGate:
    def __init__(self, concurrency: int, wait_s: float) -> None:
        self.concurrency = max(1, concurrency)
        self.wait_s = wait_s
        self._slots: asyncio.Semaphore | None = None  # made in the running loop
        self._running = 0

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise HTTPException(
                503,
                detail="the server is busy checking other routes; try again in a few seconds",
                headers={"Retry-After": str(max(1, math.ceil(self.wait_s)))},
            ) from None
        self._running += 1
        try:
            return await run_in_threadpool(func, *args, **kwargs)
        finally:
            self._running -= 1
            slots.release()
            if self._running == 0:
                release_freed_memory()

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots


def release_freed_memory() -> None:
    """Give memory freed by a large parse back to the system (glibc keeps it otherwise)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def cpu_gate(request: Request) -> CpuGate:
    """The app's gate, made at first use from its settings."""
    state = request.app.state
    gate = getattr(state, "cpu_gate", None)
    if gate is None:
        s = state.settings
        gate = state.cpu_gate = CpuGate(s.cpu_concurrency, s.cpu_wait_s)
    return gate
