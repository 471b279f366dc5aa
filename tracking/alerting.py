"""Alerting: alerts raised by fixes (SOS, off route, battery) and by the clock (silent, not
moving, past a closing time); acknowledge and resolve.

Runs inside the engine's tick, so every change lands in the tick's write batch and its feed
events. One open alert per walker and kind; a new one only after the last was resolved.
Alert ids are given here (the engine is the only writer), so raising costs no round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from routes.event import Event
from tracking.alerts import AlertRules, alert_checks
from tracking.fixes import Fix
from tracking.storage.base import Alert, WriteBatch
from tracking.walker_state import WalkerState


@dataclass
class Tick:
    """What one engine tick changed: written in one commit, then told to the dashboards."""

    batch: WriteBatch
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    deleted: list[str] = field(default_factory=list)

    def touch(self, state: WalkerState) -> None:
        self.changed.add(state.id)


class Alerting:
    def __init__(self, rules: AlertRules, low_battery_pct: float) -> None:
        self.rules = rules
        self.low_battery_pct = low_battery_pct
        self.alerts: dict[int, Alert] = {}
        self._next_id = 1
        self.node = 0  # in a cluster, alert ids carry the process's number: node << 32 | n

    def load(self, alerts: list[Alert], walkers: dict[str, WalkerState], node: int = 0) -> None:
        self.node = node
        for alert in sorted(alerts, key=lambda a: a.id):
            self.alerts[alert.id] = alert
            state = walkers.get(alert.walker_id)
            if alert.state != "resolved" and state is not None:
                state.open_alerts[alert.kind] = alert.id
        low, high = node << 32, (node + 1) << 32
        mine = [i for i in self.alerts if low <= i < high]
        self._next_id = max(mine, default=low) + 1

    def remember(self, alert: Alert) -> None:
        """An alert raised or changed by another process of the cluster."""
        self.alerts[alert.id] = alert

    def listed(self, state: str | None = None) -> list[Alert]:
        """Newest first, as the dashboard lists them."""
        found = [a for a in self.alerts.values() if state is None or a.state == state]
        return sorted(found, key=lambda a: (a.at, a.id), reverse=True)

    def forget(self, walker_id: str) -> None:
        for alert_id in [i for i, a in self.alerts.items() if a.walker_id == walker_id]:
            del self.alerts[alert_id]

    # --- raising and resolving ----------------------------------------------------------
    def raise_alert(
        self,
        tick: Tick,
        state: WalkerState,
        kind: str,
        at: datetime,
        message: str,
        fix: Fix | None = None,
    ) -> Alert | None:
        if kind in state.open_alerts:
            return None
        where = fix or state.progress.last_fix
        alert = Alert(
            self._next_id,
            state.id,
            kind,
            at,
            where.lat if where else None,
            where.lon if where else None,
            message,
        )
        self._next_id += 1
        self.alerts[alert.id] = alert
        state.open_alerts[kind] = alert.id
        self._changed(tick, alert, state)
        return alert

    def resolve_kind(self, tick: Tick, state: WalkerState, kind: str, at: datetime) -> None:
        alert_id = state.open_alerts.get(kind)
        if alert_id is not None:
            self.set_state(tick, alert_id, "resolved", at, state)

    def set_state(
        self,
        tick: Tick,
        alert_id: int,
        new_state: str,
        at: datetime,
        state: WalkerState | None,
    ) -> Alert | None:
        """Acknowledge (someone is on it) or resolve; resolved is final."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            return None
        if alert.state == "resolved":
            return alert
        acked = alert.acked_at or (at if new_state == "acknowledged" else None)
        alert = replace(alert, state=new_state, acked_at=acked)
        self.alerts[alert_id] = alert
        if (
            state is not None
            and new_state == "resolved"
            and state.open_alerts.get(alert.kind) == alert.id
        ):
            del state.open_alerts[alert.kind]
        self._changed(tick, alert, state)
        return alert

    def _changed(self, tick: Tick, alert: Alert, state: WalkerState | None) -> None:
        tick.batch.alerts.append(alert)
        tick.events.append({"type": "alert", **alert_view(alert, state)})
        if state is not None:
            tick.touch(state)

    # --- what fixes and the clock raise -------------------------------------------------
    def on_fix(self, tick: Tick, state: WalkerState, fix: Fix, live: bool) -> None:
        """Alerts a fix raises or clears; a late fix raises only an SOS."""
        if fix.sos:
            self.raise_alert(tick, state, "sos", fix.recorded_at, "SOS from the phone", fix)
        if not live:
            return
        if "silent" in state.open_alerts:
            self.resolve_kind(tick, state, "silent", fix.recorded_at)
        if "stationary" in state.open_alerts and state.progress.still_since == fix.recorded_at:
            self.resolve_kind(tick, state, "stationary", fix.recorded_at)
        self.on_battery(tick, state, fix.battery_pct, state.health.charging, fix.recorded_at, fix)

    def on_battery(
        self,
        tick: Tick,
        state: WalkerState,
        pct: float | None,
        charging: bool | None,
        at: datetime,
        fix: Fix | None = None,
    ) -> None:
        """Low battery raises an alert, unless charging; charging or a recovered battery clears it."""
        if pct is None:
            return
        if pct < self.low_battery_pct and not charging:
            self.raise_alert(tick, state, "battery", at, f"battery at {pct:.0f} %", fix)
        elif "battery" in state.open_alerts and (charging or pct >= self.low_battery_pct + 5):
            self.resolve_kind(tick, state, "battery", at)

    def due(self, walkers: list[WalkerState], event: Event, now: datetime) -> list[str]:
        """Walkers for whom the clock would raise a new alert now (reading only)."""
        return [
            s.id
            for s in walkers
            if any(k not in s.open_alerts for k, _ in alert_checks(s, event, now, self.rules))
        ]

    def sweep(self, tick: Tick, walkers: list[WalkerState], event: Event, now: datetime) -> None:
        for state in walkers:
            for kind, message in alert_checks(state, event, now, self.rules):
                self.raise_alert(tick, state, kind, now, message)


def alert_view(alert: Alert, state: WalkerState | None) -> dict:
    return {
        "id": alert.id,
        "walker_id": alert.walker_id,
        "walker_name": state.record.name if state else "",
        "bib": state.record.bib if state else "",
        "kind": alert.kind,
        "at": alert.at.isoformat(),
        "lat": alert.lat,
        "lon": alert.lon,
        "message": alert.message,
        "state": alert.state,
        "acked_at": alert.acked_at.isoformat() if alert.acked_at else None,
    }
