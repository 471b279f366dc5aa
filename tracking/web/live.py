"""WS /ws/live: the organisers' live feed (a snapshot, then batched updates from the hub)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from tracking.hub import SNAPSHOT, LiveHub
from tracking.web.wsauth import is_organiser_token, organiser_credentials

router = APIRouter()


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    token, subprotocol = organiser_credentials(ws)
    if not is_organiser_token(ws, token):
        await ws.close(code=4401, reason="organiser token required")
        return
    await ws.accept(subprotocol=subprotocol)
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
