"""The after-event files (GeoJSON, GPX, GeoPackage), written in chunks from a read-only database.

Memory stays flat in the number of fixes: rows are read `chunk_rows` at a time from a separate
read-only SQLite connection (opened in the worker thread that runs the generator, so the
server's own connection and the path of a fix are never blocked; WAL lets both read and write
at once), and each chunk is encoded and handed on before the next is read.

What the database does not hold (names, statuses, check-in point names) comes in a small
`Snapshot` taken on the event loop before the export starts. The same query runs on
PostgreSQL (a `postgresql://` database setting) through a server-side cursor.
"""

from __future__ import annotations

import math
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson

from tracking.storage import database_url

FIX_COLUMNS = (
    "walker_id",
    "recorded_at",
    "lat",
    "lon",
    "accuracy_m",
    "speed_mps",
    "heading_deg",
    "altitude_m",
    "battery_pct",
    "source",
    "sos",
    "flags",
    "distance_along_m",
    "offset_m",
)
TRACK_FLAGS = ("", "late")  # positions that count for the track (as /api/walkers/{id}/track)
SELECT_FIXES = f"SELECT {', '.join(FIX_COLUMNS)} FROM fixes ORDER BY walker_id, recorded_at"
NUMBER_PROPERTIES = (
    "accuracy_m",
    "speed_mps",
    "altitude_m",
    "battery_pct",
    "distance_along_m",
    "offset_m",
)


@dataclass(frozen=True)
class Snapshot:
    """What the files need besides the fixes: walkers (by id) and check-in rows. Small."""

    event_name: str
    walkers: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkins: list[dict[str, Any]] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------------
def fix_chunks(db_path: Path, chunk_rows: int) -> Iterator[list[dict[str, Any]]]:
    """Every stored fix, by walker then time, `chunk_rows` at a time, from a read-only link."""
    url = database_url(db_path)
    if url is not None:
        yield from _postgres_chunks(url, chunk_rows)
        return
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
    db.row_factory = sqlite3.Row
    try:
        cursor = db.execute(SELECT_FIXES)
        while rows := cursor.fetchmany(chunk_rows):
            yield [_fix(row) for row in rows]
    finally:
        db.close()


def _postgres_chunks(url: str, chunk_rows: int) -> Iterator[list[dict[str, Any]]]:
    """The same rows from PostgreSQL, through a server-side cursor in a read-only transaction."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as db:
        db.read_only = True
        with db.cursor(name="refugee_walk_export") as cursor:
            cursor.execute(SELECT_FIXES)
            while rows := cursor.fetchmany(chunk_rows):
                yield [_fix(row) for row in rows]


def _fix(row: Any) -> dict[str, Any]:
    fix = {name: row[name] for name in FIX_COLUMNS}
    fix["sos"] = bool(fix["sos"])
    fix["on_track"] = fix["flags"] in TRACK_FLAGS
    return fix


def walker_fixes(db_path: Path, chunk_rows: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(walker id, that walker's fixes in time order), one walker at a time."""
    rows = (fix for chunk in fix_chunks(db_path, chunk_rows) for fix in chunk)
    for walker_id, group in groupby(rows, key=lambda f: f["walker_id"]):
        yield walker_id, list(group)


def iso(epoch_s: float | None) -> str | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC).isoformat()


