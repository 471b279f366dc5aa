"""Protocol decoders: what real phones send, turned into `Fix` values. Pure: no I/O, no clock.

One contract for all three: a decoder takes the request's parts and returns `Decoded`, the
walker's credential (token), the fixes, the items it could not read (`Refusal`s, each with a
reason) and, for a message without a position, that the phone is alive. Only a request that
names no walker or cannot be read at all raises `ProtocolError` (HTTP 400): anything from a
known walker is acknowledged, because the apps resend what we refuse, oldest first, forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracking.fixes import Fix
from tracking.validation import Refusal


class ProtocolError(ValueError):
    """The request is not in the form the protocol expects (HTTP 400)."""


@dataclass(frozen=True)
class Alive:
    """A message without a position (a heartbeat): the phone is there, at its last position."""

    at: datetime
    battery_pct: float | None = None
    charging: bool | None = None
    moving: bool | None = None  # the app's own motion hint, where it sends one


@dataclass(frozen=True)
class Decoded:
    token: str
    fixes: tuple[Fix, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    alive: Alive | None = None
    app: str = ""


def app_label(user_agent: str, protocol: str) -> str:
    """The app and its version from the User-Agent (first product token), with the protocol:
    'OwnTracks-Android/2.5.3 (owntracks)'. Only for the organisers' phone health view."""
    product = user_agent.split(" ", 1)[0][:60] if user_agent else ""
    return f"{product} ({protocol})" if product else protocol
