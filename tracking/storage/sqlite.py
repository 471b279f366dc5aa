"""The embedded SQLite store: one file, WAL, one connection used from the event loop.

A write is acknowledged only after `commit`; with WAL and synchronous=NORMAL a committed
transaction survives a killed process (`kill -9`); synchronous=FULL also survives power loss.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tracking.checkins import CheckIn
from tracking.fixes import Fix
from tracking.storage.base import Alert, StoredFix, WalkerRecord

SCHEMA = """
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


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


class SqliteStorage:
    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._db.execute("BEGIN")

    # walkers
    def add_walker(self, walker: WalkerRecord) -> None:
        created = walker.created_at or datetime.now(UTC)
        self._db.execute(
            "INSERT INTO walkers VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                walker.id,
                walker.token,
                walker.name,
                walker.route_id,
                walker.bib,
                walker.team,
                walker.phone,
                walker.status_override,
                walker.personal_gpx,
                _ts(created),
            ),
        )

    def update_walker(self, walker: WalkerRecord) -> None:
        self._db.execute(
            "UPDATE walkers SET name=?, route_id=?, bib=?, team=?, phone=?, status_override=?,"
            " personal_gpx=? WHERE id=?",
            (
                walker.name,
                walker.route_id,
                walker.bib,
                walker.team,
                walker.phone,
                walker.status_override,
                walker.personal_gpx,
                walker.id,
            ),
        )

    def _walker(self, where: str, value: str) -> WalkerRecord | None:
        row = self._db.execute(f"SELECT * FROM walkers WHERE {where}=?", (value,)).fetchone()
        return _walker_row(row) if row else None

    def walker(self, walker_id: str) -> WalkerRecord | None:
        return self._walker("id", walker_id)

    def walker_by_token(self, token: str) -> WalkerRecord | None:
        return self._walker("token", token)

    def walkers(self) -> list[WalkerRecord]:
        rows = self._db.execute("SELECT * FROM walkers ORDER BY created_at, id").fetchall()
        return [_walker_row(r) for r in rows]

    def delete_walker(self, walker_id: str) -> None:
        """Forget a walker entirely: positions, check-ins, alerts and the registration."""
        for table in ("fixes", "checkins", "alerts"):
            self._db.execute(f"DELETE FROM {table} WHERE walker_id=?", (walker_id,))
        self._db.execute("DELETE FROM walkers WHERE id=?", (walker_id,))

    def set_token(self, walker_id: str, token: str) -> None:
        self._db.execute("UPDATE walkers SET token=? WHERE id=?", (token, walker_id))

    # fixes
    def has_fix(self, walker_id: str, fix: Fix) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM fixes WHERE walker_id=? AND recorded_at=? AND client_id=?",
            (walker_id, _ts(fix.recorded_at), fix.client_id),
        ).fetchone()
        return row is not None

    def add_fix(self, walker_id: str, stored: StoredFix) -> None:
        f = stored.fix
        self._db.execute(
            "INSERT OR IGNORE INTO fixes (walker_id, recorded_at, client_id, received_at, lat, lon,"
            " accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, source, sos, flags,"
            " distance_along_m, offset_m, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                walker_id,
                _ts(f.recorded_at),
                f.client_id,
                _ts(datetime.now(UTC)),
                f.lat,
                f.lon,
                f.accuracy_m,
                f.speed_mps,
                f.heading_deg,
                f.altitude_m,
                f.battery_pct,
                f.source,
                int(f.sos),
                ",".join(stored.flags),
                stored.distance_along_m,
                stored.offset_m,
                json.dumps(f.raw, default=str)[:4000],
            ),
        )

    def update_fix_match(
        self, walker_id: str, fix: Fix, along: float | None, offset: float | None
    ) -> None:
        self._db.execute(
            "UPDATE fixes SET distance_along_m=?, offset_m=? WHERE walker_id=? AND recorded_at=?"
            " AND client_id=?",
            (along, offset, walker_id, _ts(fix.recorded_at), fix.client_id),
        )

    def fixes(self, walker_id: str) -> list[StoredFix]:
        rows = self._db.execute(
            "SELECT * FROM fixes WHERE walker_id=? ORDER BY recorded_at, id", (walker_id,)
        ).fetchall()
        return [_fix_row(r) for r in rows]

    def recent_fixes(self, walker_id: str, limit: int) -> list[StoredFix]:
        rows = self._db.execute(
            "SELECT * FROM (SELECT * FROM fixes WHERE walker_id=? ORDER BY recorded_at DESC, id DESC"
            " LIMIT ?) ORDER BY recorded_at, id",
            (walker_id, limit),
        ).fetchall()
        return [_fix_row(r) for r in rows]

    def fix_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM fixes").fetchone()[0])

    # check-ins
    def add_checkin(self, walker_id: str, checkin: CheckIn) -> bool:
        cur = self._db.execute(
            "INSERT OR IGNORE INTO checkins VALUES (?,?,?,?,?)",
            (
                walker_id,
                checkin.checkpoint_id,
                _ts(checkin.at),
                checkin.source,
                int(checkin.out_of_order),
            ),
        )
        return cur.rowcount == 1

    def checkins(self, walker_id: str) -> list[CheckIn]:
        rows = self._db.execute(
            "SELECT checkpoint_id, at, source, out_of_order FROM checkins WHERE walker_id=?"
            " ORDER BY at",
            (walker_id,),
        ).fetchall()
        return [CheckIn(r[0], _dt(r[1]), r[2], bool(r[3])) for r in rows]  # type: ignore[arg-type]

    def all_checkins(self) -> dict[str, list[CheckIn]]:
        out: dict[str, list[CheckIn]] = {}
        for r in self._db.execute(
            "SELECT walker_id, checkpoint_id, at, source, out_of_order FROM checkins ORDER BY at"
        ):
            out.setdefault(r[0], []).append(CheckIn(r[1], _dt(r[2]), r[3], bool(r[4])))  # type: ignore[arg-type]
        return out

    # alerts
    def add_alert(
        self,
        walker_id: str,
        kind: str,
        at: datetime,
        lat: float | None,
        lon: float | None,
        message: str,
    ) -> Alert:
        cur = self._db.execute(
            "INSERT INTO alerts (walker_id, kind, at, lat, lon, message) VALUES (?,?,?,?,?,?)",
            (walker_id, kind, _ts(at), lat, lon, message),
        )
        return Alert(int(cur.lastrowid or 0), walker_id, kind, at, lat, lon, message)

    def alerts(self, state: str | None = None) -> list[Alert]:
        sql = (
            "SELECT * FROM alerts"
            + (" WHERE state=?" if state else "")
            + " ORDER BY at DESC, id DESC"
        )
        rows = self._db.execute(sql, (state,) if state else ()).fetchall()
        return [_alert_row(r) for r in rows]

    def set_alert_state(self, alert_id: int, state: str, at: datetime) -> Alert | None:
        # resolved is final; acked_at is when someone first took it on (a resolve keeps it)
        self._db.execute(
            "UPDATE alerts SET state=?, acked_at=CASE WHEN ?='acknowledged'"
            " THEN COALESCE(acked_at, ?) ELSE acked_at END WHERE id=? AND state!='resolved'",
            (state, state, _ts(at), alert_id),
        )
        row = self._db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
        return _alert_row(row) if row else None

    # counters, retention, transactions
    def count(self, name: str, by: int = 1) -> None:
        self._db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+?",
            (name, by, by),
        )

    def counters(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT name, value FROM counters").fetchall())

    def delete_positions(self, before: datetime | None = None) -> int:
        """Delete stored positions (all, or recorded before `before`) and alert positions."""
        if before is None:
            cur = self._db.execute("DELETE FROM fixes")
            self._db.execute("UPDATE alerts SET lat=NULL, lon=NULL")
        else:
            cur = self._db.execute("DELETE FROM fixes WHERE recorded_at < ?", (_ts(before),))
            self._db.execute("UPDATE alerts SET lat=NULL, lon=NULL WHERE at < ?", (_ts(before),))
        return cur.rowcount

    def commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def close(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()


def _walker_row(r: tuple) -> WalkerRecord:
    return WalkerRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _dt(r[9]))


def _fix_row(r: tuple) -> StoredFix:
    (
        _,
        _,
        rec,
        client_id,
        _,
        lat,
        lon,
        acc,
        spd,
        hdg,
        alt,
        batt,
        source,
        sos,
        flags,
        along,
        offset,
        _raw,
    ) = r
    fix = Fix(
        recorded_at=_dt(rec),  # type: ignore[arg-type]
        lat=lat,
        lon=lon,
        source=source,
        accuracy_m=acc,
        speed_mps=spd,
        heading_deg=hdg,
        altitude_m=alt,
        battery_pct=batt,
        client_id=client_id,
        sos=bool(sos),
    )
    return StoredFix(fix, tuple(f for f in flags.split(",") if f), along, offset)


def _alert_row(r: tuple) -> Alert:
    return Alert(r[0], r[1], r[2], _dt(r[3]), r[4], r[5], r[6], r[7], _dt(r[8]))  # type: ignore[arg-type]
