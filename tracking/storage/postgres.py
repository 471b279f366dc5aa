"""PostgreSQL storage: the same contract as SQLite, for several server processes on one event.

psycopg 3 with a small connection pool. Each tick is one transaction: fixes and walker states
go in with `executemany` (psycopg sends them in one pipeline), and the engine answers only
after the commit. The schema is versioned in `schema_version`, with ordered migrations.
Times are epoch seconds (double precision), as in SQLite, so exports read both alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from tracking.checkins import CheckIn
from tracking.fixes import Fix
from tracking.storage.base import (
    LateLookup,
    Loaded,
    Neighbour,
    StoredFix,
    WriteBatch,
    WriteResult,
)
from tracking.storage.sqlite import (
    ALERT_COLUMNS,
    FIX_COLUMNS,
    V3_PER_WALKER,
    WALKER_COLUMNS,
    _alert_row,
    _alert_values,
    _checkin_row,
    _fix_row,
    _fix_values,
    _load_v3,
    _opt_ts,
    _updated_values,
    _walker_row,
    _walker_values,
)

V1 = """
CREATE TABLE IF NOT EXISTS walkers (
    id TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL, name TEXT NOT NULL, route_id TEXT NOT NULL,
    bib TEXT NOT NULL DEFAULT '', team TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
    status_override TEXT NOT NULL DEFAULT '', personal_gpx TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS fixes (
    id BIGSERIAL PRIMARY KEY, walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE,
    recorded_at DOUBLE PRECISION NOT NULL, client_id TEXT NOT NULL DEFAULT '',
    received_at DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL, accuracy_m DOUBLE PRECISION, speed_mps DOUBLE PRECISION,
    heading_deg DOUBLE PRECISION, altitude_m DOUBLE PRECISION, battery_pct DOUBLE PRECISION,
    source TEXT NOT NULL, sos INTEGER NOT NULL DEFAULT 0, flags TEXT NOT NULL DEFAULT '',
    distance_along_m DOUBLE PRECISION, offset_m DOUBLE PRECISION, raw TEXT,
    UNIQUE (walker_id, recorded_at, client_id)
);
CREATE TABLE IF NOT EXISTS checkins (
    walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE, checkpoint_id TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, source TEXT NOT NULL, out_of_order INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (walker_id, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS alerts (
    id BIGINT PRIMARY KEY, walker_id TEXT NOT NULL, kind TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION, lon DOUBLE PRECISION, message TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open', acked_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS walker_state (
    walker_id TEXT PRIMARY KEY REFERENCES walkers(id) ON DELETE CASCADE,
    data BYTEA NOT NULL, updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_walker ON alerts (walker_id)
"""

V2 = """
CREATE TABLE IF NOT EXISTS stations (
    id TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL, checkpoint_id TEXT NOT NULL,
    opened_at DOUBLE PRECISION NOT NULL, closed_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS station_checkins (
    station_id TEXT NOT NULL REFERENCES stations(id), client_id TEXT NOT NULL,
    walker_id TEXT REFERENCES walkers(id) ON DELETE CASCADE, status INTEGER NOT NULL,
    answer TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, PRIMARY KEY (station_id, client_id)
);
CREATE TABLE IF NOT EXISTS follow_links (
    token TEXT PRIMARY KEY, walker_id TEXT NOT NULL REFERENCES walkers(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL, precise INTEGER NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION
)
"""

# V2: stations and follow links (SQLite's V3; the same tables, see tracking/stations.py)
MIGRATIONS: tuple[str, ...] = (V1, V2)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Any) -> int:
    """Bring the schema to SCHEMA_VERSION (one transaction per migration, locked)."""
    with db.transaction():
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        db.execute("LOCK TABLE schema_version IN EXCLUSIVE MODE")  # two processes starting
        row = db.execute("SELECT version FROM schema_version").fetchone()
        found = int(row["version"]) if row else 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database has schema version {found}, newer than this program's "
                f"{SCHEMA_VERSION}: upgrade refugee-walk"
            )
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute("DELETE FROM schema_version")
        db.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
    return found


class PostgresStorage:
    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"row_factory": dict_row}, open=True
        )
        with self._pool.connection() as conn:
            db: Any = conn
            self.found_version = migrate(db)

    # --- the writer's side -------------------------------------------------------------------
    def load(self) -> Loaded:
        with self._pool.connection() as conn:
            db: Any = conn
            walkers = [
                _walker_row(r)
                for r in db.execute(
                    f"SELECT {WALKER_COLUMNS} FROM walkers ORDER BY created_at, id"
                ).fetchall()
            ]
            states = {
                r["walker_id"]: bytes(r["data"])
                for r in db.execute("SELECT walker_id, data FROM walker_state").fetchall()
            }
            checkins: dict[str, list[CheckIn]] = {}
            for r in db.execute("SELECT * FROM checkins ORDER BY at").fetchall():
                checkins.setdefault(r["walker_id"], []).append(_checkin_row(r))
            alerts = [
                _alert_row(r) for r in db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts").fetchall()
            ]
            loaded = Loaded(walkers, states, checkins, alerts, self._counters(db))
            _load_v3(db, loaded)
            return loaded

    def write(self, b: WriteBatch) -> WriteResult:
        """One tick in one transaction; nothing of it is kept when any part fails."""
        with self._pool.connection() as db, db.transaction(), db.cursor() as cur:
            if b.walkers_added:
                cur.executemany(
                    f"INSERT INTO walkers ({WALKER_COLUMNS}) VALUES ({_marks(10)})",
                    [_walker_values(w, b.received_at) for w in b.walkers_added],
                )
            if b.walkers_updated:
                cur.executemany(
                    "UPDATE walkers SET token=%s, name=%s, route_id=%s, bib=%s, team=%s, phone=%s,"
                    " status_override=%s, personal_gpx=%s WHERE id=%s",
                    [_updated_values(w) for w in b.walkers_updated],
                )
            if b.fixes:
                cur.executemany(
                    f"INSERT INTO fixes ({FIX_COLUMNS}) VALUES ({_marks(17)})"
                    " ON CONFLICT DO NOTHING",
                    [_fix_values(wid, s, b.received_at) for wid, s in b.fixes],
                )
            if b.checkins:
                cur.executemany(
                    "INSERT INTO checkins VALUES (%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                    [
                        (wid, c.checkpoint_id, c.at.timestamp(), c.source, int(c.out_of_order))
                        for wid, c in b.checkins
                    ],
                )
            if b.alerts:
                cur.executemany(
                    f"INSERT INTO alerts ({ALERT_COLUMNS}) VALUES ({_marks(9)})"
                    " ON CONFLICT (id) DO UPDATE SET state=excluded.state,"
                    " acked_at=excluded.acked_at, lat=excluded.lat, lon=excluded.lon",
                    [_alert_values(a) for a in b.alerts],
                )
            if b.states:
                cur.executemany(
                    "INSERT INTO walker_state VALUES (%s,%s,%s) ON CONFLICT (walker_id) DO UPDATE"
                    " SET data=excluded.data, updated_at=excluded.updated_at",
                    [(wid, data, b.received_at) for wid, data in b.states.items()],
                )
            _apply_stations(cur, b)
            for walker_id in b.walkers_deleted:
                for table in ("fixes", "checkins", "alerts", "walker_state", *V3_PER_WALKER):
                    cur.execute(f"DELETE FROM {table} WHERE walker_id=%s", (walker_id,))
                cur.execute("DELETE FROM walkers WHERE id=%s", (walker_id,))
            if b.counters:
                cur.executemany(
                    "INSERT INTO counters VALUES (%s, %s) ON CONFLICT (name) DO UPDATE"
                    " SET value=counters.value+excluded.value",
                    list(b.counters.items()),
                )
            purged = 0
            if b.purge_all or b.purge_before:
                if b.purge_all:
                    cur.execute("DELETE FROM fixes")
                    purged = cur.rowcount
                    cur.execute("UPDATE alerts SET lat=NULL, lon=NULL")
                else:
                    assert b.purge_before is not None
                    cut = b.purge_before.timestamp()
                    cur.execute("DELETE FROM fixes WHERE recorded_at < %s", (cut,))
                    purged = cur.rowcount
                    cur.execute("UPDATE alerts SET lat=NULL, lon=NULL WHERE at < %s", (cut,))
        return WriteResult(purged)

    def walker_states(self, walker_ids: list[str]) -> dict[str, bytes]:
        """The saved states of some walkers (a cluster reloads those changed elsewhere)."""
        with self._pool.connection() as conn:
            db: Any = conn
            rows = db.execute(
                "SELECT walker_id, data FROM walker_state WHERE walker_id = ANY(%s)", (walker_ids,)
            ).fetchall()
        return {r["walker_id"]: bytes(r["data"]) for r in rows}

    def neighbours(self, queries: list[tuple[str, Fix]]) -> list[LateLookup]:
        out = []
        with self._pool.connection() as conn:
            db: Any = conn
            for walker_id, fix in queries:
                ts = fix.ts
                exists = db.execute(
                    "SELECT 1 FROM fixes WHERE walker_id=%s AND recorded_at=%s AND client_id=%s",
                    (walker_id, ts, fix.client_id),
                ).fetchone()
                before = db.execute(
                    "SELECT recorded_at, lon, lat, distance_along_m FROM fixes WHERE walker_id=%s"
                    " AND recorded_at<%s AND distance_along_m IS NOT NULL"
                    " ORDER BY recorded_at DESC LIMIT 1",
                    (walker_id, ts),
                ).fetchone()
                after = db.execute(
                    "SELECT recorded_at, lon, lat, distance_along_m FROM fixes WHERE walker_id=%s"
                    " AND recorded_at>%s AND distance_along_m IS NOT NULL"
                    " ORDER BY recorded_at LIMIT 1",
                    (walker_id, ts),
                ).fetchone()
                out.append(LateLookup(exists is not None, _neighbour(before), _neighbour(after)))
        return out

    # --- readers ----------------------------------------------------------------------------
    def fixes(self, walker_id: str) -> list[StoredFix]:
        return list(self.iter_fixes(walker_id))

    def iter_fixes(self, walker_id: str) -> Iterator[StoredFix]:
        with self._pool.connection() as conn:
            db: Any = conn
            rows = db.execute(
                f"SELECT {FIX_COLUMNS} FROM fixes WHERE walker_id=%s ORDER BY recorded_at, id",
                (walker_id,),
            ).fetchall()
        return (_fix_row(r) for r in rows)

    def fix_count(self) -> int:
        with self._pool.connection() as conn:
            db: Any = conn
            row = db.execute("SELECT COUNT(*) AS n FROM fixes").fetchone()
            return int(row["n"]) if row else 0

    def counters(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            db: Any = conn
            return self._counters(db)

    @staticmethod
    def _counters(db: Any) -> dict[str, int]:
        rows = db.execute("SELECT name, value FROM counters").fetchall()
        return {r["name"]: int(r["value"]) for r in rows}

    def close(self) -> None:
        self._pool.close()


def _marks(n: int) -> str:
    return ",".join(["%s"] * n)


def _neighbour(r: dict | None) -> Neighbour | None:
    if r is None:
        return None
    return Neighbour(r["recorded_at"], r["lon"], r["lat"], r["distance_along_m"])


def _apply_stations(cur: Any, b: WriteBatch) -> None:
    """Stations, their check-ins' answers and follow links (as SQLite's `_apply_v3`)."""
    if b.stations:
        cur.executemany(
            "INSERT INTO stations VALUES (%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE"
            " SET closed_at=excluded.closed_at",
            [
                (s.id, s.token, s.checkpoint_id, s.opened_at.timestamp(), _opt_ts(s.closed_at))
                for s in b.stations
            ],
        )
    if b.station_answers:
        cur.executemany(
            "INSERT INTO station_checkins VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            [
                (
                    a.station_id,
                    a.client_id,
                    a.walker_id,
                    a.status,
                    orjson.dumps(a.body).decode(),
                    a.at.timestamp(),
                )
                for a in b.station_answers
            ],
        )
    if b.follows:
        cur.executemany(
            "INSERT INTO follow_links VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (token) DO UPDATE"
            " SET ended_at=excluded.ended_at",
            [
                (
                    f.token,
                    f.walker_id,
                    f.display_name,
                    int(f.precise),
                    f.created_at.timestamp(),
                    _opt_ts(f.ended_at),
                )
                for f in b.follows
            ],
        )


def delete_positions(url: str, before: datetime | None, chunk: int = 5000) -> int:
    """The command line's purge: chunks of `chunk` rows, each its own transaction."""
    import psycopg

    where = "" if before is None else "WHERE recorded_at < %s"
    args: tuple = () if before is None else (before.timestamp(),)
    total = 0
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as db:
        migrate(db)
        while True:
            cur = db.execute(
                f"DELETE FROM fixes WHERE id IN (SELECT id FROM fixes {where} LIMIT {chunk})", args
            )
            total += cur.rowcount
            if cur.rowcount < chunk:
                break
        db.execute(
            f"UPDATE alerts SET lat=NULL, lon=NULL {where.replace('recorded_at', 'at')}", args
        )
    return total