# --- GeoJSON --------------------------------------------------------------------------------------
def geojson_fixes(snap: Snapshot, db_path: Path, chunk_rows: int) -> Iterator[bytes]:
    """Every stored position as a Point, with its flags; one chunk of features per yield."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for chunk in fix_chunks(db_path, chunk_rows):
        features = [orjson.dumps(_fix_feature(f, snap)) for f in chunk]
        yield (b"" if first else b",") + b",".join(features)
        first = False
    yield b"]}"


def _fix_feature(f: dict[str, Any], snap: Snapshot) -> dict[str, Any]:
    walker = snap.walkers.get(f["walker_id"], {})
    props = {
        "walker_id": f["walker_id"],
        "bib": walker.get("bib", ""),
        "recorded_at": iso(f["recorded_at"]),
        **{name: _number(f[name]) for name in NUMBER_PROPERTIES},
        "source": f["source"],
        "sos": f["sos"],
        "flags": f["flags"],
        "on_track": f["on_track"],
    }
    return _point(props, f["lon"], f["lat"])


def geojson_tracks(snap: Snapshot, db_path: Path, chunk_rows: int) -> Iterator[bytes]:
    """One LineString per walker with at least two positions on the track."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for walker_id, fixes in walker_fixes(db_path, chunk_rows):
        track = [f for f in fixes if f["on_track"]]
        walker = snap.walkers.get(walker_id)
        if walker is None or len(track) < 2:
            continue
        props = {
            **walker,
            "fixes": len(track),
            "started_at": iso(track[0]["recorded_at"]),
            "ended_at": iso(track[-1]["recorded_at"]),
        }
        geometry = {"type": "LineString", "coordinates": [[f["lon"], f["lat"]] for f in track]}
        feature = {"type": "Feature", "properties": props, "geometry": geometry}
        yield (b"" if first else b",") + orjson.dumps(feature)
        first = False
    yield b"]}"


