"""`refugee-walk routes` and `refugee-walk map` as real processes, run from a scratch folder so
they prove the bundled event data is found wherever the command is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
ROUTE_KEYS = {"id", "name", "distance_m", "ascent_m", "checkpoints"}
CHECKPOINT_KEYS = {"id", "name", "distance_along_m", "lat", "lon"}


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    }
    env = {k: v for k, v in env.items() if not k.startswith("REFUGEE_WALK_")}
    return subprocess.run(
        [sys.executable, "-m", "tracking", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("refugee-walk")
    for word in words:
        assert word in result.stderr


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("elsewhere")
    assert not (path / "data").exists()
    return path


@pytest.fixture(scope="module")
def routes_json(scratch: Path) -> list[dict]:
    result = cli(scratch, "routes", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_routes_lists_the_bundled_2023_routes(scratch: Path) -> None:
    result = cli(scratch, "routes")
    assert result.returncode == 0, result.stderr
    assert "Refugee Walk 2023" in result.stdout
    assert "40km: 40 km — 40.00 km" in result.stdout
    assert "Rest stop Lier" in result.stdout
    assert "closes" in result.stdout


def test_routes_json_schema(routes_json: list[dict]) -> None:
    assert [r["id"] for r in routes_json] == ["40km", "20km"]
    for route in routes_json:
        assert set(route) >= ROUTE_KEYS
        assert isinstance(route["name"], str) and route["name"]
        assert isinstance(route["distance_m"], float | int)
        assert route["ascent_m"] is None or isinstance(route["ascent_m"], float | int)
        assert len(route["checkpoints"]) >= 3
        for cp in route["checkpoints"]:
            assert set(cp) >= CHECKPOINT_KEYS
            assert isinstance(cp["id"], str) and isinstance(cp["name"], str)
            assert -90 <= cp["lat"] <= 90 and -180 <= cp["lon"] <= 180
            assert 0 <= cp["distance_along_m"] <= route["distance_m"] + 1


def test_routes_json_lengths(routes_json: list[dict]) -> None:
    lengths = {r["id"]: r["distance_m"] for r in routes_json}
    assert lengths["40km"] == pytest.approx(40_000, abs=400)
    assert lengths["20km"] == pytest.approx(20_000, abs=200)


def test_routes_for_another_bundled_event(scratch: Path) -> None:
    result = cli(scratch, "routes", "--event", "gent-2024", "--json")
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == {"40km", "20km"}


def test_routes_for_an_event_file_given_by_path(scratch: Path) -> None:
    path = PROJECT / "data" / "events" / "antwerp-2023.toml"
    result = cli(scratch, "routes", "--event", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2


def test_routes_with_a_missing_event_file(scratch: Path) -> None:
    result = cli(scratch, "routes", "--event", str(scratch / "no-such-event.toml"))
    assert_clean_failure(result, "no-such-event.toml", "not found")


def test_routes_with_an_unknown_event_name(scratch: Path) -> None:
    assert_clean_failure(cli(scratch, "routes", "--event", "atlantis-1999"), "atlantis-1999")


def test_routes_with_a_folder_as_event(scratch: Path) -> None:
    assert_clean_failure(cli(scratch, "routes", "--event", str(scratch)), "cannot read")


def test_routes_with_a_broken_event_file(scratch: Path) -> None:
    path = scratch / "broken.toml"
    path.write_text("name = [", encoding="utf-8")
    assert_clean_failure(cli(scratch, "routes", "--event", str(path)), "broken.toml", "TOML")


# --- map ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def map_run(scratch: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = scratch / "routes.html"
    return cli(scratch, "map", "--out", "routes.html"), out


def test_map_writes_the_file_and_prints_its_path(map_run: tuple) -> None:
    result, out = map_run
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    assert Path(result.stdout.strip()) == out.resolve()


def test_map_file_is_standalone(map_run: tuple) -> None:
    _, out = map_run
    page = out.read_text(encoding="utf-8")
    assert '<script src="http' not in page
    assert "<script src=" not in page
    assert "<link " not in page
    assert "cdn" not in page
    assert "Leaflet 1.9" in page  # Leaflet's code is inside the file
    assert "L.map(" in page


def test_map_file_draws_both_routes_with_check_in_points(map_run: tuple) -> None:
    page = map_run[1].read_text(encoding="utf-8")
    assert '"40 km (40.0 km)"' in page  # the layer control
    assert '"20 km (20.0 km)"' in page
    assert "Rest stop Lier (Moevement) — " in page
    assert "<title>Refugee Walk 2023 – Antwerp — routes</title>" in page
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page


def test_map_with_other_tiles_and_event(scratch: Path) -> None:
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    result = cli(
        scratch,
        "map",
        "--out",
        "gent.html",
        "--event",
        "gent-2024",
        "--tiles",
        tiles,
        "--attribution",
        "Example tiles",
    )
    assert result.returncode == 0, result.stderr
    page = (scratch / "gent.html").read_text(encoding="utf-8")
    assert tiles in page
    assert "Example tiles" in page
    assert "tile.openstreetmap.org" not in page


def test_map_into_a_missing_folder(scratch: Path) -> None:
    result = cli(scratch, "map", "--out", str(scratch / "no" / "such" / "map.html"))
    assert_clean_failure(result, "cannot write", "map.html")


def test_map_onto_a_folder(scratch: Path) -> None:
    assert_clean_failure(cli(scratch, "map", "--out", str(scratch)), "cannot write")


def test_map_with_a_bad_event(scratch: Path) -> None:
    result = cli(scratch, "map", "--out", "x.html", "--event", str(scratch / "nope.toml"))
    assert_clean_failure(result, "nope.toml")
    assert not (scratch / "x.html").exists()


def test_map_needs_an_output_file(scratch: Path) -> None:
    result = cli(scratch, "map")
    assert result.returncode == 2
    assert "--out" in result.stderr
