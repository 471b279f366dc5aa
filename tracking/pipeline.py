"""The life of a GPS fix, in one place: validate → de-duplicate → match → check in → store → broadcast.

`Tracker` is the stateful edge around the pure core: it holds every walker's state in memory,
writes through `Storage` (a fix is acknowledged only after the commit) and tells the live
`Broadcaster` what changed. All calls run on the event loop, one at a time, so one walker's
fixes are processed in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from routes.event import Event
from routes.prepared import PreparedRoute
from tracking.alerts import AlertRules, alert_checks
from tracking.checkins import CheckIn, TooFar, manual_checkin
from tracking.fixes import Fix
from tracking.hub import Broadcaster
from tracking.matching import Anchor
from tracking.progress import Progress, StepParams, advance, replay
from tracking.settings import Settings
from tracking.storage.base import Alert, Storage, StoredFix, WalkerRecord
from tracking.validation import Limits, rejection
from tracking.walker_state import WalkerState

RECENT_ON_RESTART = 200


@dataclass(frozen=True)
class Rejected:
    id: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    rejected: tuple[Rejected, ...]


class Tracker:
    def __init__(
        self,
        settings: Settings,
        event: Event,
        storage: Storage,
        hub: Broadcaster,
        personal_route: Callable[[WalkerRecord], PreparedRoute | None] = lambda record: None,
    ) -> None:
        self.settings = settings
        self.event = event
        self.store = storage
        self.hub = hub
        self._personal_route = personal_route
        self.walkers: dict[str, WalkerState] = {}
        self._by_token: dict[str, str] = {}
        self.rules = AlertRules.from_settings(settings)

    # --- walkers -------------------------------------------------------------------------
    def route_for(self, record: WalkerRecord) -> PreparedRoute | None:
        if record.route_id in self.event.routes:
            return self.event.routes[record.route_id].route
        return self._personal_route(record)

    def add_walker(self, record: WalkerRecord) -> WalkerState:
        self.store.add_walker(record)
        self.store.commit()
        return self._remember(record)

    def _remember(self, record: WalkerRecord) -> WalkerState:
        state = WalkerState(record, self.route_for(record))
        self.walkers[record.id] = state
        self._by_token[record.token] = record.id
        self.hub.walker_changed(record.id)
        return state

    def by_token(self, token: str) -> WalkerState | None:
        walker_id = self._by_token.get(token)
        return self.walkers.get(walker_id) if walker_id else None

    def forget_walker(self, state: WalkerState) -> None:
        """Delete a walker and every position, check-in and alert of theirs."""
        self.store.delete_walker(state.id)
        self.store.commit()
        self.walkers.pop(state.id, None)
        self._by_token.pop(state.record.token, None)
        self.hub.publish({"type": "removed", "walker_id": state.id})

    def new_token(self, state: WalkerState, token: str) -> None:
        """Revoke the walker's link: the old token is refused from now on."""
        self.store.set_token(state.id, token)
        self.store.commit()
        self._by_token.pop(state.record.token, None)
        state.record = replace(state.record, token=token)
        self._by_token[token] = state.id

    def update_walker(self, state: WalkerState, record: WalkerRecord) -> None:
        self.store.update_walker(record)
        self.store.commit()
        state.record = record
        if state.route is None or record.personal_gpx:
            state.route = self.route_for(record)
            self._replay(state)
            self.store.commit()
        self.hub.walker_changed(state.id)

    # --- the life of a fix -----------------------------------------------------------------
    def ingest(self, state: WalkerState, fixes: list[Fix], now: datetime) -> IngestResult:
        """Validate, de-duplicate, match, check in, store; commit; then tell the dashboards."""
        limits = self._limits(now)
        params = self._params(limits)
        accepted, duplicates, rejected, late = 0, 0, [], False
        for fix in sorted(fixes, key=lambda f: f.recorded_at):
            reason = rejection(fix, limits)
            if reason:
                rejected.append(Rejected(fix.client_id, reason))
                self.store.count("fixes_rejected")
                continue
            if self.store.has_fix(state.id, fix):
                duplicates += 1
                continue
            last = state.progress.last_fix
            if last is not None and fix.recorded_at < last.recorded_at:
                self.store.add_fix(state.id, StoredFix(fix, ("late",), None, None))
                late = True
            else:
                self._step(state, fix, params)
            self._on_fix_alerts(state, fix)
            accepted += 1
        if late:
            self._replay(state)
        self.store.count("fixes_accepted", accepted)
        self.store.commit()
        self.hub.walker_changed(state.id)
        return IngestResult(accepted, duplicates, tuple(rejected))

    def _step(self, state: WalkerState, fix: Fix, params: StepParams) -> None:
        step = advance(state.progress, state.route, fix, params)
        state.progress = step.progress
        matched = not step.flags
        self.store.add_fix(
            state.id,
            StoredFix(
                fix,
                step.flags,
                step.progress.distance_along_m if matched else None,
                step.progress.offset_m if matched else None,
            ),
        )
        for checkin in step.checkins:
            self._check_in(state, checkin)
        if step.became_off_route:
            self.raise_alert(
                state,
                "off_route",
                fix.recorded_at,
                f"{state.progress.offset_m:.0f} m from the route",
                fix,
            )
        elif not state.progress.off_route:
            self.resolve_kind(state, "off_route", fix.recorded_at)

    def _replay(self, state: WalkerState) -> None:
        """Rebuild progress from the stored history after late fixes; never move it backwards."""
        stored = self.store.fixes(state.id)
        params = self._params(self._limits(datetime.max.replace(tzinfo=UTC)))
        progress, found = replay(state.route, [s.fix for s in stored], params)
        live = state.progress
        state.progress = replace(
            progress,
            distance_along_m=max(progress.distance_along_m, live.distance_along_m)
            if live.last_fix and progress.last_fix == live.last_fix
            else progress.distance_along_m,
        )
        for checkin in found:
            if checkin.checkpoint_id not in state.checkins:
                self._check_in(state, checkin)

    def _resume(self, state: WalkerState) -> None:
        """After a restart: start from the last stored match and replay only the recent fixes.

        Replaying every walker's whole day would take minutes at 2,000 walkers; the stored
        per-fix progress makes it unnecessary.
        """
        recent = self.store.recent_fixes(state.id, RECENT_ON_RESTART)
        seed = next((s for s in recent if s.distance_along_m is not None), None)
        if seed is None or seed.distance_along_m is None:
            # No recent fix moved progress (all flagged or late): only the whole day tells.
            self._replay(state)
            return
        along = seed.distance_along_m  # the distance walked, for a walker with no route
        start = Progress(
            checked=frozenset(state.checkins),
            distance_along_m=along,
            anchor=Anchor(along, seed.fix.recorded_at),
        )
        recent = recent[recent.index(seed) :]
        params = self._params(self._limits(datetime.max.replace(tzinfo=UTC)))
        state.progress, found = replay(state.route, [s.fix for s in recent], params, start)
        for checkin in found:
            self._check_in(state, checkin)

    def _check_in(self, state: WalkerState, checkin: CheckIn) -> None:
        if checkin.checkpoint_id in state.checkins:
            return
        if self.store.add_checkin(state.id, checkin):
            state.checkins[checkin.checkpoint_id] = checkin
            state.progress = replace(
                state.progress, checked=state.progress.checked | {checkin.checkpoint_id}
            )
            self.hub.publish(
                {
                    "type": "checkin",
                    "walker_id": state.id,
                    "checkpoint_id": checkin.checkpoint_id,
                    "at": checkin.at.isoformat(),
                    "source": checkin.source,
                    "out_of_order": checkin.out_of_order,
                }
            )

    def manual_checkin(
        self, state: WalkerState, lon: float, lat: float, accuracy_m: float, at: datetime
    ) -> CheckIn | TooFar:
        """The walker's check-in button; the position is also kept as a fix."""
        if state.route is None or not state.route.checkpoints:
            raise LookupError("your route has no check-in points")
        result = manual_checkin(
            state.route,
            lon,
            lat,
            accuracy_m,
            at,
            self.event.checkin_radius_m,
            self.settings.checkin_accuracy_cap_m,
            state.progress.distance_along_m,
            frozenset(state.checkins),
        )
        if isinstance(result, CheckIn):
            existing = state.checkins.get(result.checkpoint_id)
            if existing is not None:
                return existing
            self._check_in(state, result)
            self.store.commit()
            self.hub.walker_changed(state.id)
        return result

    # --- alerts -------------------------------------------------------------------------
    def _on_fix_alerts(self, state: WalkerState, fix: Fix) -> None:
        if fix.sos:
            self.raise_alert(state, "sos", fix.recorded_at, "SOS from the phone", fix)
        for kind in ("silent", "stationary"):
            if kind == "silent" or state.progress.still_since == fix.recorded_at:
                self.resolve_kind(state, kind, fix.recorded_at)
        if fix.battery_pct is not None and fix.battery_pct < self.settings.low_battery_pct:
            self.raise_alert(
                state, "battery", fix.recorded_at, f"battery at {fix.battery_pct:.0f} %", fix
            )

    def raise_alert(
        self, state: WalkerState, kind: str, at: datetime, message: str, fix: Fix | None = None
    ) -> Alert | None:
        """One open alert per walker and kind; a new one only after the last was resolved."""
        if kind in state.open_alerts:
            return None
        where = fix or state.progress.last_fix
        alert = self.store.add_alert(
            state.id, kind, at, where.lat if where else None, where.lon if where else None, message
        )
        state.open_alerts[kind] = alert.id
        self.hub.publish({"type": "alert", **alert_view(alert, state)})
        self.hub.walker_changed(state.id)
        return alert

    def resolve_kind(self, state: WalkerState, kind: str, at: datetime) -> None:
        alert_id = state.open_alerts.get(kind)
        if alert_id is not None:
            self.set_alert_state(alert_id, "resolved", at)

    def set_alert_state(self, alert_id: int, new_state: str, at: datetime) -> Alert | None:
        alert = self.store.set_alert_state(alert_id, new_state, at)
        if alert is None:
            return None
        state = self.walkers.get(alert.walker_id)
        if state is not None and new_state == "resolved":
            if state.open_alerts.get(alert.kind) == alert.id:
                del state.open_alerts[alert.kind]
            self.hub.walker_changed(state.id)
        self.store.commit()
        self.hub.publish({"type": "alert", **alert_view(alert, state)})
        return alert

    def sweep(self, now: datetime) -> None:
        """Alerts that come from the clock: silent, standing still, past a closing time."""
        for state in self.walkers.values():
            for kind, message in alert_checks(state, self.event, now, self.rules):
                self.raise_alert(state, kind, now, message)
        self.store.commit()

    # --- restart ------------------------------------------------------------------------
    def load(self) -> None:
        """Rebuild every walker's state from storage (after a restart or a crash)."""
        checkins = self.store.all_checkins()
        open_alerts = [a for a in self.store.alerts() if a.state != "resolved"]
        for record in self.store.walkers():
            state = self._remember(record)
            state.checkins = {c.checkpoint_id: c for c in checkins.get(record.id, [])}
            self._resume(state)
        for alert in sorted(open_alerts, key=lambda a: a.id):
            if alert.walker_id in self.walkers:
                self.walkers[alert.walker_id].open_alerts[alert.kind] = alert.id

    # --- helpers ------------------------------------------------------------------------
    def _limits(self, now: datetime) -> Limits:
        return Limits(
            now=now,
            not_before=self.event.day_start,
            future_tolerance_s=self.settings.future_tolerance_s,
            max_accuracy_m=self.settings.max_accuracy_m,
            max_speed_kmh=self.settings.max_speed_kmh,
        )

    def _params(self, limits: Limits) -> StepParams:
        s = self.settings
        return StepParams(
            radius_m=self.event.checkin_radius_m,
            max_speed_mps=s.max_speed_kmh / 3.6,
            off_route_m=s.off_route_m,
            back_on_route_m=s.back_on_route_m,
            off_route_after=timedelta(minutes=s.off_route_minutes),
            limits=limits,
        )


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