def geojson_checkins(snap: Snapshot) -> bytes:
    features = [
        _point({k: v for k, v in c.items() if k not in ("lon", "lat")}, c["lon"], c["lat"])
        for c in snap.checkins
        if c["lon"] is not None
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _point(props: dict[str, Any], lon: float, lat: float) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _number(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


# --- GPX ------------------------------------------------------------------------------------------
def gpx(snap: Snapshot, db_path: Path, chunk_rows: int) -> Iterator[bytes]:
    """GPX 1.1: the check-ins as waypoints, then one track per walker (accepted positions)."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx xmlns="http://www.topografix.com/GPX/1/1"'
        ' version="1.1" creator="Refugee Walk"><metadata><name>'
        f"{escape(snap.event_name)}: walkers' tracks</name></metadata>\n"
    ).encode()
    for c in snap.checkins:
        if c["lat"] is None:
            continue
        name = f"{label(c['name'], c['bib'])} – {c['checkpoint_name']}"
        yield (
            f'<wpt lat="{c["lat"]}" lon="{c["lon"]}"><time>{_gpx_time(c["at"])}</time>'
            f"<name>{escape(name)}</name><type>check-in</type></wpt>\n"
        ).encode()
    for walker_id, fixes in walker_fixes(db_path, chunk_rows):
        walker = snap.walkers.get(walker_id)
        track = [f for f in fixes if f["on_track"]]
        if walker is None or not track:
            continue
        yield _gpx_track(walker, track).encode()
    yield b"</gpx>\n"


def _gpx_track(w: dict[str, Any], track: list[dict[str, Any]]) -> str:
    desc = f"route {w['route_id']}, walker {w['walker_id']}, {w['status']}"
    points = "".join(
        f"<trkpt lat={quoteattr(repr(f['lat']))} lon={quoteattr(repr(f['lon']))}>"
        + (f"<ele>{f['altitude_m']}</ele>" if f["altitude_m"] is not None else "")
        + f"<time>{_gpx_time(f['recorded_at'])}</time></trkpt>"
        for f in track
    )
    return (
        f"<trk><name>{escape(label(w['name'], w['bib']))}</name><desc>{escape(desc)}</desc>"
        f"<trkseg>{points}</trkseg></trk>\n"
    )


def _gpx_time(at: float | datetime) -> str:
    moment = at if isinstance(at, datetime) else datetime.fromtimestamp(at, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def label(name: str, bib: str) -> str:
    return f"{name} #{bib}" if bib else name


# --- GeoPackage (a temporary file, written chunk by chunk) ----------------------------------------
def geopackage(snap: Snapshot, db_path: Path, chunk_rows: int) -> str:
    """A GeoPackage (temporary path) with the layers tracks, fixes and checkins."""
    import geopandas as gpd
    import pandas as pd

    fd, path = tempfile.mkstemp(suffix=".gpkg", prefix="refugee-walk-export-")
    os.close(fd)
    os.unlink(path)  # the driver wants to create the file itself
    wrote = False
    for chunk in fix_chunks(db_path, chunk_rows):
        _append(path, "fixes", _fixes_frame(chunk, snap), wrote)
        wrote = True
    if not wrote:
        _append(path, "fixes", _fixes_frame([], snap), False)
    _write_tracks(path, snap, db_path, chunk_rows)
    checkins = pd.DataFrame(snap.checkins or {k: [] for k in CHECKIN_COLUMNS})
    located = checkins.dropna(subset=["lon", "lat"]) if len(checkins) else checkins
    if len(located):
        located = located.assign(at=pd.to_datetime(located["at"], utc=True))
    frame = gpd.GeoDataFrame(
        located.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(located["lon"], located["lat"]),
        crs="EPSG:4326",
    )
    _append(path, "checkins", frame, False)
    return path


def _append(path: str, layer: str, frame: Any, append: bool) -> None:
    frame.to_file(path, layer=layer, driver="GPKG", mode="a" if append else "w")


def _fixes_frame(chunk: list[dict[str, Any]], snap: Snapshot) -> Any:
    import geopandas as gpd
    import pandas as pd

    columns = [c for c in FIX_COLUMNS if c not in ("lon", "lat", "heading_deg")]
    frame = pd.DataFrame(chunk, columns=[*FIX_COLUMNS, "on_track"])
    frame.insert(1, "bib", [snap.walkers.get(w, {}).get("bib", "") for w in frame["walker_id"]])
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], unit="s", utc=True)
    for column in NUMBER_PROPERTIES:
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    frame["sos"] = frame["sos"].astype(bool)
    frame["on_track"] = frame["on_track"].astype(bool)
    return gpd.GeoDataFrame(
        frame[["walker_id", "bib", *columns[1:], "on_track"]],
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )


def _write_tracks(path: str, snap: Snapshot, db_path: Path, chunk_rows: int) -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString

    rows: list[dict[str, Any]] = []
    wrote = False
    for walker_id, fixes in walker_fixes(db_path, chunk_rows):
        track = [f for f in fixes if f["on_track"]]
        walker = snap.walkers.get(walker_id)
        if walker is None or len(track) < 2:
            continue
        rows.append(
            {
                **walker,
                "fixes": len(track),
                "started_at": pd.Timestamp(track[0]["recorded_at"], unit="s", tz="UTC"),
                "ended_at": pd.Timestamp(track[-1]["recorded_at"], unit="s", tz="UTC"),
                "geometry": LineString([(f["lon"], f["lat"]) for f in track]),
            }
        )
        if sum(r["fixes"] for r in rows) >= chunk_rows:
            _append(path, "tracks", gpd.GeoDataFrame(rows, crs="EPSG:4326"), wrote)
            rows, wrote = [], True
    if rows or not wrote:
        frame = gpd.GeoDataFrame(
            rows or {k: [] for k in (*TRACK_COLUMNS, "geometry")},
            geometry="geometry",
            crs="EPSG:4326",
        )
        _append(path, "tracks", frame, wrote)


TRACK_COLUMNS = (
    "walker_id",
    "name",
    "bib",
    "team",
    "route_id",
    "status",
    "distance_along_m",
    "fixes",
    "started_at",
    "ended_at",
)
CHECKIN_COLUMNS = (
    "walker_id",
    "name",
    "bib",
    "route_id",
    "checkpoint_id",
    "checkpoint_name",
    "at",
    "source",
    "out_of_order",
    "lon",
    "lat",
)
