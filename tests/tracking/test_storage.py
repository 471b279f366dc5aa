"""The storage contract on both back ends (SQLite files and a real PostgreSQL): one write per
tick, what a restart loads, late-fix neighbours, schema migrations, and what survives a killed
process. PostgreSQL tests skip, with the reason, where no server answers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pg import fresh_postgres
from tracking.checkins import CheckIn
from tracking.fixes import Fix
from tracking.storage import open_storage
from tracking.storage.base import Alert, StoredFix, WalkerRecord, WriteBatch
from tracking.storage.sqlite import SCHEMA_VERSION, V1, SqliteStorage

PROJECT = Path(__file__).resolve().parents[2]
T0 = datetime(2023, 10, 8, 8, 0, 0, 123456, tzinfo=UTC)
WALKER = WalkerRecord(
    "w1",
    "token-one",
    "Ann",
    "40km",
    bib="12",
    team="Blue",
    created_at=datetime(2023, 10, 1, tzinfo=UTC),
)


def fix(seconds: float, client_id: str = "", **fields) -> Fix:
    values = {"lat": 51.2 + seconds * 1e-6, "lon": 4.4, "source": "web", "accuracy_m": 8.0}
    values.update(fields)
    return Fix(T0 + timedelta(seconds=seconds), client_id=client_id, **values)


def batch(**parts) -> WriteBatch:
    return WriteBatch(received_at=T0.timestamp(), **parts)


@pytest.fixture(params=["sqlite", "postgres"])
def where(request, tmp_path) -> Iterator[str]:
    """Where a store lives: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "walk.sqlite3")
    else:
        with fresh_postgres() as url:
            yield url


@pytest.fixture
def store(where):
    s = open_storage(where)
    s.write(batch(walkers_added=[WALKER]))
    yield s
    s.close()


def test_the_same_fix_twice_is_stored_once(store):
    f = fix(10, "page-1")
    store.write(batch(fixes=[("w1", StoredFix(f, (), 5.0, 1.0))] * 2))
    store.write(batch(fixes=[("w1", StoredFix(f, (), 5.0, 1.0))]))
    assert [s.fix for s in store.fixes("w1")] == [f]
    (lookup,) = store.neighbours([("w1", f)])
    assert lookup.exists


def test_same_time_other_id_or_other_walker_is_another_fix(store):
    store.write(
        batch(
            walkers_added=[WalkerRecord("w2", "token-two", "Bert", "20km")],
            fixes=[
                ("w1", StoredFix(fix(10, "a"), (), None, None)),
                ("w1", StoredFix(fix(10, "b"), (), None, None)),
                ("w2", StoredFix(fix(10, "a"), (), None, None)),
            ],
        )
    )
    assert len(store.fixes("w1")) == 2 and len(store.fixes("w2")) == 1
    assert store.fix_count() == 3


def test_every_field_and_flag_round_trips(store):
    f = fix(
        30,
        "p7",
        accuracy_m=150.0,
        speed_mps=1.4,
        heading_deg=270.0,
        altitude_m=12.5,
        battery_pct=41.0,
        sos=True,
        source="osmand",
        raw={"batt": "41"},
    )
    store.write(
        batch(
            fixes=[
                ("w1", StoredFix(f, ("poor_accuracy", "impossible_speed"), None, None)),
                ("w1", StoredFix(fix(40), (), 1234.5, 6.5)),
            ]
        )
    )
    flagged, matched = store.fixes("w1")
    assert flagged.fix == f  # raw is not compared, everything else is
    assert flagged.flags == ("poor_accuracy", "impossible_speed")
    assert (flagged.distance_along_m, flagged.offset_m) == (None, None)
    assert matched.flags == () and (matched.distance_along_m, matched.offset_m) == (1234.5, 6.5)


def test_neighbours_are_the_matched_fixes_either_side_in_time(store):
    stored = [("w1", StoredFix(fix(s), (), float(s), 1.0)) for s in (10, 20, 50, 60)] + [
        ("w1", StoredFix(fix(30), ("poor_accuracy",), None, None))
    ]
    store.write(batch(fixes=stored))
    (lookup,) = store.neighbours([("w1", fix(35, "late"))])
    assert not lookup.exists
    assert lookup.before is not None and lookup.before.distance_along_m == 20.0  # not the flagged
    assert lookup.after is not None and lookup.after.distance_along_m == 50.0
    (first,) = store.neighbours([("w1", fix(5))])
    assert first.before is None and first.after is not None


def test_what_a_restart_loads(where):
    s = open_storage(where)
    alert = Alert(7, "w1", "battery", T0, 51.2, 4.4, "battery at 9 %")
    s.write(
        batch(
            walkers_added=[WALKER],
            fixes=[("w1", StoredFix(fix(1, "a"), (), 10.0, 2.0))],
            checkins=[("w1", CheckIn("start", T0, "auto"))],
            alerts=[alert],
            states={"w1": b'{"state": 1}'},
            counters={"fixes_accepted": 3},
        )
    )
    s.write(batch(alerts=[Alert(7, "w1", "battery", T0, 51.2, 4.4, "x", "resolved")]))
    s.close()

    again = open_storage(where)
    try:
        loaded = again.load()
        assert loaded.walkers == [WALKER]
        assert loaded.states == {"w1": b'{"state": 1}'}
        assert loaded.checkins == {"w1": [CheckIn("start", T0, "auto")]}
        assert [(a.id, a.state, a.message) for a in loaded.alerts] == [
            (7, "resolved", "battery at 9 %")
        ]
        assert loaded.counters == {"fixes_accepted": 3}
        assert [f.fix for f in again.fixes("w1")] == [fix(1, "a")]
    finally:
        again.close()


