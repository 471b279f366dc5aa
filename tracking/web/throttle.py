"""Throttling per client address: failed authentication, and the public CPU-heavy endpoints.

A pure ASGI middleware, so no handler changes: it watches the answers going out.

- **Failed authentication.** Every 401 or 403, a walker page for an unknown token (404 on
  `/w/<token>`), an unknown device at `/ingest/osmand` (its 404, or its 400 saying "unknown
  device") and a refused dashboard WebSocket take one unit from the address's allowance
  (`auth_failure_burst`, refilled at `auth_failures_per_minute`). With the allowance spent,
  requests from that address get 429 with `Retry-After` before they reach a handler, unless
  they carry a credential that has already succeeded: a phone with a valid token draining its
  queue is never throttled, even behind the same NAT as someone guessing tokens.
- **CPU-heavy endpoints** (GPX validation, attaching a personal route): a token bucket per
  address (`cpu_requests_burst`, `cpu_requests_per_minute`).

Both tables are bounded (least recently seen addresses are forgotten first).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracking.settings import Settings

MAX_ADDRESSES = 50_000
MAX_KNOWN_CREDENTIALS = 20_000
CPU_PATHS = frozenset(("/api/personal-routes/validate", "/api/me/route"))
GUARDED_PREFIXES = ("/api/", "/ingest/", "/w/", "/ws/")
WALKER_PAGE = re.compile(r"^/w/[^/]+(/apps)?/?$")
CREDENTIAL_PARAMS = (b"id", b"deviceid", b"device_id", b"token")


class Buckets:
    """Token buckets per key: `burst` units, refilled at `per_s`; bounded in keys."""

    def __init__(
        self, burst: int, per_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = max(1, burst)
        self.per_s = max(per_s, 1e-9)
        self.clock = clock
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait_s(self, key: str) -> float:
        """0 when `key` has a unit left, else the seconds until it has one."""
        level = self._level(key)
        return 0.0 if level >= 1 else (1 - level) / self.per_s

    def take(self, key: str) -> float:
        """Take a unit: 0 when there was one, else the seconds until there is (none taken)."""
        wait = self.wait_s(key)
        if wait == 0:
            self._levels[key] = (self._level(key) - 1, self.clock())
        return wait

    def _level(self, key: str) -> float:
        now = self.clock()
        level, at = self._levels.get(key, (float(self.burst), now))
        level = min(float(self.burst), level + (now - at) * self.per_s)
        self._levels[key] = (level, now)
        self._levels.move_to_end(key)
        while len(self._levels) > MAX_ADDRESSES:
            self._levels.popitem(last=False)
        return level


class Throttle:
    """The middleware (wired with `app.add_middleware(Throttle, settings=settings)`)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.failures = Buckets(settings.auth_failure_burst, settings.auth_failures_per_minute / 60)
        self.cpu = Buckets(settings.cpu_requests_burst, settings.cpu_requests_per_minute / 60)
        self.known: OrderedDict[bytes, None] = OrderedDict()  # digests of good credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("?", 0))[0]
        path: str = scope["path"]
        credential = _credential(scope)
        wait = self._wait(scope, address, path, credential)
        if wait:
            await _too_many(scope, send, wait)
            return
        watcher = _Watcher(scope, send)
        await self.app(scope, receive, watcher.send)
        if watcher.failed:
            self.failures.take(address)
        elif watcher.succeeded and credential:
            self._remember(credential)

    def _wait(self, scope: Scope, address: str, path: str, credential: bytes) -> float:
        if scope["type"] == "http" and scope["method"] == "POST" and path in CPU_PATHS:
            wait = self.cpu.take(address)
            if wait:
                return wait
        if not path.startswith(GUARDED_PREFIXES):
            return 0.0
        wait = self.failures.wait_s(address)
        if wait and credential and credential in self.known:
            self.known.move_to_end(credential)
            return 0.0
        return wait

    def _remember(self, credential: bytes) -> None:
        self.known[credential] = None
        self.known.move_to_end(credential)
        while len(self.known) > MAX_KNOWN_CREDENTIALS:
            self.known.popitem(last=False)


class _Watcher:
    """Passes messages on and notes whether the answer was a failed authentication."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.inner = send
        self.status = 0
        self.accepted = False
        self.failed = False
        self.succeeded = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.failed = _is_auth_failure(self.scope["path"], self.status)
            self.succeeded = self.status < 400
        elif kind == "http.response.body" and self.status in (400, 404) and not self.failed:
            self.failed = _is_unknown_device(self.scope["path"], message.get("body", b""))
        elif kind == "websocket.accept":
            self.accepted = self.succeeded = True
        elif kind == "websocket.close":
            refused = not self.accepted or message.get("code", 1000) in (1008, 4401, 4403)
            self.failed = refused
            self.succeeded = self.succeeded and not refused
        await self.inner(message)


def _is_auth_failure(path: str, status: int) -> bool:
    if status in (401, 403):
        return True
    if status == 404:
        return path == "/ingest/osmand" or bool(WALKER_PAGE.match(path))
    return False


def _is_unknown_device(path: str, body: bytes) -> bool:
    return path == "/ingest/osmand" and b"unknown device" in body[:500]


def _credential(scope: Scope) -> bytes:
    """A digest of the request's credential (bearer, basic, device id, page token), or b''."""
    parts: list[bytes] = []
    for name, value in scope.get("headers", ()):
        if name == b"authorization" or name == b"sec-websocket-protocol":
            parts.append(value)
    query: bytes = scope.get("query_string", b"")
    for pair in query.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key.lower() in CREDENTIAL_PARAMS and value:
            parts.append(value)
    path: str = scope["path"]
    if path.startswith("/w/"):
        parts.append(path.split("/")[2].encode())
    if not parts:
        return b""
    return hashlib.sha256(b"\0".join(parts)).digest()


async def _too_many(scope: Scope, send: Send, wait_s: float) -> None:
    retry = str(max(1, math.ceil(wait_s)))
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "too many attempts"})
        return
    body = json.dumps(
        {"detail": f"too many attempts from your address; try again in {retry} s"}
    ).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", retry.encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
