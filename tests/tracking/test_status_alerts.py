"""A walker's status and the alerts: the pure rules, then the pipeline that raises and resolves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from routes.bundled import event_path
from routes.event import Event, load_event
from routes.prepared import PreparedRoute
from tests.tracking.engine_support import Recorder, engine_on, fixes
from tracking.alerts import ALERT_KINDS, AlertRules, alert_checks
from tracking.checkins import CheckIn, Passage
from tracking.fixes import Fix
from tracking.settings import Settings
from tracking.status import STATUSES, near_checkpoint, walker_status
from tracking.storage.base import WalkerRecord
from tracking.walker_state import Progress, WalkerState

SILENT = timedelta(minutes=15)
RULES = AlertRules(silent_after=SILENT, stationary_after=timedelta(minutes=20), radius_m=75.0)
RADIUS_M = 75.0


@pytest.fixture(scope="module")
def event() -> Event:
    return load_event(event_path("antwerp-2023"))


@pytest.fixture(scope="module")
def route(event: Event) -> PreparedRoute:
    return event.routes["40km"].route


def event_now(event: Event, hhmm: str = "12:00") -> datetime:
    """A time on the event day (so the closing times mean something)."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(event.date, datetime.min.time(), event.timezone).replace(
        hour=h, minute=m
    )


def between_points(route: PreparedRoute) -> float:
    """Half-way between the first two check-in points after the start: far from any of them."""
    a, b = route.checkpoints[1], route.checkpoints[2]
    return (a.distance_along_m + b.distance_along_m) / 2


def walker(
    route: PreparedRoute,
    along: float | None,
    at: datetime,
    *,
    override: str = "",
    alerts: dict[str, int] | None = None,
    checked: tuple[str, ...] = (),
    **progress: object,
) -> WalkerState:
    """A walker whose last fix (at `at`) put them `along` metres along the route."""
    record = WalkerRecord("w1", "tok", "Test Walker", "40km", status_override=override)
    state = WalkerState(record, route)
    if along is not None:
        lon, lat = route.point_at(along)
        x, y = route.to_xy(lon, lat)
        fix = Fix(at, lat, lon, "web", accuracy_m=5.0)
        state.progress = Progress(
            distance_along_m=along,
            offset_m=2.0,
            passage=Passage(x, y, at, along),
            last_fix=fix,
            last_good_fix=fix,
            **progress,  # type: ignore[arg-type]
        )
    state.checkins = {cp: CheckIn(cp, at, "auto") for cp in checked}
    state.open_alerts = dict(alerts or {})
    return state


def status(state: WalkerState, now: datetime) -> str:
    return walker_status(state, now, RADIUS_M, SILENT)


# --- status ------------------------------------------------------------------------------------
def test_the_status_list_is_the_issue_s(event: Event) -> None:
    assert STATUSES == (
        "registered",
        "walking",
        "resting",
        "not_moving",
        "at_checkpoint",
        "finished",
        "off_route",
        "silent",
        "needs_help",
        "dropped_out",
    )


def test_no_position_yet_is_registered(route: PreparedRoute, event: Event) -> None:
    assert status(walker(route, None, event_now(event)), event_now(event)) == "registered"


def test_between_points_with_a_recent_fix_is_walking(route: PreparedRoute, event: Event) -> None:
    now = event_now(event)
    state = walker(route, between_points(route), now - timedelta(minutes=1))
    assert status(state, now) == "walking"


def test_within_the_radius_of_a_point_is_at_checkpoint(route: PreparedRoute, event: Event) -> None:
    now = event_now(event)
    cp = route.checkpoints[3]
    assert status(walker(route, cp.distance_along_m + 40, now), now) == "at_checkpoint"
    assert status(walker(route, cp.distance_along_m + 200, now), now) == "walking"


def test_silent_after_the_threshold_but_not_while_resting_at_a_point(
    route: PreparedRoute, event: Event
) -> None:
    now = event_now(event)
    just_before = walker(route, between_points(route), now - SILENT + timedelta(seconds=5))
    assert status(just_before, now) == "walking"
    after = walker(route, between_points(route), now - SILENT - timedelta(seconds=5))
    assert status(after, now) == "silent"
    rest = route.checkpoints[1]
    resting = walker(route, rest.distance_along_m, now - timedelta(hours=1))
    assert status(resting, now) == "at_checkpoint"


def test_off_route(route: PreparedRoute, event: Event) -> None:
    now = event_now(event)
    assert status(walker(route, between_points(route), now, off_route=True), now) == "off_route"


def test_finished_once_checked_in_at_the_finish_even_when_silent(
    route: PreparedRoute, event: Event
) -> None:
    now = event_now(event)
    finish = route.checkpoints[-1]
    assert finish.kind == "finish"
    state = walker(route, finish.distance_along_m, now - timedelta(hours=2), checked=(finish.id,))
    assert state.finished
    assert status(state, now) == "finished"


