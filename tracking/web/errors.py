"""One table from domain errors to HTTP codes, and 4xx bodies that always carry a readable detail."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from routes.errors import EventConfigError, GpxReadError, GpxTooLargeError
from tracking.protocols import ProtocolError

STATUS_CODES: dict[type[Exception], int] = {
    GpxTooLargeError: 413,
    GpxReadError: 422,
    ProtocolError: 400,
    EventConfigError: 500,
}


def install(app: FastAPI) -> None:
    for exc_type, status in STATUS_CODES.items():
        app.add_exception_handler(exc_type, _handler(status))
    app.add_exception_handler(RequestValidationError, _validation)


def _handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        body = {"detail": str(exc)}
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            body["code"] = code  # pages translate the reason by its code
        return JSONResponse(body, status_code=status)

    return handle


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)
