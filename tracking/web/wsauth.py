"""The dashboard's WebSocket credential, carried in `Sec-WebSocket-Protocol`, not in the URL.

The dashboard opens `new WebSocket(url, ["refugee-walk", "bearer." + base64url(token)])`;
the server answers with the subprotocol `refugee-walk`. Headers are never written to the
access log, so the token stays out of it. `?token=` still works for older clients and scripts
(the log filter masks it).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import WebSocket

SUBPROTOCOL = "refugee-walk"
BEARER_PREFIX = "bearer."


def organiser_credentials(ws: WebSocket) -> tuple[str, str | None]:
    """(the token offered, the subprotocol to accept with) from the protocol header or query."""
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]
    for value in offered:
        if value.startswith(BEARER_PREFIX):
            token = _unbase64(value[len(BEARER_PREFIX) :])
            return token, SUBPROTOCOL if SUBPROTOCOL in offered else None
    return ws.query_params.get("token", ""), None


def is_organiser_token(ws: WebSocket, token: str) -> bool:
    expected: str = ws.app.state.organiser_token
    return bool(token) and hmac.compare_digest(token.encode(), expected.encode())


def _unbase64(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""
