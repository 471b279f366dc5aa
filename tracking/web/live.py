"""WS /ws/live: the organisers' live feed (a snapshot, then batched updates from the hub)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from tracking.hub import SNAPSHOT, LiveHub

router = APIRouter()


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    token = ws.query_params.get("token", "")
    import hmac

    expected = ws.app.state.organiser_token
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        await ws.close(code=4401, reason="organiser token required")
        return
    await ws.accept()
    hub: LiveHub = ws.app.state.hub
    client = hub.connect()
    reader = asyncio.create_task(_drain_incoming(ws))
    try:
        while not reader.done():
            for message in await client.queue.get():
                data = hub.snapshot() if message == SNAPSHOT else message
                await ws.send_text(data.decode())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(client)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _drain_incoming(ws: WebSocket) -> None:
    """Read (and ignore) what the dashboard sends, so a closed socket is noticed."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()
