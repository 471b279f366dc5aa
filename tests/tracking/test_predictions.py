"""Predicted arrivals: pace fallbacks, each walker's ETA, the last walker per route."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from routes.bundled import event_path
from routes.event import load_event
from routes.prepared import PreparedRoute
from tracking.checkins import CheckIn, Passage
from tracking.fixes import Fix
from tracking.predictions import (
    MIN_PACE_MPS,
    eta,
    last_walker_arrivals,
    pace_for,
    route_median_pace,
)
from tracking.storage.base import WalkerRecord
from tracking.walker_state import Progress, WalkerState

NOW = datetime(2023, 10, 8, 12, 0, tzinfo=UTC)
DEFAULT = 1.25


@pytest.fixture(scope="module")
def route() -> PreparedRoute:
    return load_event(event_path("antwerp-2023")).routes["40km"].route


def walker(
    route: PreparedRoute | None,
    along: float | None,
    pace_mps: float | None = None,
    walker_id: str = "w1",
    override: str = "",
    checked: tuple[str, ...] = (),
) -> WalkerState:
    """A walker at `along`, whose last 10 minutes were walked at `pace_mps` (None: unknown)."""
    state = WalkerState(
        WalkerRecord(
            walker_id, "t" + walker_id, f"Walker {walker_id}", "40km", status_override=override
        ),
        route,
    )
    if along is not None and route is not None:
        lon, lat = route.point_at(along)
        x, y = route.to_xy(lon, lat)
        fix = Fix(NOW, lat, lon, "web")
        recent: deque[tuple[float, float]] = deque()
        if pace_mps is not None:
            recent = deque(
                [(NOW.timestamp() - 600, along - pace_mps * 600), (NOW.timestamp(), along)]
            )
        state.progress = Progress(
            distance_along_m=along, passage=Passage(x, y, NOW, along), last_fix=fix, recent=recent
        )
    state.checkins = {cp: CheckIn(cp, NOW, "auto") for cp in checked}
    return state


def test_pace_is_measured_over_the_recent_window(route: PreparedRoute) -> None:
    assert walker(route, 5000, pace_mps=1.4).progress.pace_mps == pytest.approx(1.4)
    assert walker(route, 5000).progress.pace_mps is None


def test_median_pace_ignores_unknown_and_resting_walkers(route: PreparedRoute) -> None:
    group = [
        walker(route, 5000, 1.0, "a"),
        walker(route, 6000, 1.2, "b"),
        walker(route, 7000, 1.6, "c"),
        walker(route, 8000, None, "d"),
        walker(route, 9000, MIN_PACE_MPS / 2, "e"),
    ]
    assert route_median_pace(group) == pytest.approx(1.2)
    assert route_median_pace([walker(route, 5000, None)]) is None
    assert route_median_pace([]) is None


@pytest.mark.parametrize(
    ("own", "median", "expected"),
    [
        (1.5, 1.1, 1.5),
        (None, 1.1, 1.1),
        (0.1, 1.1, 1.1),
        (None, None, DEFAULT),
        (0.1, None, DEFAULT),
    ],
)
def test_pace_falls_back_from_own_to_median_to_default(
    route: PreparedRoute, own: float | None, median: float | None, expected: float
) -> None:
    assert pace_for(walker(route, 5000, own), median, DEFAULT) == pytest.approx(expected)


def test_eta_to_the_next_point_and_the_finish(route: PreparedRoute) -> None:
    along = 6000.0
    pace = 1.25
    e = eta(walker(route, along, pace), NOW, pace)
    nxt = route.next_checkpoint(along)
    assert nxt is not None and e.next_checkpoint_id == nxt.id
    assert e.next_checkpoint_at == NOW + timedelta(seconds=(nxt.distance_along_m - along) / pace)
    assert e.finish_at == NOW + timedelta(seconds=(route.length_m - along) / pace)
    assert e.next_checkpoint_at < e.finish_at


def test_a_faster_walker_arrives_sooner(route: PreparedRoute) -> None:
    slow = eta(walker(route, 6000), NOW, 1.0).finish_at
    fast = eta(walker(route, 6000), NOW, 1.6).finish_at
    assert slow is not None and fast is not None and fast < slow


def test_no_eta_without_a_position_a_route_or_after_the_finish(route: PreparedRoute) -> None:
    finish = route.checkpoints[-1]
    assert eta(walker(route, None), NOW, 1.2).finish_at is None
    assert eta(walker(None, None), NOW, 1.2).finish_at is None
    done = walker(route, finish.distance_along_m, checked=(finish.id,))
    assert eta(done, NOW, 1.2).finish_at is None


def test_the_last_walker_is_the_one_furthest_behind_still_walking(route: PreparedRoute) -> None:
    finish = route.checkpoints[-1]
    group = [
        walker(route, 9000, 1.3, "ahead"),
        walker(route, 3000, 1.1, "last"),
        walker(route, 1000, 1.2, "home", override="picked_up"),  # taken home: not waited for
        walker(route, finish.distance_along_m, 1.2, "done", checked=(finish.id,)),
        walker(route, None, None, "not-started"),
    ]
    last = last_walker_arrivals(group, NOW, 1.2, DEFAULT)
    assert last is not None
    assert last["walker_id"] == "last"
    assert last["name"] == "Walker last"
    assert last["pace_kmh"] == pytest.approx(1.1 * 3.6, abs=0.01)
    ahead = [cp for cp in route.checkpoints if cp.distance_along_m > 3000]
    assert [a["checkpoint_id"] for a in last["arrivals"]] == [cp.id for cp in ahead]
    for arrival, cp in zip(last["arrivals"], ahead, strict=True):
        expected = NOW + timedelta(seconds=(cp.distance_along_m - 3000) / 1.1)
        assert datetime.fromisoformat(arrival["at"]) == expected


def test_the_last_walker_without_a_pace_uses_the_route_median(route: PreparedRoute) -> None:
    last = last_walker_arrivals([walker(route, 3000, None, "slow")], NOW, 1.0, DEFAULT)
    assert last is not None and last["pace_kmh"] == pytest.approx(3.6)


def test_nobody_on_the_way_means_no_last_walker(route: PreparedRoute) -> None:
    finish = route.checkpoints[-1]
    assert last_walker_arrivals([], NOW, None, DEFAULT) is None
    done = walker(route, finish.distance_along_m, checked=(finish.id,))
    assert last_walker_arrivals([done, walker(route, None, None, "x")], NOW, None, DEFAULT) is None


def test_an_eta_is_the_same_at_every_load_until_a_new_position_arrives(
    route: PreparedRoute,
) -> None:
    w = walker(route, 6000, 1.25)
    first = eta(w, NOW + timedelta(seconds=5), 1.25)
    later = eta(w, NOW + timedelta(minutes=3), 1.25)
    assert first == later
    assert first.finish_at == NOW + timedelta(seconds=(route.length_m - 6000) / 1.25)
    overdue = eta(w, NOW + timedelta(days=1), 1.25)  # long silent: due now, never in the past
    assert overdue.finish_at == NOW + timedelta(days=1)


def test_one_pace_for_the_detail_and_the_route_card(route: PreparedRoute) -> None:
    from tracking.predictions import pace_of

    unknown = walker(route, 3000, None, "slow")
    pace = pace_of(unknown, 1.0, DEFAULT)
    assert (pace.mps, pace.source) == (1.0, "route")
    last = last_walker_arrivals([unknown], NOW, 1.0, DEFAULT)
    assert last is not None
    assert (last["pace_kmh"], last["pace_source"]) == (pace.kmh, "route")
    assert pace_of(walker(route, 3000, 1.3), 1.0, DEFAULT).source == "own"
    assert pace_of(unknown, None, DEFAULT).source == "default"