@pytest.mark.parametrize(
    ("override", "alerts", "off_route", "expected"),
    [
        ("", {"sos": 1}, True, "needs_help"),  # an SOS outranks off route and silence
        ("dropped_out", {"sos": 1}, False, "dropped_out"),  # ...but not being taken home
        ("picked_up", {}, True, "dropped_out"),
        ("", {"battery": 2}, False, "silent"),  # other alerts do not change the status
    ],
)
def test_the_most_urgent_status_wins(
    route: PreparedRoute, event: Event, override: str, alerts: dict, off_route: bool, expected: str
) -> None:
    now = event_now(event)
    state = walker(
        route,
        between_points(route),
        now - timedelta(hours=1),
        override=override,
        alerts=alerts,
        off_route=off_route,
    )
    assert status(state, now) == expected


def test_near_checkpoint_needs_a_matched_position(route: PreparedRoute, event: Event) -> None:
    now = event_now(event)
    assert not near_checkpoint(walker(route, None, now), RADIUS_M)
    assert near_checkpoint(walker(route, 0.0, now), RADIUS_M)


# --- clock alerts -------------------------------------------------------------------------------
def kinds(state: WalkerState, event: Event, now: datetime) -> list[str]:
    return [kind for kind, _ in alert_checks(state, event, now, RULES)]


def test_silent_alert_after_the_threshold_away_from_points(
    route: PreparedRoute, event: Event
) -> None:
    now = event_now(event, "09:00")  # before any closing time on the 40 km
    along = between_points(route)
    assert kinds(walker(route, along, now - SILENT + timedelta(seconds=30)), event, now) == []
    alerts = list(
        alert_checks(walker(route, along, now - timedelta(minutes=31)), event, now, RULES)
    )
    assert alerts == [("silent", "no position for 31 minutes")]
    at_rest = walker(route, route.checkpoints[1].distance_along_m + 100, now - timedelta(hours=1))
    assert kinds(at_rest, event, now) == []  # within twice the radius: resting, not lost


def test_stationary_alert_counts_from_the_last_fix(route: PreparedRoute, event: Event) -> None:
    now = event_now(event, "09:00")
    along = between_points(route)
    still = walker(route, along, now, still_since=now - timedelta(minutes=25))
    assert list(alert_checks(still, event, now, RULES)) == [
        ("stationary", "not moving for 25 minutes away from a check-in point")
    ]
    short = walker(route, along, now, still_since=now - timedelta(minutes=10))
    assert kinds(short, event, now) == []
    cp = route.checkpoints[2]
    at_point = walker(route, cp.distance_along_m, now, still_since=now - timedelta(minutes=40))
    assert kinds(at_point, event, now) == []


def test_closing_time_names_the_first_point_missed(route: PreparedRoute, event: Event) -> None:
    closing = event.routes["40km"].closing
    first_after_start = route.checkpoints[1]
    closes = closing[first_after_start.id]
    state = walker(route, 1000.0, closes - timedelta(minutes=1))
    assert kinds(state, event, closes - timedelta(minutes=1)) == []
    late = closes + timedelta(minutes=1)
    state = walker(route, 1000.0, late)
    alerts = list(alert_checks(state, event, late, RULES))
    assert alerts == [
        ("closing_time", f"still before {first_after_start.name}, which closed at {closes:%H:%M}")
    ]


def test_no_clock_alerts_for_finished_dropped_out_or_unstarted(
    route: PreparedRoute, event: Event
) -> None:
    now = event_now(event, "23:30")  # everything has closed
    old = now - timedelta(hours=3)
    finish = route.checkpoints[-1]
    assert kinds(walker(route, None, old), event, now) == []
    assert kinds(walker(route, 5000.0, old, override="picked_up"), event, now) == []
    assert (
        kinds(walker(route, finish.distance_along_m, old, checked=(finish.id,)), event, now) == []
    )
    away = walker(route, between_points(route), old)
    assert set(kinds(away, event, now)) == {"silent", "closing_time"}


def test_rules_come_from_the_settings() -> None:
    rules = AlertRules.from_settings(Settings(silent_minutes=7, stationary_minutes=9))
    assert rules.silent_after == timedelta(minutes=7)
    assert rules.stationary_after == timedelta(minutes=9)
    assert set(ALERT_KINDS) == {
        "sos",
        "off_route",
        "silent",
        "stationary",
        "battery",
        "closing_time",
    }


# --- the engine raising and resolving alerts ---------------------------------------------------
WALKER = WalkerRecord("w1", "tok1", "Amina <b>", "40km", bib="7")


