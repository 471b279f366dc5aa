"""The HTTP server we ship: uvicorn with limits on what a client may send before it is answered.

uvicorn limits idle keep-alive (`timeout_keep_alive`), open connections (`limit_concurrency`)
and, with h11 only, the size of an unfinished head (`h11_max_incomplete_event_size`). With
httptools (the fast parser, used by default) nothing bounds the request head: a 64 MB header is
read and answered, and a connection that sends its head one byte a minute stays open for ever.
`GuardedHttpToolsProtocol` adds those limits to uvicorn's httptools protocol:

- the request head (request line and headers) is at most `http_max_header_bytes` (431),
- at most `http_max_headers` header fields (431), a target of at most
  `http_max_request_line_bytes` (414),
- the head must be complete `http_header_timeout_s` after the connection opens or the request's
  first byte arrives (slowloris); otherwise the connection is closed. Between requests, the
  idle keep-alive timeout applies. Body bytes that follow an early answer (a 413) are not
  counted as head bytes.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tracking.logs import log_config
from tracking.settings import Settings

log = logging.getLogger("uvicorn.error")
WS_MAX_MESSAGE_BYTES = 64 * 1024  # the dashboard sends its token and little else


@dataclass(frozen=True)
class HeadLimits:
    max_head_bytes: int
    max_headers: int
    max_target_bytes: int
    head_timeout_s: float


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing a refused request."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads (size, fields, time)."""

    limits = HeadLimits(16 * 1024, 64, 8 * 1024, 10.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._field_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except _Refused:
            return
        except httptools.HttpParserError:  # also a `_Refused` raised in a callback
            if self._refused:
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._awaiting_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431, "the request headers are larger than the server accepts")

    def on_message_begin(self) -> None:  # the first byte of a request
        super().on_message_begin()
        self._awaiting_head = True
        self._header_count = 0
        self._field_bytes = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_target_bytes:
            self._refuse(414, "the URL is longer than the server accepts")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._field_bytes += len(name) + len(value) + 4
        if self._header_count > self.limits.max_headers:
            self._refuse(431, "the request has more header fields than the server accepts")
            raise _Refused
        if self._field_bytes + len(self.url) > self.limits.max_head_bytes:
            self._refuse(431, "the request headers are larger than the server accepts")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:
            super().send_400_response(msg)

    # --- the head timer and the refusal ------------------------------------------------------
    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_late)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self.transport.is_closing():
            if self._head_bytes or self._header_count:
                self._refuse(408, "the request headers did not arrive in time")
            else:
                self._refused = True
                self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer `status` with a JSON detail and close the connection."""
        if self._refused:
            return
        self._refused = True
        self._cancel_head_timer()
        body = json.dumps({"detail": detail}).encode()
        phrase = http.HTTPStatus(status).phrase
        head = (
            f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        client = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        log.warning("%s%d %s", client, status, detail)
        self.transport.write(head + body)
        self.transport.close()


def protocol_class(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this server's limits (uvicorn instantiates it per connection)."""
    limits = HeadLimits(
        max_head_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        max_target_bytes=settings.http_max_request_line_bytes,
        head_timeout_s=settings.http_header_timeout_s,
    )
    return type("Guarded", (GuardedHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(settings: Settings, log_level: str) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`: limits, WebSocket and logging."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_class(settings),
        "ws": "websockets-sansio" if _has_sansio() else "auto",
        "ws_per_message_deflate": settings.live_compression,
        "ws_max_size": WS_MAX_MESSAGE_BYTES,
        "timeout_keep_alive": settings.http_keep_alive_s,
        "limit_concurrency": settings.http_max_connections,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "log_level": log_level,
        "log_config": log_config(log_level),
        "server_header": False,
    }


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True
