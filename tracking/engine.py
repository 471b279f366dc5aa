"""The engine: the one ordered path on which tracking state and the database change.

Every change (fixes from every protocol, check-ins, SOS, registrations, status changes,
revoke and delete, alert acknowledge and resolve, the clock sweep, purge, a personal route
attached) is a job on one queue. One task takes the jobs waiting, as a tick:

1. reads what late fixes need (their neighbours in time) on the writer's thread;
2. applies the tick on the event loop, with no I/O: first all fixes of the tick, per walker
   in time order (`fixpath`), then the other jobs in the order they came;
3. writes the tick's batch and commits, once for all its requests, on the writer's own
   thread, so the event loop never waits for the disk;
4. answers the requests (acknowledged only after the commit) and tells the dashboards.

Request handlers never change state themselves: they decode, await one engine method, and
encode. Readers (views, the live feed) read the in-memory state between ticks, which is
never half-applied. A restart loads each walker's saved state, never their fixes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from routes.event import Event
from tracking.alerting import Alerting, Tick
from tracking.alerts import AlertRules
from tracking.checkins import CheckIn, TooFar, manual_checkin
from tracking.cluster import Cluster
from tracking.fixes import Fix
from tracking.fixpath import FixPath, Intake, record_checkin
from tracking.follow import Follows
from tracking.hub import Broadcaster
from tracking.progress import step_round
from tracking.protocols import Decoded
from tracking.registry import Registry, new_token
from tracking.settings import Settings
from tracking.stations import Stations, bib_from
from tracking.storage.base import (
    Alert,
    FollowLink,
    Loaded,
    Station,
    StationAnswer,
    Storage,
    WalkerRecord,
    WriteBatch,
)
from tracking.walker_state import WalkerState, restore, saved

log = logging.getLogger("refugee_walk.engine")

T = TypeVar("T")
MAX_JOBS_PER_TICK = 4096
PURGED = "purged"  # a purge job's result until the commit says how many positions went


class Unavailable(RuntimeError):
    """The database could not commit: nothing of the tick was acknowledged (HTTP 503)."""


class Refused(ValueError):
    """A request the engine will not carry out, with the reason for the person (HTTP 4xx)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class Job:
    intake: Intake | None
    action: Callable[[Tick], Any] | None
    future: asyncio.Future
    walkers: tuple[str, ...] = ()  # whom it changes: in a cluster, leased for the tick
    leased: bool = False


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    def __init__(
        self,
        settings: Settings,
        event: Event,
        registry: Registry,
        hub: Broadcaster,
        clock: Callable[[], datetime] = utc_now,
        cluster: Cluster | None = None,
    ) -> None:
        self.cluster = cluster
        self._deferred: list[Job] = []
        self._dirty = False
        self.settings = settings
        self.event = event
        self.registry = registry
        self.hub = hub
        self.clock = clock
        self.alerting = Alerting(AlertRules.from_settings(settings), settings.low_battery_pct)
        self.fixpath = FixPath(settings, event, self.alerting)
        self.stations = Stations(registry, event)
        self.follows = Follows()
        self.store: Storage | None = None
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="writer")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="reader")
        self.ticks = 0

    # --- what readers see ---------------------------------------------------------------
    @property
    def walkers(self) -> dict[str, WalkerState]:
        return self.registry.walkers

    def by_token(self, token: str) -> WalkerState | None:
        return self.registry.by_token(token)

    def alerts(self, state: str | None = None) -> list[Alert]:
        return self.alerting.listed(state)

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Run a blocking read (history, export) on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: query(*args))

    # --- start and stop -------------------------------------------------------------------
    async def start(self, storage: Storage) -> None:
        """Load every walker's saved state (O(walkers), never their fixes), then take jobs."""
        self.store = storage
        loop = asyncio.get_running_loop()
        loaded = await loop.run_in_executor(self._writer, storage.load)
        self._load(loaded)
        unsaved = [s for s in self.registry if s.id not in loaded.states]
        if unsaved:
            await self._rebuild(unsaved)
        if self.cluster is not None:
            await self.cluster.start(self._apply_remote, self._resync)
            self.alerting.load([], self.registry.walkers, self.cluster.node)
        self._task = asyncio.create_task(self._run(), name="engine")

    async def _rebuild(self, states: list[WalkerState]) -> None:
        """Once, for a database written before states were saved: replay and save them."""
        assert self.store is not None
        params = self.fixpath.params(datetime.max.replace(tzinfo=UTC))
        batch = WriteBatch(received_at=self.clock().timestamp())
        for state in states:
            history = await self.read(self.store.fixes, state.id)
            for stored in history:
                if stored.flags and "late" in stored.flags:
                    continue
                step_round([(state, stored.fix)], params)
            batch.states[state.id] = saved(state)
        await self._write(batch)
        log.info(
            "saved the matching state of %d walkers (first start on this version)", len(states)
        )

    async def stop(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(Unavailable("the server is shutting down"))
        loop = asyncio.get_running_loop()
        if self.store is not None:
            await loop.run_in_executor(self._writer, self.store.close)
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=False)

    # --- the jobs -------------------------------------------------------------------------
    async def _submit(
        self,
        intake: Intake | None,
        action: Callable[[Tick], Any] | None,
        walkers: tuple[str, ...] = (),
    ) -> Any:
        if self._task is None or self._task.done():
            raise Unavailable("the server is starting or stopping; try again in a moment")
        future = asyncio.get_running_loop().create_future()
        if intake is not None:
            walkers = (*walkers, intake.state.id)
        self._queue.put_nowait(Job(intake, action, future, walkers))
        return await future

    async def ingest(self, state: WalkerState, decoded: Decoded) -> Intake:
        """Fixes (and heartbeats) from any protocol; the answer counts what became of them."""
        intake = Intake(state, decoded)
        await self._submit(intake, None)
        return intake

    async def check_in(self, state: WalkerState, fix: Fix, accuracy_m: float) -> CheckIn | TooFar:
        """The walker's check-in button: the position is kept as a fix, then the check-in."""
        intake = Intake(state, Decoded(state.record.token, (fix,)))

        def action(tick: Tick) -> CheckIn | TooFar:
            if intake.refused:
                raise Refused(f"{intake.refused[0].message}; check in again from the page")
            route = state.route
            if route is None or not route.checkpoints:
                raise Refused("your route has no check-in points", status=409)
            result = manual_checkin(
                route,
                fix.lon,
                fix.lat,
                accuracy_m,
                fix.recorded_at,
                self.event.checkin_radius_m,
                self.settings.checkin_accuracy_cap_m,
                state.progress.distance_along_m,
                frozenset(state.checkins),
            )
            if isinstance(result, CheckIn):
                existing = state.checkins.get(result.checkpoint_id)
                if existing is not None:
                    return existing
                record_checkin(tick, state, result)
            return result

        return await self._submit(intake, action)

    async def sos(self, state: WalkerState, fix: Fix | None, message: str) -> int:
        """An SOS from the walker page: one open alert, however often it is pressed."""
        intake = Intake(state, Decoded(state.record.token, (fix,) if fix else ()))
        at = fix.recorded_at if fix else None

        def action(tick: Tick) -> int:
            alert = self.alerting.raise_alert(
                tick, state, "sos", at or self.clock(), message or "SOS from the walker page", fix
            )
            return alert.id if alert else state.open_alerts["sos"]

        return await self._submit(intake, action)

    async def register(self, records: list[WalkerRecord]) -> list[WalkerState]:
        """Register walkers, all or none (a bib may be used once)."""

        def action(tick: Tick) -> list[WalkerState]:
            bibs = [r.bib for r in records if r.bib]
            taken = [b for b in bibs if self.registry.by_bib(b) is not None]
            if taken or len(set(bibs)) != len(bibs):
                dup = taken[0] if taken else next(b for b in bibs if bibs.count(b) > 1)
                raise Refused(f"bib {dup} is already registered", status=409)
            now = self.clock()
            added = []
            for record in records:
                record = record if record.created_at else replace(record, created_at=now)
                state = self.registry.add(record)
                tick.batch.walkers_added.append(record)
                tick.touch(state)
                added.append(state)
            return added

        # leased like any change: in a cluster their version starts in step everywhere
        return await self._submit(None, action, tuple(r.id for r in records))

    async def update_walker(self, state: WalkerState, record: WalkerRecord) -> None:
        """Status, details or a personal route: a new route starts matching afresh."""

        def action(tick: Tick) -> None:
            route_changed = record.personal_gpx != state.record.personal_gpx
            self.registry.update(state, record)
            if route_changed:
                state.progress.anchor = None
                state.progress.passage = None
            tick.batch.walkers_updated.append(record)
            tick.touch(state)

        await self._submit(None, action, (state.id,))

    async def revoke(self, state: WalkerState) -> str:
        """A lost phone: the old token is refused from now on; returns the new one."""
        token = new_token()
        await self.update_walker(state, replace(state.record, token=token))
        return token

    async def delete(self, state: WalkerState) -> None:
        """Forget a walker with every position, check-in and alert."""

        def action(tick: Tick) -> None:
            self.registry.remove(state)
            self.alerting.forget(state.id)
            self.follows.forget(state.id)
            self.stations.forget(state.id)
            tick.batch.walkers_deleted.append(state.id)
            tick.changed.discard(state.id)
            tick.events.append({"type": "removed", "walker_id": state.id})
            tick.deleted.append(state.id)

        await self._submit(None, action, (state.id,))

    async def set_alert_state(self, alert_id: int, new_state: str) -> Alert | None:
        def action(tick: Tick) -> Alert | None:
            alert = self.alerting.alerts.get(alert_id)
            owner = self.registry.walkers.get(alert.walker_id) if alert else None
            return self.alerting.set_state(tick, alert_id, new_state, self.clock(), owner)

        known = self.alerting.alerts.get(alert_id)
        return await self._submit(None, action, (known.walker_id,) if known else ())

    async def sweep(self) -> None:
        """Alerts that come from the clock: silent, not moving, past a closing time."""
        await self._submit(
            None,
            lambda tick: self.alerting.sweep(tick, list(self.registry), self.event, self.clock()),
        )

    async def purge(self, before: datetime | None) -> int:
        """Delete stored positions (all, or recorded before `before`)."""

        def action(tick: Tick) -> str:
            tick.batch.purge_before = before
            tick.batch.purge_all = before is None
            return PURGED

        return await self._submit(None, action)

    # --- stations and follow links (tracking/stations.py, tracking/follow.py) -------------
    async def open_station(self, checkpoint_id: str) -> Station:
        if self.stations.checkpoint(checkpoint_id) is None:
            raise Refused(f"no check-in point {checkpoint_id!r}; see /api/routes", status=404)
        return await self._submit(
            None, lambda tick: self.stations.open_station(tick, checkpoint_id, self.clock())
        )

    async def close_station(self, station_id: str) -> Station | None:
        return await self._submit(
            None, lambda tick: self.stations.close_station(tick, station_id, self.clock())
        )

    async def station_check_in(
        self, station: Station, code: str, client_id: str, at: datetime
    ) -> StationAnswer:
        """A volunteer's check-in at their station's point; answered once per client id."""

        def action(tick: Tick) -> StationAnswer:
            current = self.stations.stations.get(station.id)
            if current is None or not current.open:
                raise Refused("this station was closed; ask the organisers for a new link", 410)
            return self.stations.check_in(tick, current, code, client_id, at)

        walker = self.registry.by_bib(bib_from(code))
        return await self._submit(None, action, (walker.id,) if walker else ())

    async def start_follow(self, state: WalkerState, precise: bool, name: str) -> FollowLink:
        """A new follow link for family (the walker's old one ends)."""
        return await self._submit(
            None,
            lambda tick: self.follows.start(tick, state, precise, name, self.clock()),
            (state.id,),
        )

    async def end_follow(self, state: WalkerState) -> bool:
        return await self._submit(
            None, lambda tick: self.follows.end(tick, state, self.clock()), (state.id,)
        )

    # --- the tick -------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            if self._deferred:  # leased elsewhere last time: first in line now
                jobs, self._deferred = self._deferred, []
                await asyncio.sleep(0.005)
            else:
                jobs = [await self._queue.get()]
            while not self._queue.empty() and len(jobs) < MAX_JOBS_PER_TICK:
                jobs.append(self._queue.get_nowait())
            try:
                if self.cluster is not None:
                    jobs = await self._lease(jobs)
                    if not jobs:
                        continue
                await self._tick(jobs)
            except Exception as exc:  # the engine must keep running
                log.exception("engine tick failed")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(
                            Unavailable(f"the server could not do this: {exc}")
                        )
            finally:
                if self.cluster is not None:
                    await self._release(jobs)

    async def _tick(self, jobs: list[Job]) -> None:
        assert self.store is not None
        if self._dirty:  # after a failed commit: the database is the truth
            await self._reload()
            self._dirty = False
        now = self.clock()
        tick = Tick(WriteBatch(received_at=now.timestamp()))
        intakes = [
            j.intake for j in jobs if j.intake is not None and j.intake.state.id in self.walkers
        ]
        plan = self.fixpath.plan(intakes, now)
        queries = plan.late_queries()
        lookups = await self._on_writer(self.store.neighbours, queries) if queries else []
        self.fixpath.apply(plan, lookups, tick, now)
        self.fixpath.finish(intakes, tick, now)
        results: dict[Job, Any] = {}
        for job in jobs:
            if job.action is None:
                continue
            try:
                results[job] = job.action(tick)
            except Exception as exc:  # a refused job fails alone
                results[job] = exc
        for walker_id in tick.changed:
            state = self.walkers.get(walker_id)
            if state is not None:
                state.version += 1
                tick.batch.states[walker_id] = saved(state)
        try:
            written = await self._write(tick.batch)
        except Exception as exc:
            log.warning("commit failed (%s): %d requests answered 503", exc, len(jobs))
            for job in jobs:
                job.future.set_exception(Unavailable(f"the database could not store this: {exc}"))
            self._dirty = True  # memory is ahead of the database: reload before the next tick
            return
        self.ticks += 1
        for job in jobs:
            outcome = results.get(job)
            if outcome is PURGED:
                outcome = written.purged
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)
        for message in tick.events:
            self.hub.publish(message)
        for walker_id in tick.changed:
            self.hub.walker_changed(walker_id)
        if self.cluster is not None:
            await self._release(jobs, tick)
            for job in jobs:
                job.leased = False  # released with the publication

    # --- a cluster of processes (tracking/cluster.py) -----------------------------------------
    async def _lease(self, jobs: list[Job]) -> list[Job]:
        """The jobs whose walkers this process now holds; the others wait for the next tick.

        Walkers last written elsewhere (their version moved on) are loaded from the database.
        """
        assert self.cluster is not None and self.store is not None
        wanted = sorted({w for job in jobs for w in job.walkers})
        versions = await self.cluster.lease(wanted)
        stale = [
            w for w, v in versions.items() if w in self.walkers and v - 1 > self.walkers[w].version
        ]
        if stale:
            fresh = await self._on_writer(self.store.walker_states, stale)
            for walker_id, blob in fresh.items():
                restore(self.walkers[walker_id], blob)
        for walker_id, version in versions.items():  # this tick writes that version
            if walker_id in self.walkers:
                self.walkers[walker_id].version = version - 1
        ready: list[Job] = []
        waiting: list[Job] = []
        for job in jobs:
            (ready if all(w in versions for w in job.walkers) else waiting).append(job)
        self._deferred.extend(waiting)
        held = {w for job in ready for w in job.walkers}
        await self.cluster.release([w for w in versions if w not in held])
        for job in ready:
            job.leased = True
        return ready

    async def _release(self, jobs: list[Job], tick: Tick | None = None) -> None:
        """After the commit: publish what it changed, and give the leases back (one trip)."""
        assert self.cluster is not None
        held = sorted({w for job in jobs if job.leased for w in job.walkers})
        if not held and tick is None:
            return  # released with the tick's publication already
        message = None
        if tick is not None:
            records = tick.batch.walkers_added + tick.batch.walkers_updated
            message = {
                "records": [_record_out(r) for r in records],
                "states": {
                    w: [self.walkers[w].version, blob.decode()]
                    for w, blob in tick.batch.states.items()
                    if w in self.walkers
                },
                "deleted": tick.deleted,
                "events": tick.events,
            }
        try:
            await self.cluster.finish(held, message)
        except Exception:  # the leases expire; the others catch up at their next lease
            log.exception("could not publish a tick or release its leases")

    def _apply_remote(self, message: dict[str, Any]) -> None:
        """Another process committed a tick: bring this process's copy up to date."""
        for raw in message.get("records", []):
            record = _record_in(raw)
            state = self.registry.walkers.get(record.id)
            if state is None:
                self.registry.add(record)
            else:
                self.registry.update(state, record)
        for walker_id, (version, blob) in message.get("states", {}).items():
            state = self.walkers.get(walker_id)
            if state is not None and version > state.version:
                restore(state, blob.encode())
            self.hub.walker_changed(walker_id)
        for walker_id in message.get("deleted", []):
            state = self.walkers.get(walker_id)
            if state is not None:
                self.registry.remove(state)
                self.alerting.forget(walker_id)
        for event in message.get("events", []):
            if event.get("type") == "alert":
                self.alerting.remember(_alert_in(event))
            self.hub.publish(event)

    async def _resync(self) -> None:
        """Back from a lost Redis: reload everything from the database, re-snapshot dashboards."""
        await self._reload()

    async def _write(self, batch: WriteBatch) -> Any:
        assert self.store is not None
        return await self._on_writer(self.store.write, batch)

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args))

    async def _reload(self) -> None:
        """After a failed commit: every walker back as the database has them."""
        assert self.store is not None
        loaded = await self._on_writer(self.store.load)  # first: a failed load changes nothing
        self.registry.clear()
        self.alerting.alerts.clear()
        self._load(loaded)
        if self.cluster is not None:
            self.alerting.load([], self.registry.walkers, self.cluster.node)
        self.hub.resync()

    def _load(self, loaded: Loaded) -> None:
        for record in loaded.walkers:
            state = self.registry.add(record)
            state.checkins = {c.checkpoint_id: c for c in loaded.checkins.get(record.id, [])}
            blob = loaded.states.get(record.id)
            if blob is not None:
                restore(state, blob)
            else:
                state.progress.checked = frozenset(state.checkins)
        self.alerting.load(loaded.alerts, self.registry.walkers)
        self.stations.load(loaded.stations, loaded.station_answers)
        self.follows.load(loaded.follows)


def _record_out(r: WalkerRecord) -> dict[str, Any]:
    return {
        **{k: getattr(r, k) for k in WalkerRecord.__dataclass_fields__ if k != "created_at"},
        "created_at": r.created_at.timestamp() if r.created_at else None,
    }


def _record_in(raw: dict[str, Any]) -> WalkerRecord:
    created = raw.pop("created_at", None)
    at = datetime.fromtimestamp(created, UTC) if created is not None else None
    return WalkerRecord(**raw, created_at=at)


def _alert_in(view: dict[str, Any]) -> Alert:
    acked = view.get("acked_at")
    return Alert(
        id=int(view["id"]),
        walker_id=view["walker_id"],
        kind=view["kind"],
        at=datetime.fromisoformat(view["at"]),
        lat=view.get("lat"),
        lon=view.get("lon"),
        message=view["message"],
        state=view["state"],
        acked_at=datetime.fromisoformat(acked) if acked else None,
    )
