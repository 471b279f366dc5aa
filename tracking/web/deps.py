"""Request-scoped access to the service and the two kinds of credentials."""

from __future__ import annotations

import base64
import hmac
from typing import Any

import orjson
from fastapi import HTTPException, Request

from tracking.engine import Engine
from tracking.settings import Settings
from tracking.walker_state import WalkerState


def tracker(request: Request) -> Engine:
    return request.app.state.tracker


def settings(request: Request) -> Settings:
    return request.app.state.settings


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def is_organiser(request: Request, token: str | None = None) -> bool:
    expected = request.app.state.organiser_token
    given = token if token is not None else bearer(request)
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def require_organiser(request: Request) -> None:
    """Organiser endpoints take `Authorization: Bearer <organiser token>`."""
    if not is_organiser(request):
        raise HTTPException(
            401,
            detail="organiser token required: send 'Authorization: Bearer <organiser token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


def require_walker(request: Request) -> WalkerState:
    """The walker whose token is in `Authorization: Bearer <walker token>`."""
    token = bearer(request)
    state = tracker(request).by_token(token) if token else None
    if state is None:
        raise HTTPException(
            401,
            detail="unknown walker token: open your personal link again or ask the organisers",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return state


def basic_password(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, detail=f"the request is larger than {limit // 1024} kB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, detail=f"the request is larger than {limit // 1024} kB")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """A JSON body (content type application/json), or a 4xx that says what to send."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise HTTPException(
            415, detail=f"send JSON with Content-Type: application/json, not {ctype}"
        )
    return parse_json(await read_body(request, limit))


def parse_json(body: bytes) -> Any:
    """A JSON body, or 400. orjson refuses nesting deeper than 1,024 levels, so a hostile body
    is a clear answer, not a crash (an empty body is None)."""
    if not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, detail=f"the body is not valid JSON ({exc})") from None