def fix_at(route: PreparedRoute, along: float, at: datetime, **kw: object) -> Fix:
    lon, lat = route.point_at(along)
    return Fix(at, lat, lon, "web", accuracy_m=5.0, client_id=f"{at.timestamp()}", **kw)  # type: ignore[arg-type]


def alerts_of(engine, kind: str) -> list:
    return [a for a in engine.alerts() if a.kind == kind]


def test_an_sos_fix_raises_one_alert_and_flags_the_walker(
    tmp_path: Path, event: Event, route: PreparedRoute
) -> None:
    async def body() -> None:
        async with engine_on(tmp_path, event, [WALKER]) as engine:
            hub = engine.hub
            assert isinstance(hub, Recorder)
            state = engine.walkers["w1"]
            now = datetime.now(UTC)
            await engine.ingest(
                state, fixes(fix_at(route, 3000, now - timedelta(seconds=20), sos=True))
            )
            await engine.ingest(
                state, fixes(fix_at(route, 3010, now - timedelta(seconds=10), sos=True))
            )
            assert len(alerts_of(engine, "sos")) == 1  # one open alert per walker and kind
            sent = [m for m in hub.messages if m["type"] == "alert"]
            assert sent[0]["kind"] == "sos" and sent[0]["walker_name"] == "Amina <b>"
            assert walker_status(state, now, 75, SILENT) == "needs_help"

            alert_id = state.open_alerts["sos"]
            await engine.set_alert_state(alert_id, "acknowledged")
            assert walker_status(state, now, 75, SILENT) == "needs_help"  # still flagged
            await engine.set_alert_state(alert_id, "resolved")
            assert walker_status(state, now, 75, SILENT) == "walking"
            assert [a.state for a in alerts_of(engine, "sos")] == ["resolved"]
            # a late acknowledgement does not reopen it
            await engine.set_alert_state(alert_id, "acknowledged")
            assert [a.state for a in alerts_of(engine, "sos")] == ["resolved"]
            assert "sos" not in state.open_alerts

    asyncio.run(body())


def test_low_battery_raises_below_the_threshold_only_and_clears_when_charging(
    tmp_path: Path, event: Event, route: PreparedRoute
) -> None:
    async def body() -> None:
        async with engine_on(tmp_path, event, [WALKER]) as engine:
            state = engine.walkers["w1"]
            now = datetime.now(UTC)
            threshold = engine.settings.low_battery_pct
            await engine.ingest(
                state,
                fixes(fix_at(route, 3000, now - timedelta(seconds=30), battery_pct=threshold)),
            )
            assert alerts_of(engine, "battery") == []
            await engine.ingest(state, fixes(fix_at(route, 3030, now, battery_pct=threshold - 1)))
            [alert] = alerts_of(engine, "battery")
            assert alert.message == f"battery at {threshold - 1:.0f} %"
            await engine.ingest(
                state,
                fixes(
                    fix_at(route, 3040, now + timedelta(seconds=5)),
                    battery=threshold - 2,
                    charging=True,
                ),
            )
            assert [a.state for a in alerts_of(engine, "battery")] == ["resolved"]

    asyncio.run(body())


def test_the_sweep_raises_silent_and_a_new_fix_resolves_it(
    tmp_path: Path, event: Event, route: PreparedRoute
) -> None:
    async def body() -> None:
        now = datetime.now(UTC)
        clock = [now]
        async with engine_on(tmp_path, event, [WALKER], clock=lambda: clock[0]) as engine:
            state = engine.walkers["w1"]
            await engine.ingest(
                state, fixes(fix_at(route, between_points(route), now - timedelta(minutes=40)))
            )
            await engine.sweep()
            assert [a.state for a in alerts_of(engine, "silent")] == ["open"]
            clock[0] = now + timedelta(minutes=1)
            await engine.sweep()
            assert len(alerts_of(engine, "silent")) == 1  # not raised twice
            await engine.ingest(state, fixes(fix_at(route, between_points(route) + 50, now)))
            assert [a.state for a in alerts_of(engine, "silent")] == ["resolved"]
            assert "silent" not in state.open_alerts

    asyncio.run(body())


def test_open_alerts_survive_a_restart(tmp_path: Path, event: Event, route: PreparedRoute) -> None:
    async def body() -> None:
        now = datetime.now(UTC)
        async with engine_on(tmp_path, event, [WALKER]) as engine:
            await engine.ingest(engine.walkers["w1"], fixes(fix_at(route, 3000, now, sos=True)))
        async with engine_on(tmp_path, event, []) as again:
            assert set(again.walkers["w1"].open_alerts) == {"sos"}
            assert walker_status(again.walkers["w1"], now, 75, SILENT) == "needs_help"
            assert await again.set_alert_state(999, "acknowledged") is None

    asyncio.run(body())
