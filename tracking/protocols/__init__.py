"""Protocol decoders: what real phones send, turned into `Fix` values. Pure: no I/O, no clock.

Each decoder returns the walker's credential (token) and its fixes, or raises `ProtocolError`
with a sentence that tells the sender what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracking.fixes import Fix


class ProtocolError(ValueError):
    """The request is not in the form the protocol expects (HTTP 400)."""


@dataclass(frozen=True)
class Decoded:
    token: str
    fixes: tuple[Fix, ...]
