"""Event files: a new edition is a TOML file and GPX files; every mistake in them names the file
and the key, so an organiser can fix it without reading Python."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from routes.errors import EventConfigError
from routes.event import Event, load_event

BRUSSELS = ZoneInfo("Europe/Brussels")
# A straight 0.1-degree walk east along 51.2 N (about 7 km), with three check-in points.
LINE = [(4.40 + i * 0.005, 51.2) for i in range(21)]


@pytest.fixture
def route_gpx(tmp_path: Path, gpx: Any) -> Path:
    body = (
        gpx.wpt(*LINE[0], "Start – Berchem", "start")
        + gpx.wpt(*LINE[10], "Rest stop Mortsel", "rest")
        + gpx.wpt(*LINE[-1], "Finish", "finish")
        + gpx.wpt(4.45, 51.25, "Parking (not a check-in point)", "parking")
        + gpx.trk(*LINE)
    )
    path = tmp_path / "gpx" / "line.gpx"
    path.parent.mkdir()
    path.write_bytes(gpx.doc(body))
    return path


def write_event(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events" / "test.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


EVENT = """
name = "Test walk"
date = 2023-10-08
{extra}
[[routes]]
id = "7km"
name = "Seven"
gpx = "../gpx/line.gpx"
{route_extra}
"""


def event_file(tmp_path: Path, extra: str = "", route_extra: str = "") -> Path:
    return write_event(tmp_path, EVENT.format(extra=extra, route_extra=route_extra))


def load_error(path: Path) -> str:
    with pytest.raises(EventConfigError) as caught:
        load_event(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_minimal_event_loads_with_defaults(tmp_path: Path, route_gpx: Path) -> None:
    event = load_event(event_file(tmp_path))
    assert isinstance(event, Event)
    assert event.name == "Test walk"
    assert event.timezone.key == "Europe/Brussels"
    assert event.checkin_radius_m == 75
    assert event.slowest_pace_kmh == 3.0
    route = event.route("7km")
    assert route.name == "Seven"
    assert route.gpx_path == route_gpx.resolve()
    assert route.starts == (datetime(2023, 10, 8, 9, 0, tzinfo=BRUSSELS),)


def test_check_in_points_are_the_typed_waypoints_in_route_order(
    tmp_path: Path, route_gpx: Path
) -> None:
    route = load_event(event_file(tmp_path)).route("7km").route
    assert [cp.id for cp in route.checkpoints] == ["start-berchem", "rest-stop-mortsel", "finish"]
    assert [cp.kind for cp in route.checkpoints] == ["start", "rest", "finish"]
    along = [cp.distance_along_m for cp in route.checkpoints]
    assert along[0] == pytest.approx(0.0, abs=0.01)
    assert along[1] == pytest.approx(route.length_m / 2, rel=1e-3)
    assert along[2] == pytest.approx(route.length_m, abs=0.01)


def test_closing_times_follow_the_slowest_pace_after_the_last_start(
    tmp_path: Path, route_gpx: Path
) -> None:
    path = event_file(tmp_path, "slowest_pace_kmh = 2.5", 'starts = ["08:00", "08:30"]')
    er = load_event(path).route("7km")
    assert er.last_start == datetime(2023, 10, 8, 8, 30, tzinfo=BRUSSELS)
    for cp in er.route.checkpoints:
        expected = er.last_start + timedelta(hours=cp.distance_along_m / 1000 / 2.5)
        assert er.closing[cp.id] == expected
    assert er.closing["finish"] > er.closing["rest-stop-mortsel"] > er.closing["start-berchem"]


def test_an_explicit_closing_time_replaces_only_that_point(tmp_path: Path, route_gpx: Path) -> None:
    path = event_file(tmp_path, route_extra='[routes.closing]\n"finish" = "18:15"')
    er = load_event(path).route("7km")
    assert er.closing["finish"] == datetime(2023, 10, 8, 18, 15, tzinfo=BRUSSELS)
    mid = er.route.checkpoints[1]
    assert er.closing[mid.id] == er.last_start + timedelta(hours=mid.distance_along_m / 3000)


def test_times_are_local_to_the_event_time_zone(tmp_path: Path, route_gpx: Path) -> None:
    event = load_event(event_file(tmp_path, 'timezone = "America/New_York"'))
    tz = ZoneInfo("America/New_York")
    assert event.day_start == datetime(2023, 10, 8, 0, 0, tzinfo=tz)
    assert event.route("7km").starts[0].utcoffset() == timedelta(hours=-4)
    assert event.day_start.timetz() == time(0, tzinfo=tz)


def test_gpx_path_is_relative_to_the_event_file_not_the_working_directory(
    tmp_path: Path, route_gpx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = event_file(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_event(path).route("7km").route.length_m > 6_000


# --- mistakes ---------------------------------------------------------------------------------


def test_missing_event_file(tmp_path: Path) -> None:
    assert "not found" in load_error(tmp_path / "nope.toml")


def test_event_path_is_a_folder(tmp_path: Path) -> None:
    assert "cannot read" in load_error(tmp_path)


def test_event_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "Liège"\n'.encode("latin-1"))
    assert "cannot read" in load_error(path)


def test_not_toml(tmp_path: Path) -> None:
    assert "not valid TOML" in load_error(write_event(tmp_path, "name = [unclosed"))


def test_missing_date(tmp_path: Path, route_gpx: Path) -> None:
    path = write_event(tmp_path, EVENT.format(extra="", route_extra="").replace("date = ", "#"))
    assert "'date'" in load_error(path)


def test_date_as_a_string(tmp_path: Path, route_gpx: Path) -> None:
    text = EVENT.format(extra="", route_extra="").replace("2023-10-08", '"8 October"')
    assert "TOML date" in load_error(write_event(tmp_path, text))


def test_unknown_time_zone(tmp_path: Path, route_gpx: Path) -> None:
    assert "Mars/Olympus" in load_error(event_file(tmp_path, 'timezone = "Mars/Olympus"'))


def test_no_routes(tmp_path: Path) -> None:
    path = write_event(tmp_path, 'name = "x"\ndate = 2023-10-08\n')
    assert "no [[routes]]" in load_error(path)


def test_route_without_gpx_key(tmp_path: Path) -> None:
    path = write_event(tmp_path, 'name = "x"\ndate = 2023-10-08\n[[routes]]\nid = "a"\n')
    assert "'gpx'" in load_error(path)


def test_gpx_file_missing(tmp_path: Path) -> None:
    message = load_error(event_file(tmp_path))
    assert "'7km'" in message
    assert "line.gpx" in message
    assert "not found" in message


def test_gpx_path_is_a_folder(tmp_path: Path) -> None:
    path = write_event(tmp_path, 'name = "x"\ndate = 2023-10-08\n[[routes]]\nid = "a"\ngpx = "."\n')
    assert "cannot read" in load_error(path)


def test_gpx_without_a_track(tmp_path: Path, gpx: Any) -> None:
    (tmp_path / "gpx").mkdir()
    (tmp_path / "gpx" / "line.gpx").write_bytes(gpx.doc(gpx.wpt(4.4, 51.2, "only a point")))
    message = load_error(event_file(tmp_path))
    assert "'7km'" in message
    assert "only waypoints" in message


def test_closing_time_for_an_unknown_point_lists_the_known_ones(
    tmp_path: Path, route_gpx: Path
) -> None:
    path = event_file(tmp_path, route_extra='[routes.closing]\n"finnish" = "18:00"')
    message = load_error(path)
    assert "'finnish'" in message
    assert "rest-stop-mortsel" in message


def test_start_time_that_is_not_a_time(tmp_path: Path, route_gpx: Path) -> None:
    # The message names the file, the route, the key and an example of a good value.
    message = load_error(event_file(tmp_path, route_extra='starts = ["25:00"]'))
    assert "'7km'" in message and "starts" in message and '"08:00"' in message


def test_unquoted_toml_times_are_accepted(tmp_path: Path, route_gpx: Path) -> None:
    event = load_event(event_file(tmp_path, route_extra="starts = [08:30:00]"))
    assert next(iter(event.routes.values())).starts[0].strftime("%H:%M") == "08:30"
