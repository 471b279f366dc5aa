"""The SQLite store on real files: de-duplication, and what survives a reopen or a killed process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracking.checkins import CheckIn
from tracking.fixes import Fix
from tracking.storage.base import StoredFix, WalkerRecord
from tracking.storage.sqlite import SqliteStorage

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


@pytest.fixture
def store(tmp_path):
    s = SqliteStorage(tmp_path / "walk.sqlite3")
    s.add_walker(WALKER)
    s.commit()
    yield s
    s.close()


def test_the_same_fix_twice_is_stored_once(store):
    f = fix(10, "page-1")
    assert not store.has_fix("w1", f)
    store.add_fix("w1", StoredFix(f, (), 5.0, 1.0))
    assert store.has_fix("w1", f)  # visible before the commit, to the same batch
    store.add_fix("w1", StoredFix(f, (), 5.0, 1.0))
    store.commit()
    assert [s.fix for s in store.fixes("w1")] == [f]


def test_same_time_other_id_or_other_walker_is_another_fix(store):
    store.add_walker(WalkerRecord("w2", "token-two", "Bert", "20km"))
    store.add_fix("w1", StoredFix(fix(10, "a"), (), None, None))
    store.add_fix("w1", StoredFix(fix(10, "b"), (), None, None))
    store.add_fix("w2", StoredFix(fix(10, "a"), (), None, None))
    store.commit()
    assert len(store.fixes("w1")) == 2 and len(store.fixes("w2")) == 1
    assert store.fix_count() == 3


def test_microseconds_survive_so_a_resent_fix_is_recognised(store):
    f = fix(0.000001, "x")
    store.add_fix("w1", StoredFix(f, (), None, None))
    store.commit()
    (back,) = store.fixes("w1")
    assert back.fix.recorded_at == f.recorded_at and store.has_fix("w1", back.fix)


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
    store.add_fix("w1", StoredFix(f, ("poor_accuracy", "impossible_speed"), None, None))
    store.add_fix("w1", StoredFix(fix(40), (), 1234.5, 6.5))
    store.commit()
    flagged, matched = store.fixes("w1")
    assert flagged.fix == f  # raw is not compared, everything else is
    assert flagged.flags == ("poor_accuracy", "impossible_speed")
    assert (flagged.distance_along_m, flagged.offset_m) == (None, None)
    assert matched.flags == () and (matched.distance_along_m, matched.offset_m) == (1234.5, 6.5)


def test_fixes_come_back_in_time_order_whatever_the_arrival(store):
    for seconds in (50, 10, 40, 20, 30):
        store.add_fix("w1", StoredFix(fix(seconds), (), None, None))
    store.commit()
    assert [s.fix.recorded_at for s in store.fixes("w1")] == [
        T0 + timedelta(seconds=s) for s in (10, 20, 30, 40, 50)
    ]
    assert [s.fix.recorded_at for s in store.recent_fixes("w1", 2)] == [
        T0 + timedelta(seconds=40),
        T0 + timedelta(seconds=50),
    ]


def test_a_check_in_is_stored_once_per_point(store):
    first = CheckIn("lint", T0, "auto")
    assert store.add_checkin("w1", first)
    assert not store.add_checkin("w1", CheckIn("lint", T0 + timedelta(minutes=5), "manual"))
    store.commit()
    assert store.checkins("w1") == [first]
    assert store.all_checkins() == {"w1": [first]}


def test_everything_committed_is_there_after_reopening(tmp_path):
    path = tmp_path / "walk.sqlite3"
    s = SqliteStorage(path)
    s.add_walker(WALKER)
    s.add_fix("w1", StoredFix(fix(1, "a"), (), 10.0, 2.0))
    s.add_checkin("w1", CheckIn("start", T0, "auto"))
    alert = s.add_alert("w1", "battery", T0, 51.2, 4.4, "battery at 9 %")
    s.count("fixes_accepted", 3)
    s.commit()
    s.close()

    again = SqliteStorage(path)
    try:
        assert again.walkers() == [WALKER]
        assert again.walker_by_token("token-one") == WALKER
        assert [f.fix for f in again.fixes("w1")] == [fix(1, "a")]
        assert again.checkins("w1") == [CheckIn("start", T0, "auto")]
        assert again.alerts() == [alert]
        assert again.counters() == {"fixes_accepted": 3}
    finally:
        again.close()


def test_a_revoked_token_no_longer_finds_the_walker(store):
    store.set_token("w1", "token-new")
    store.commit()
    assert store.walker_by_token("token-one") is None
    assert store.walker_by_token("token-new").id == "w1"


def test_forgetting_a_walker_removes_their_positions_and_check_ins(store):
    store.add_fix("w1", StoredFix(fix(1), (), None, None))
    store.add_checkin("w1", CheckIn("start", T0, "auto"))
    store.add_alert("w1", "sos", T0, 51.2, 4.4, "help")
    store.delete_walker("w1")
    store.commit()
    assert store.walkers() == [] and store.fixes("w1") == [] and store.checkins("w1") == []
    assert store.alerts() == []


def test_other_connections_see_only_committed_writes(store, tmp_path):
    store.add_fix("w1", StoredFix(fix(1), (), None, None))
    reader = sqlite3.connect(f"file:{tmp_path / 'walk.sqlite3'}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT COUNT(*) FROM fixes").fetchone()[0] == 0
        store.commit()
        assert reader.execute("SELECT COUNT(*) FROM fixes").fetchone()[0] == 1
    finally:
        reader.close()


KILLED_WRITER = """
import os, signal, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tracking.fixes import Fix
from tracking.storage.base import StoredFix, WalkerRecord
from tracking.storage.sqlite import SqliteStorage

s = SqliteStorage(Path(sys.argv[1]))
s.add_walker(WalkerRecord("w1", "token-one", "Ann", "40km"))
t0 = datetime(2023, 10, 8, 8, tzinfo=UTC)
for k in range(500):
    f = Fix(t0 + timedelta(seconds=k), 51.2, 4.4, "web", client_id=str(k))
    s.add_fix("w1", StoredFix(f, (), float(k), 1.0))
    if k == 299:
        s.commit()  # fixes 0..299 are acknowledged; 300..499 never are
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
        assert s.walker("w1") is not None
    finally:
        s.close()
