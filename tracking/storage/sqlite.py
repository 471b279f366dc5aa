"""The embedded SQLite store: one file in WAL mode, one writer connection, reader connections.

The engine's writer thread owns the writer connection: each tick is one transaction, committed
before any request of the tick is answered. With WAL and synchronous=NORMAL a committed
transaction survives a killed process (`kill -9`); synchronous=FULL also survives power loss.
Reads (history, exports) use connections of their own, one per reader thread, so they never
wait for a commit and never see half a tick.

The schema is versioned with `PRAGMA user_version` and ordered migrations; rows are read by
column name.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tracking.checkins import CheckIn
from tracking.fixes import Fix
from tracking.storage.base import (
    Alert,
    FollowLink,
    LateLookup,
    Loaded,
    Neighbour,
    Station,
    StationAnswer,
    StoredFix,
    WalkerRecord,
    WriteBatch,
    WriteResult,
)

V1 = """
CREATE TABLE IF NOT EXISTS walkers (
    id TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL, name TEXT NOT NULL, route_id TEXT NOT NULL,
    bib TEXT NOT NULL DEFAULT '', team TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
    status_override TEXT NOT NULL DEFAULT '', personal_gpx TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fixes (
    id INTEGER PRIMARY KEY, walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE,
    recorded_at REAL NOT NULL, client_id TEXT NOT NULL DEFAULT '', received_at REAL NOT NULL,
    lat REAL NOT NULL, lon REAL NOT NULL, accuracy_m REAL, speed_mps REAL, heading_deg REAL,
    altitude_m REAL, battery_pct REAL, source TEXT NOT NULL, sos INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '', distance_along_m REAL, offset_m REAL, raw TEXT,
    UNIQUE (walker_id, recorded_at, client_id)
);
CREATE TABLE IF NOT EXISTS checkins (
    walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE, checkpoint_id TEXT NOT NULL,
    at REAL NOT NULL, source TEXT NOT NULL, out_of_order INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (walker_id, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, walker_id TEXT NOT NULL, kind TEXT NOT NULL, at REAL NOT NULL,
    lat REAL, lon REAL, message TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open', acked_at REAL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

V2 = """
CREATE TABLE IF NOT EXISTS walker_state (
    walker_id TEXT PRIMARY KEY REFERENCES walkers(id) ON DELETE CASCADE,
    data BLOB NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_walker ON alerts (walker_id);
"""

V3 = """
CREATE TABLE IF NOT EXISTS stations (
    id TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL, checkpoint_id TEXT NOT NULL,
    opened_at REAL NOT NULL, closed_at REAL
);
CREATE TABLE IF NOT EXISTS station_checkins (
    station_id TEXT NOT NULL REFERENCES stations(id), client_id TEXT NOT NULL,
    walker_id TEXT REFERENCES walkers(id) ON DELETE CASCADE, status INTEGER NOT NULL,
    answer TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (station_id, client_id)
);
CREATE TABLE IF NOT EXISTS follow_links (
    token TEXT PRIMARY KEY, walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL, precise INTEGER NOT NULL, created_at REAL NOT NULL, ended_at REAL
);
"""

# Ordered migrations: MIGRATIONS[n] takes a database from version n to n + 1. Version 0 is an
# empty file or a database written before versions were kept (its tables match V1).
MIGRATIONS: tuple[str, ...] = (V1, V2, V3)
SCHEMA_VERSION = len(MIGRATIONS)

FIX_COLUMNS = (
    "walker_id, recorded_at, client_id, received_at, lat, lon, accuracy_m, speed_mps,"
    " heading_deg, altitude_m, battery_pct, source, sos, flags, distance_along_m, offset_m, raw"
)
WALKER_COLUMNS = (
    "id, token, name, route_id, bib, team, phone, status_override, personal_gpx, created_at"
)
ALERT_COLUMNS = "id, walker_id, kind, at, lat, lon, message, state, acked_at"
RAW_MAX_CHARS = 4000


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout=10000")  # a purge from the command line waits its turn
    db.execute("PRAGMA foreign_keys=ON")
    if readonly:
        db.execute("PRAGMA query_only=ON")
    return db


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database has schema version {found}, newer than this program's "
            f"{SCHEMA_VERSION}: upgrade refugee-walk"
        )
    for version in range(found, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version={version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return found


class SqliteStorage:
    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self.found_version = migrate(self._db)
        self._local = threading.local()

    # --- the writer's side (the engine's writer thread) ----------------------------------
    def load(self) -> Loaded:
        db = self._db
        walkers = [
            _walker_row(r)
            for r in db.execute(f"SELECT {WALKER_COLUMNS} FROM walkers ORDER BY created_at, id")
        ]
        states = {
            r["walker_id"]: _bytes(r["data"])
            for r in db.execute("SELECT walker_id, data FROM walker_state")
        }
        checkins: dict[str, list[CheckIn]] = {}
        for r in db.execute("SELECT * FROM checkins ORDER BY at"):
            checkins.setdefault(r["walker_id"], []).append(_checkin_row(r))
        alerts = [_alert_row(r) for r in db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts")]
        loaded = Loaded(walkers, states, checkins, alerts, self._counters(db))
        _load_v3(db, loaded)
        return loaded

    def write(self, batch: WriteBatch) -> WriteResult:
        """Apply one tick in one transaction and commit; on any error nothing of it is kept."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            purged = self._apply(db, batch)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return WriteResult(purged)

    def _apply(self, db: sqlite3.Connection, b: WriteBatch) -> int:
        """The tick's rows. Fixes and states go in as one JSON array per table: one statement
        each, so the writer thread takes the GIL back twice per tick, not once per row (with
        `executemany` it waited for the event loop's thread at every row)."""
        if b.walkers_added:
            db.executemany(
                f"INSERT INTO walkers ({WALKER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [_walker_values(w, b.received_at) for w in b.walkers_added],
            )
        if b.walkers_updated:
            db.executemany(
                "UPDATE walkers SET token=?, name=?, route_id=?, bib=?, team=?, phone=?,"
                " status_override=?, personal_gpx=? WHERE id=?",
                [_updated_values(w) for w in b.walkers_updated],
            )
        if b.fixes:
            db.execute(
                f"INSERT OR IGNORE INTO fixes ({FIX_COLUMNS}) SELECT {_columns(17)}"
                " FROM json_each(?)",
                (orjson.dumps([_fix_values(wid, s, b.received_at) for wid, s in b.fixes]),),
            )
        if b.checkins:
            db.executemany(
                "INSERT OR IGNORE INTO checkins VALUES (?,?,?,?,?)",
                [
                    (wid, c.checkpoint_id, _ts(c.at), c.source, int(c.out_of_order))
                    for wid, c in b.checkins
                ],
            )
        if b.alerts:
            db.executemany(
                f"INSERT INTO alerts ({ALERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET state=excluded.state,"
                " acked_at=excluded.acked_at, lat=excluded.lat, lon=excluded.lon",
                [_alert_values(a) for a in b.alerts],
            )
        if b.states:
            db.execute(
                f"INSERT INTO walker_state SELECT {_columns(3)} FROM json_each(?) WHERE 1"
                " ON CONFLICT(walker_id) DO UPDATE"
                " SET data=excluded.data, updated_at=excluded.updated_at",
                (
                    orjson.dumps(
                        [(wid, data.decode(), b.received_at) for wid, data in b.states.items()]
                    ),
                ),
            )
        _apply_v3(db, b)
        for walker_id in b.walkers_deleted:
            for table in ("fixes", "checkins", "alerts", "walker_state", *V3_PER_WALKER):
                db.execute(f"DELETE FROM {table} WHERE walker_id=?", (walker_id,))
            db.execute("DELETE FROM walkers WHERE id=?", (walker_id,))
        if b.counters:
            db.executemany(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE"
                " SET value=value+excluded.value",
                list(b.counters.items()),
            )
        return _purge(db, b.purge_before, b.purge_all) if b.purge_all or b.purge_before else 0

    def walker_states(self, walker_ids: list[str]) -> dict[str, bytes]:
        """The saved states of some walkers (a cluster reloads those changed elsewhere)."""
        marks = ",".join("?" * len(walker_ids))
        rows = self._db.execute(
            f"SELECT walker_id, data FROM walker_state WHERE walker_id IN ({marks})", walker_ids
        )
        return {r["walker_id"]: _bytes(r["data"]) for r in rows}

    def neighbours(self, queries: list[tuple[str, Fix]]) -> list[LateLookup]:
        """For each late fix: stored already? and the matched fixes just before and after it."""
        db = self._db
        out = []
        for walker_id, fix in queries:
            ts = _ts(fix.recorded_at)
            exists = db.execute(
                "SELECT 1 FROM fixes WHERE walker_id=? AND recorded_at=? AND client_id=?",
                (walker_id, ts, fix.client_id),
            ).fetchone()
            before = db.execute(
                "SELECT recorded_at, lon, lat, distance_along_m FROM fixes WHERE walker_id=?"
                " AND recorded_at<? AND distance_along_m IS NOT NULL"
                " ORDER BY recorded_at DESC LIMIT 1",
                (walker_id, ts),
            ).fetchone()
            after = db.execute(
                "SELECT recorded_at, lon, lat, distance_along_m FROM fixes WHERE walker_id=?"
                " AND recorded_at>? AND distance_along_m IS NOT NULL"
                " ORDER BY recorded_at LIMIT 1",
                (walker_id, ts),
            ).fetchone()
            out.append(LateLookup(exists is not None, _neighbour(before), _neighbour(after)))
        return out

    # --- readers (any thread; a connection per thread) ------------------------------------
    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path, readonly=True)
        return db

    def fixes(self, walker_id: str) -> list[StoredFix]:
        return list(self.iter_fixes(walker_id))

    def iter_fixes(self, walker_id: str) -> Iterator[StoredFix]:
        rows = self._reader().execute(
            f"SELECT {FIX_COLUMNS} FROM fixes WHERE walker_id=? ORDER BY recorded_at, id",
            (walker_id,),
        )
        return (_fix_row(r) for r in rows)

    def fix_count(self) -> int:
        return int(self._reader().execute("SELECT COUNT(*) FROM fixes").fetchone()[0])

    def counters(self) -> dict[str, int]:
        return self._counters(self._reader())

    @staticmethod
    def _counters(db: sqlite3.Connection) -> dict[str, int]:
        return {r["name"]: r["value"] for r in db.execute("SELECT name, value FROM counters")}

    def close(self) -> None:
        self._db.close()


V3_PER_WALKER = ("station_checkins", "follow_links")


def _apply_v3(db: sqlite3.Connection, b: WriteBatch) -> None:
    """Stations, their check-ins' answers, and follow links (schema version 3)."""
    if b.stations:
        db.executemany(
            "INSERT INTO stations VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE"
            " SET closed_at=excluded.closed_at",
            [
                (s.id, s.token, s.checkpoint_id, _ts(s.opened_at), _opt_ts(s.closed_at))
                for s in b.stations
            ],
        )
    if b.station_answers:
        db.executemany(
            "INSERT OR IGNORE INTO station_checkins VALUES (?,?,?,?,?,?)",
            [
                (
                    a.station_id,
                    a.client_id,
                    a.walker_id,
                    a.status,
                    orjson.dumps(a.body).decode(),
                    _ts(a.at),
                )
                for a in b.station_answers
            ],
        )
    if b.follows:
        db.executemany(
            "INSERT INTO follow_links VALUES (?,?,?,?,?,?) ON CONFLICT(token) DO UPDATE"
            " SET ended_at=excluded.ended_at",
            [
                (
                    f.token,
                    f.walker_id,
                    f.display_name,
                    int(f.precise),
                    _ts(f.created_at),
                    _opt_ts(f.ended_at),
                )
                for f in b.follows
            ],
        )


def _load_v3(db: sqlite3.Connection, loaded: Loaded) -> None:
    for r in db.execute("SELECT * FROM stations ORDER BY opened_at"):
        loaded.stations.append(
            Station(
                r["id"], r["token"], r["checkpoint_id"], _dt0(r["opened_at"]), _dt(r["closed_at"])
            )
        )
    for r in db.execute("SELECT * FROM station_checkins ORDER BY at"):
        loaded.station_answers.append(
            StationAnswer(
                r["station_id"],
                r["client_id"],
                r["walker_id"],
                r["status"],
                orjson.loads(r["answer"]),
                _dt0(r["at"]),
            )
        )
    for r in db.execute("SELECT * FROM follow_links ORDER BY created_at"):
        loaded.follows.append(
            FollowLink(
                r["token"],
                r["walker_id"],
                r["display_name"],
                bool(r["precise"]),
                _dt0(r["created_at"]),
                _dt(r["ended_at"]),
            )
        )


def _opt_ts(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


def _dt0(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def delete_positions(path: Path, before: datetime | None) -> int:
    """Delete stored positions (all, or recorded before `before`) from the command line.

    Deletes in small transactions, so a running server's writer waits milliseconds, not the
    whole purge (both sides wait up to `busy_timeout` for the other).
    """
    db = connect(path)
    try:
        migrate(db)
        total = 0
        while True:
            db.execute("BEGIN IMMEDIATE")
            deleted = _purge(db, before, before is None, limit=5000)
            db.execute("COMMIT")
            total += deleted
            if deleted < 5000:
                return total
    finally:
        db.close()


def _purge(
    db: sqlite3.Connection, before: datetime | None, everything: bool, limit: int = -1
) -> int:
    where, args = (
        ("", ()) if everything or before is None else ("WHERE recorded_at < ?", (_ts(before),))
    )
    cur = db.execute(
        f"DELETE FROM fixes WHERE id IN (SELECT id FROM fixes {where} LIMIT {int(limit)})", args
    )
    alert_where = "" if not where else "WHERE at < ?"
    db.execute(f"UPDATE alerts SET lat=NULL, lon=NULL {alert_where}", args)
    return cur.rowcount


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _columns(n: int) -> str:
    """`value->>0, ..., value->>n-1`: the columns of a JSON array row of `json_each`."""
    return ", ".join(f"value->>{i}" for i in range(n))


def _updated_values(w: WalkerRecord) -> tuple:
    """A changed record's values, in the order of the UPDATE (the id last)."""
    return (*_walker_values(w, 0.0)[1:9], w.id)


def _walker_values(w: WalkerRecord, now: float) -> tuple:
    created = _ts(w.created_at) if w.created_at else now
    return (
        w.id,
        w.token,
        w.name,
        w.route_id,
        w.bib,
        w.team,
        w.phone,
        w.status_override,
        w.personal_gpx,
        created,
    )


def _walker_row(r: Any) -> WalkerRecord:
    return WalkerRecord(
        id=r["id"],
        token=r["token"],
        name=r["name"],
        route_id=r["route_id"],
        bib=r["bib"],
        team=r["team"],
        phone=r["phone"],
        status_override=r["status_override"],
        personal_gpx=r["personal_gpx"],
        created_at=_dt(r["created_at"]),
    )


def _raw(raw: dict) -> str:
    try:
        text = orjson.dumps(raw, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = str(raw)
    return text[:RAW_MAX_CHARS]


def _fix_values(walker_id: str, s: StoredFix, received_at: float) -> tuple:
    f = s.fix
    return (
        walker_id,
        _ts(f.recorded_at),
        f.client_id,
        received_at,
        f.lat,
        f.lon,
        f.accuracy_m,
        f.speed_mps,
        f.heading_deg,
        f.altitude_m,
        f.battery_pct,
        f.source,
        int(f.sos),
        ",".join(s.flags),
        s.distance_along_m,
        s.offset_m,
        _raw(f.raw),
    )


def _fix_row(r: Any) -> StoredFix:
    fix = Fix(
        recorded_at=_dt(r["recorded_at"]),  # type: ignore[arg-type]
        lat=r["lat"],
        lon=r["lon"],
        source=r["source"],
        accuracy_m=r["accuracy_m"],
        speed_mps=r["speed_mps"],
        heading_deg=r["heading_deg"],
        altitude_m=r["altitude_m"],
        battery_pct=r["battery_pct"],
        client_id=r["client_id"],
        sos=bool(r["sos"]),
    )
    flags = tuple(f for f in r["flags"].split(",") if f)
    return StoredFix(fix, flags, r["distance_along_m"], r["offset_m"])


def _neighbour(r: Any | None) -> Neighbour | None:
    if r is None:
        return None
    return Neighbour(r["recorded_at"], r["lon"], r["lat"], r["distance_along_m"])


def _checkin_row(r: Any) -> CheckIn:
    return CheckIn(r["checkpoint_id"], _dt(r["at"]), r["source"], bool(r["out_of_order"]))  # type: ignore[arg-type]


def _alert_values(a: Alert) -> tuple:
    acked = _ts(a.acked_at) if a.acked_at else None
    return (a.id, a.walker_id, a.kind, _ts(a.at), a.lat, a.lon, a.message, a.state, acked)


def _alert_row(r: Any) -> Alert:
    return Alert(
        id=r["id"],
        walker_id=r["walker_id"],
        kind=r["kind"],
        at=_dt(r["at"]),  # type: ignore[arg-type]
        lat=r["lat"],
        lon=r["lon"],
        message=r["message"],
        state=r["state"],
        acked_at=_dt(r["acked_at"]),
    )
