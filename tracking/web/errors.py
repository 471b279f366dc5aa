"""One table from domain errors to HTTP codes, and 4xx bodies that always carry a readable detail."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from routes.errors import EventConfigError, GpxReadError, GpxTooLargeError
from tracking.engine import Refused, Unavailable
from tracking.protocols import ProtocolError
from tracking.web.bytecache import BusyError

STATUS_CODES: dict[type[Exception], int] = {
    GpxTooLargeError: 413,
    GpxReadError: 422,
    ProtocolError: 400,
    BusyError: 503,
    EventConfigError: 500,
}
RETRY_AFTER_S = {503: 5}  # statuses that tell the client when to come back


def install(app: FastAPI) -> None:
    for exc_type, status in STATUS_CODES.items():
        app.add_exception_handler(exc_type, _handler(status))
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(Unavailable, _unavailable)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status if isinstance(exc, Refused) else 422
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Nothing was stored: the phone keeps the request and sends it again."""
    return JSONResponse(
        {"detail": f"{exc}; nothing was stored, send it again shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S[503])},
    )


def _handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        retry = RETRY_AFTER_S.get(status)
        headers = {"Retry-After": str(retry)} if retry else None
        body = {"detail": str(exc)}
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            body["code"] = code  # pages translate the reason by its code
        return JSONResponse(body, status_code=status, headers=headers)

    return handle


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)
