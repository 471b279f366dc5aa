"""`refugee-walk validate` as a walker or organiser runs it: a real subprocess, real files.

Exit codes: 0 the route counts, 1 it does not (reasons on stdout), 2 the file cannot be read
(one line on stderr naming the file and why, never a traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.routes.test_validation import gpx_bytes, loop_route, recorded_walk

PROJECT = Path(__file__).resolve().parents[1]


def validate(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracking", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gpx")
    made = {
        "loop20": gpx_bytes([loop_route(20_600)]),
        "loop17": gpx_bytes([loop_route(17_000)]),
        "walk": recorded_walk(20_800, seed=21),
        "cut": gpx_bytes([loop_route(20_600)])[:500],
    }
    for name, data in made.items():
        (folder / f"{name}.gpx").write_bytes(data)
    return {name: folder / f"{name}.gpx" for name in made}


def test_a_route_that_counts_exits_0_with_a_readable_report(files) -> None:
    done = validate(files["loop20"], "--distance", "20")
    assert done.returncode == 0, done.stderr
    assert "COUNTS for 20 km (planned route)" in done.stdout
    assert "20.60 km" in done.stdout
    assert "Antwerpen, Belgium" in done.stdout and "a loop" in done.stdout
    assert done.stderr == ""


def test_a_route_that_does_not_count_exits_1_with_the_reason(files) -> None:
    done = validate(files["loop17"], "--distance", "20")
    assert done.returncode == 1
    assert "DOES NOT COUNT for 20 km" in done.stdout
    assert "needs at least 19.60 km" in done.stdout


def test_json_is_the_same_report_as_the_api(files) -> None:
    done = validate(files["loop17"], "--distance", "40", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["valid"] is False and report["target_km"] == 40
    assert report["problems"][0]["code"] == "too_short"
    assert report["region"]["country_code"] == "BE"


def test_a_recording_shows_moving_time_pauses_and_pace(files) -> None:
    done = validate(files["walk"], "--distance", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(recorded route)" in done.stdout
    assert "smoothed over 5 s" in done.stdout
    assert "pauses    3" in done.stdout and "min/km" in done.stdout


@pytest.mark.parametrize(
    ("name", "words"),
    [("cut", "cut off"), ("missing", "No such file")],
)
def test_an_unreadable_file_exits_2_naming_the_file_and_reason(files, name, words) -> None:
    path = files.get(name, files["loop20"].with_name("missing.gpx"))
    done = validate(path, "--distance", "20")
    assert done.returncode == 2
    assert done.stdout == ""
    assert str(path) in done.stderr and words in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_over_the_upload_limit_exits_2(files) -> None:
    done = validate(
        files["loop20"], "--distance", "20", env={"REFUGEE_WALK_MAX_UPLOAD_BYTES": "1000"}
    )
    assert done.returncode == 2
    assert "the limit is" in done.stderr and "Traceback" not in done.stderr


def test_a_distance_other_than_20_or_40_is_refused(files) -> None:
    done = validate(files["loop20"], "--distance", "30")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_a_broken_corpus_file_exits_2(files) -> None:
    corpus = PROJECT / ".." / "shared" / "gpx-corpus" / "togeojson__bad.gpx"
    if not corpus.is_file():
        pytest.skip("the GPX corpus is not at ../shared/gpx-corpus beside the project")
    done = validate(corpus, "--distance", "20")
    assert done.returncode == 2
    assert "togeojson__bad.gpx" in done.stderr and "'undefined'" in done.stderr
