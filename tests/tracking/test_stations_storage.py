"""Schema version 3: stations, their check-ins' answers and follow links are stored, loaded,
migrated from version 2, and deleted with their walker."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tracking.storage.base import FollowLink, Station, StationAnswer, WalkerRecord, WriteBatch
from tracking.storage.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStorage

T0 = datetime(2023, 10, 8, 9, 0, tzinfo=UTC)


def test_a_version_2_database_is_migrated_to_3(tmp_path) -> None:
    path = tmp_path / "v2.sqlite3"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        db.executescript(script)
    db.execute("PRAGMA user_version=2")
    db.execute(
        "INSERT INTO walkers VALUES ('w1','tok','Ann','40km','7','','','','',?)", (T0.timestamp(),)
    )
    db.commit()
    db.close()
    s = SqliteStorage(path)
    try:
        assert (s.found_version, SCHEMA_VERSION) == (2, 3)
        loaded = s.load()
        assert [w.id for w in loaded.walkers] == ["w1"]
        assert (loaded.stations, loaded.station_answers, loaded.follows) == ([], [], [])
    finally:
        s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteStorage(tmp_path / "a.sqlite3")
        yield s
        s.close()
        return
    from tests.pg import fresh_postgres
    from tracking.storage.postgres import PostgresStorage

    with fresh_postgres() as url:
        s = PostgresStorage(url)
        yield s
        s.close()


def test_stations_answers_and_follow_links_round_trip_and_go_with_their_walker(store) -> None:
    s = store
    station = Station("s1", "stok", "lint", T0)
    answer = StationAnswer("s1", "c1", "w1", 201, {"result": "checked_in", "at": "x"}, T0)
    link = FollowLink("ftok", "w1", "Ann", True, T0)
    s.write(
        WriteBatch(
            walkers_added=[WalkerRecord("w1", "tok", "Ann Smith", "40km", bib="7")],
            stations=[station],
            station_answers=[answer, answer],  # sent twice: stored once
            follows=[link],
            received_at=T0.timestamp(),
        )
    )
    later = T0 + timedelta(hours=1)
    s.write(
        WriteBatch(
            stations=[Station("s1", "stok", "lint", T0, later)],
            follows=[FollowLink("ftok", "w1", "Ann", True, T0, later)],
        )
    )
    loaded = s.load()
    assert loaded.stations == [Station("s1", "stok", "lint", T0, later)]
    assert loaded.station_answers == [answer]
    assert loaded.follows == [FollowLink("ftok", "w1", "Ann", True, T0, later)]
    s.write(WriteBatch(walkers_deleted=["w1"]))
    loaded = s.load()
    assert (loaded.station_answers, loaded.follows) == ([], [])
    assert len(loaded.stations) == 1  # the station itself stays, closed
