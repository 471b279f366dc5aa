"""What the service knows of one walker right now (kept in memory, rebuilt from storage)."""

from __future__ import annotations

from dataclasses import dataclass, field

from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn
from tracking.progress import Progress
from tracking.storage.base import WalkerRecord


@dataclass
class WalkerState:
    record: WalkerRecord
    route: PreparedRoute | None
    progress: Progress = field(default_factory=Progress)
    checkins: dict[str, CheckIn] = field(default_factory=dict)
    open_alerts: dict[str, int] = field(default_factory=dict)  # kind -> alert id
    walked_m: float = 0.0  # personal walkers without a route: distance walked

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def finished(self) -> bool:
        if self.route is None or not self.checkins:  # the usual case, asked 20,000 times a batch
            return False
        return any(cp.kind == "finish" and cp.id in self.checkins for cp in self.route.checkpoints)