def test_a_new_token_and_forgetting_a_walker(store):
    store.write(batch(walkers_updated=[WalkerRecord("w1", "token-new", "Ann", "40km")]))
    assert [w.token for w in store.load().walkers] == ["token-new"]
    store.write(
        batch(
            fixes=[("w1", StoredFix(fix(1), (), None, None))],
            checkins=[("w1", CheckIn("start", T0, "auto"))],
            alerts=[Alert(1, "w1", "sos", T0, 51.2, 4.4, "help")],
            states={"w1": b"{}"},
        )
    )
    store.write(batch(walkers_deleted=["w1"]))
    loaded = store.load()
    assert loaded.walkers == [] and loaded.alerts == [] and loaded.states == {}
    assert store.fixes("w1") == [] and loaded.checkins == {}


def test_a_failed_write_keeps_nothing_of_its_tick(store):
    bad = batch(
        fixes=[("w1", StoredFix(fix(1), (), None, None))],
        walkers_added=[WALKER],  # the same id again: the transaction fails
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.write(bad)
    assert store.fixes("w1") == []
    store.write(batch(fixes=[("w1", StoredFix(fix(2), (), None, None))]))
    assert len(store.fixes("w1")) == 1


def test_a_database_of_the_previous_version_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(V1)  # as the previous release wrote it: no user_version, no states
    old.execute(
        "INSERT INTO walkers VALUES ('w1','tok','Ann','40km','','','','','',?)", (T0.timestamp(),)
    )
    old.commit()
    old.close()
    s = SqliteStorage(path)
    try:
        assert s.found_version == 0
        version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION
        assert [w.id for w in s.load().walkers] == ["w1"]
        s.write(batch(states={"w1": b"{}"}))
        assert s.load().states == {"w1": b"{}"}
    finally:
        s.close()


def test_readers_see_only_committed_ticks(tmp_path):
    store = SqliteStorage(tmp_path / "walk.sqlite3")
    store.write(batch(walkers_added=[WALKER]))
    reader = sqlite3.connect(f"file:{tmp_path / 'walk.sqlite3'}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT COUNT(*) FROM fixes").fetchone()[0] == 0
        store.write(batch(fixes=[("w1", StoredFix(fix(1), (), None, None))]))
        assert reader.execute("SELECT COUNT(*) FROM fixes").fetchone()[0] == 1
    finally:
        reader.close()


KILLED_WRITER = """
import os, signal, sys, threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tracking.fixes import Fix
from tracking.storage.base import StoredFix, WalkerRecord, WriteBatch
from tracking.storage.sqlite import SqliteStorage

s = SqliteStorage(Path(sys.argv[1]))
s.write(WriteBatch(walkers_added=[WalkerRecord("w1", "token-one", "Ann", "40km")]))
t0 = datetime(2023, 10, 8, 8, tzinfo=UTC)
rows = [
    ("w1", StoredFix(Fix(t0 + timedelta(seconds=k), 51.2, 4.4, "web", client_id=str(k)),
     (), float(k), 1.0))
    for k in range(500)
]
s.write(WriteBatch(fixes=rows[:300]))  # acknowledged
db = s._db  # a tick in flight when the process dies: begun, never committed
db.execute("BEGIN IMMEDIATE")
db.executemany(
    "INSERT INTO fixes (walker_id, recorded_at, client_id, received_at, lat, lon, source)"
    " VALUES (?, ?, ?, 0, 51.2, 4.4, 'web')",
    [("w1", r[1].fix.ts, r[1].fix.client_id) for r in rows[300:]],
)
print("committed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_keeps_every_committed_fix_and_no_uncommitted_one(tmp_path):
    path = tmp_path / "walk.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(path)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9 and "committed" in done.stdout, done.stderr
    s = SqliteStorage(path)
    try:
        kept = s.fixes("w1")
        assert [f.fix.client_id for f in kept] == [str(k) for k in range(300)]
    finally:
        s.close()


def test_purge_from_the_command_line_on_either_back_end(where):
    from tracking.storage import delete_positions

    s = open_storage(where)
    s.write(
        batch(
            walkers_added=[WALKER],
            fixes=[("w1", StoredFix(fix(k), (), None, None)) for k in range(12)],
        )
    )
    s.close()
    assert delete_positions(where, T0 + timedelta(seconds=5)) == 5  # those before
    assert delete_positions(where, None) == 7  # then all
    again = open_storage(where)
    try:
        assert again.fixes("w1") == [] and [w.id for w in again.load().walkers] == ["w1"]
    finally:
        again.close()
