"""The life of the fixes of one tick, from every walker at once: the pipeline in order.

    admit (refuse or correct each fix)  →  de-duplicate  →  split live from late
    →  live: rounds of `progress.step_round` (batched match, check-ins, off route, pace)
    →  late: `late.late_step` between neighbours in time
    →  record: fixes, check-ins and alerts into the tick's write batch

Runs inside the engine's tick, on the event loop, with no I/O: the neighbours of late fixes
were read before (`Plan.late_queries`), and the tick's batch is committed after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from routes.event import Event
from tracking.alerting import Alerting, Tick
from tracking.checkins import CheckIn, Passage, region_checkin
from tracking.fixes import Fix
from tracking.late import Known, late_step, neighbours
from tracking.progress import Step, StepParams, step_round
from tracking.protocols import Decoded
from tracking.settings import Settings
from tracking.storage.base import LateLookup, Neighbour, StoredFix
from tracking.validation import Admitted, Limits, Refusal, admit
from tracking.walker_state import WalkerState


@dataclass
class Intake:
    """One request's fixes for one walker, and what became of them (the request's answer)."""

    state: WalkerState
    decoded: Decoded
    accepted: int = 0
    duplicates: int = 0
    refused: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    intake: Intake
    admitted: Admitted

    @property
    def fix(self) -> Fix:
        return self.admitted.fix


@dataclass
class Plan:
    """The tick's fixes per walker, split into live (newer than the walker's last) and late."""

    live: dict[WalkerState, list[Entry]] = field(default_factory=dict)
    late: list[tuple[WalkerState, Entry]] = field(default_factory=list)

    def late_queries(self) -> list[tuple[str, Fix]]:
        return [(state.id, entry.fix) for state, entry in self.late]


class FixPath:
    def __init__(self, settings: Settings, event: Event, alerting: Alerting) -> None:
        self.settings = settings
        self.event = event
        self.alerting = alerting

    def limits(self, now: datetime) -> Limits:
        s = self.settings
        return Limits(
            now=now,
            not_before=self.event.day_start,
            future_tolerance_s=s.future_tolerance_s,
            max_accuracy_m=s.max_accuracy_m,
            max_speed_kmh=s.max_speed_kmh,
        )

    def params(self, now: datetime) -> StepParams:
        s = self.settings
        return StepParams(
            radius_m=self.event.checkin_radius_m,
            max_speed_mps=s.max_speed_kmh / 3.6,
            off_route_m=s.off_route_m,
            back_on_route_m=s.back_on_route_m,
            off_route_after_s=s.off_route_minutes * 60.0,
            limits=self.limits(now),
        )

    # --- before the tick's reads --------------------------------------------------------
    def plan(self, intakes: Sequence[Intake], now: datetime) -> Plan:
        """Admit every fix, drop repeats within the tick, and split live from late."""
        limits = self.limits(now)
        per_walker: dict[WalkerState, list[Entry]] = {}
        now_ts = now.timestamp()
        for intake in intakes:
            intake.refused.extend(intake.decoded.refusals)
            _phone_says(intake.state, intake.decoded)
            fixes = intake.decoded.fixes
            ahead = max((f.ts for f in fixes), default=now_ts) - now_ts
            for fix in fixes:
                verdict = admit(fix, limits, ahead)
                if isinstance(verdict, Refusal):
                    intake.refused.append(verdict)
                else:
                    per_walker.setdefault(intake.state, []).append(Entry(intake, verdict))
        plan = Plan()
        for state, entries in per_walker.items():
            entries.sort(key=lambda e: e.fix.ts)
            last = state.last_ts()
            seen: set[tuple[float, str]] = set()
            for entry in entries:
                key = (entry.fix.ts, entry.fix.client_id)
                if key in seen:
                    entry.intake.duplicates += 1
                    continue
                seen.add(key)
                if entry.fix.ts > last:
                    plan.live.setdefault(state, []).append(entry)
                else:
                    plan.late.append((state, entry))
        return plan

    # --- the tick itself ----------------------------------------------------------------
    def apply(self, plan: Plan, lookups: Sequence[LateLookup], tick: Tick, now: datetime) -> None:
        params = self.params(now)
        known: dict[WalkerState, list[Known]] = {}
        queues = {state: iter(entries) for state, entries in plan.live.items()}
        while queues:
            round_: list[tuple[WalkerState, Entry]] = []
            for state, queue in list(queues.items()):
                entry = next(queue, None)
                if entry is None:
                    del queues[state]
                else:
                    round_.append((state, entry))
            if not round_:
                break
            for state, entry in round_:
                _observe_interval(state, entry.fix)
            steps = step_round([(s, e.fix) for s, e in round_], params)
            for (state, entry), step in zip(round_, steps, strict=True):
                self._record(tick, state, entry, step, live=True)
                passage = state.progress.passage
                if step.distance_along_m is not None and passage is not None:
                    known.setdefault(state, []).append(Known(entry.fix.ts, passage))
        for (state, entry), lookup in zip(plan.late, lookups, strict=True):
            if lookup.exists:
                entry.intake.duplicates += 1
                continue
            before, after = neighbours(
                known.get(state, []),
                entry.fix.ts,
                _known(state, lookup.before),
                _known(state, lookup.after),
            )
            step, here = late_step(
                state, entry.fix, before, after, params.radius_m, params.max_speed_mps
            )
            self._record(tick, state, entry, step, live=False)
            if here is not None:
                known.setdefault(state, []).append(here)

    def _record(self, tick: Tick, state: WalkerState, entry: Entry, step: Step, live: bool) -> None:
        fix = entry.fix
        flags = entry.admitted.flags + fix.flags + step.flags
        tick.batch.fixes.append(
            (state.id, StoredFix(fix, flags, step.distance_along_m, step.offset_m))
        )
        entry.intake.accepted += 1
        tick.touch(state)
        health = state.health
        for flag in flags:
            if flag != "late":
                health.flagged[flag] = health.flagged.get(flag, 0) + 1
        for checkin in step.checkins:
            record_checkin(tick, state, checkin)
        if fix.raw.get("_type") == "transition" and fix.raw.get("event") == "enter":
            self._entered(tick, state, fix)
        if step.became_off_route:
            self.alerting.raise_alert(
                tick,
                state,
                "off_route",
                fix.recorded_at,
                f"{state.progress.offset_m:.0f} m from the route",
                fix,
            )
        elif live and step.offset_m is not None and not state.progress.off_route:
            self.alerting.resolve_kind(tick, state, "off_route", fix.recorded_at)
        self.alerting.on_fix(tick, state, fix, live)

    def _entered(self, tick: Tick, state: WalkerState, fix: Fix) -> None:
        """OwnTracks entered one of its regions: the check-in point of the same id or name."""
        if state.route is None:
            return
        region = str(fix.raw.get("rid") or fix.raw.get("desc") or "")
        checkin = region_checkin(
            state.route,
            region,
            fix.lon,
            fix.lat,
            fix.accuracy_m or 0.0,
            fix.recorded_at,
            self.event.checkin_radius_m,
            self.settings.checkin_accuracy_cap_m,
            frozenset(state.checkins),
        )
        if checkin is not None:
            record_checkin(tick, state, checkin)

    def finish(self, intakes: Sequence[Intake], tick: Tick, now: datetime) -> None:
        """After the fixes: heartbeats, refusals and counters of each request."""
        for intake in intakes:
            state, decoded, health = intake.state, intake.decoded, intake.state.health
            if decoded.app:
                health.app = decoded.app
            alive = decoded.alive
            if alive is not None and (health.last_seen is None or alive.at > health.last_seen):
                health.last_seen = alive.at
                if alive.battery_pct is not None:
                    health.battery_pct = alive.battery_pct
                if "silent" in state.open_alerts and not decoded.fixes:
                    self.alerting.resolve_kind(tick, state, "silent", alive.at)
                self.alerting.on_battery(tick, state, health.battery_pct, health.charging, alive.at)
                tick.touch(state)
            for refusal in intake.refused:
                health.refusals[refusal.code] = health.refusals.get(refusal.code, 0) + 1
                health.last_refusal = (refusal.code, refusal.message, now)
                tick.batch.count(f"fixes_refused_{refusal.code}")
                tick.touch(state)
            tick.batch.count("fixes_accepted", intake.accepted)
            tick.batch.count("fixes_rejected", len(intake.refused))


def _phone_says(state: WalkerState, decoded: Decoded) -> None:
    """Charging and motion as the phone reports them now, before its fixes are judged (a low
    battery on a power bank is no alarm)."""
    alive = decoded.alive
    seen = state.health.last_seen
    if alive is None or (seen is not None and alive.at < seen):
        return
    if alive.charging is not None:
        state.health.charging = alive.charging
    state.health.moving = alive.moving


INTERVAL_WEIGHT = 0.2  # moving average of the observed interval: recent fixes count most


def _observe_interval(state: WalkerState, fix: Fix) -> None:
    last = state.progress.last_fix
    if last is None:
        return
    gap = fix.ts - last.ts
    h = state.health
    h.interval_s = (
        gap if not h.interval_s else h.interval_s + INTERVAL_WEIGHT * (gap - h.interval_s)
    )


def record_checkin(tick: Tick, state: WalkerState, checkin: CheckIn) -> bool:
    """Keep a check-in once per point: the first one found stands."""
    if checkin.checkpoint_id in state.checkins:
        return False
    state.checkins[checkin.checkpoint_id] = checkin
    state.progress.checked = state.progress.checked | {checkin.checkpoint_id}
    tick.batch.checkins.append((state.id, checkin))
    tick.events.append(
        {
            "type": "checkin",
            "walker_id": state.id,
            "checkpoint_id": checkin.checkpoint_id,
            "at": checkin.at.isoformat(),
            "source": checkin.source,
            "out_of_order": checkin.out_of_order,
        }
    )
    tick.touch(state)
    return True


def _known(state: WalkerState, n: Neighbour | None) -> Known | None:
    if n is None or state.route is None:
        return None
    x, y = state.route.to_xy(n.lon, n.lat)
    return Known(n.ts, Passage(x, y, datetime.fromtimestamp(n.ts, UTC), n.distance_along_m))
