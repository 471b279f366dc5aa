"""The walker registry: who is registered, their tokens, and the rules for ids and tokens.

Held in memory and changed only by the engine (the single writer); request handlers read it
to authenticate (`by_token`) and to show walkers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace

from routes.prepared import PreparedRoute
from tracking.storage.base import WalkerRecord
from tracking.walker_state import WalkerState

TOKEN_BYTES = 24  # 32 URL-safe characters: unguessable, short enough for a QR code


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_walker_id() -> str:
    return "w" + secrets.token_hex(6)


class Registry:
    def __init__(self, route_for: Callable[[WalkerRecord], PreparedRoute | None]) -> None:
        self.route_for = route_for
        self.walkers: dict[str, WalkerState] = {}
        self._by_token: dict[str, str] = {}
        self._by_bib: dict[str, str] = {}

    def clear(self) -> None:
        self.walkers.clear()
        self._by_token.clear()
        self._by_bib.clear()

    def __iter__(self) -> Iterator[WalkerState]:
        return iter(self.walkers.values())

    def __len__(self) -> int:
        return len(self.walkers)

    def by_token(self, token: str) -> WalkerState | None:
        walker_id = self._by_token.get(token)
        return self.walkers.get(walker_id) if walker_id else None

    def by_bib(self, bib: str) -> WalkerState | None:
        walker_id = self._by_bib.get(bib)
        return self.walkers.get(walker_id) if walker_id else None

    def fresh_id(self) -> str:
        while (walker_id := new_walker_id()) in self.walkers:
            pass
        return walker_id

    def add(self, record: WalkerRecord) -> WalkerState:
        state = WalkerState(record, self.route_for(record))
        self.walkers[record.id] = state
        self._by_token[record.token] = record.id
        if record.bib:
            self._by_bib[record.bib] = record.id
        return state

    def remove(self, state: WalkerState) -> None:
        self.walkers.pop(state.id, None)
        self._by_token.pop(state.record.token, None)
        if state.record.bib and self._by_bib.get(state.record.bib) == state.id:
            del self._by_bib[state.record.bib]

    def update(self, state: WalkerState, record: WalkerRecord) -> None:
        """A changed record (token, bib, status, personal route): keep the indexes right."""
        old = state.record
        if old.token != record.token:
            self._by_token.pop(old.token, None)
            self._by_token[record.token] = state.id
        if old.bib != record.bib:
            if self._by_bib.get(old.bib) == state.id:
                del self._by_bib[old.bib]
            if record.bib:
                self._by_bib[record.bib] = state.id
        state.record = record
        if old.personal_gpx != record.personal_gpx or old.route_id != record.route_id:
            state.route = self.route_for(record)

    def with_token(self, state: WalkerState, token: str) -> WalkerRecord:
        return replace(state.record, token=token)
