"""Domain errors of the route model; the web layer maps them to HTTP codes in one table."""

from __future__ import annotations


class RouteError(Exception):
    """Base of every error raised by `routes`."""


class GpxReadError(RouteError):
    """A GPX file could not be read; `source` names the file and `code` the kind of problem."""

    def __init__(self, source: str, code: str, reason: str) -> None:
        self.source = source
        self.code = code
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class GpxTooLargeError(GpxReadError):
    """The file is larger than the configured limit (HTTP 413)."""


class EventConfigError(RouteError):
    """An event file is missing, malformed or points at a route that cannot be read."""
