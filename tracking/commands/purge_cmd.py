"""`refugee-walk purge`: delete stored positions after the event (privacy: see README).

The event comes from the database itself (the server writes `<db>.event.json` beside it at
start), so a demo database is never purged with the bundled 2023 date; a database that does not
say needs `--event`. It says how many positions go, asks first (`--yes` for scripts), and
deletes in short transactions, an hour of positions at a time, so a running server is never
locked out for long.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from routes.bundled import event_path
from routes.errors import EventConfigError
from routes.event import load_event
from tracking.settings import Settings
from tracking.storage import database_url, delete_positions

CHUNK = timedelta(hours=1)


@dataclass(frozen=True)
class EventDay:
    name: str
    date: date
    timezone: str

    @property
    def day_start(self) -> datetime:
        return datetime.combine(self.date, time(0), ZoneInfo(self.timezone))


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "purge", help="delete stored positions older than the retention period (or all)"
    )
    parser.add_argument("--db", type=Path, default=None, help="SQLite file")
    parser.add_argument(
        "--event",
        default=None,
        help="bundled event name or event TOML path, for a database that does not record it",
    )
    parser.add_argument("--all", action="store_true", help="delete every stored position now")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(db_path=args.db)
    db = settings.db_path
    if database_url(db) is None and not db.exists():
        print(f"refugee-walk: no database at {db}", file=sys.stderr)
        return 2
    try:
        event = event_of(db, args.event)
    except (EventConfigError, ValueError, KeyError) as exc:
        print(f"refugee-walk: {exc}", file=sys.stderr)
        return 2
    before = None
    if not args.all:
        cutoff = event.day_start + timedelta(days=1 + settings.retention_days)
        if datetime.now(UTC) < cutoff:
            print(
                f"Nothing to delete yet: the positions of {event.name} ({event.date}) are kept "
                f"until {cutoff:%Y-%m-%d} ({settings.retention_days} days after the event). "
                "Use --all to delete them now."
            )
            return 0
        before = datetime.now(UTC)
    count, oldest = positions(db, before)
    if count == 0:
        print(f"Nothing to delete: {db} holds no stored positions.")
        return 0
    print(f"This deletes {count} stored positions of {event.name} ({event.date}) from {db}.")
    if not args.yes and not confirmed():
        print("Nothing deleted.")
        return 1
    deleted = delete(db, before, oldest)
    print(f"Deleted {deleted} stored positions from {db}.")
    return 0


def event_of(db: Path, given: str | None) -> EventDay:
    """The event the database records beside it; else the one given; else refuse."""
    recorded = db.with_name(db.name + ".event.json")
    if recorded.exists():
        data = json.loads(recorded.read_text(encoding="utf-8"))
        return EventDay(data["name"], date.fromisoformat(data["date"]), data["timezone"])
    if given is None:
        raise ValueError(
            f"{db} does not record which event it holds (no {recorded.name}); "
            "give it with --event NAME|FILE"
        )
    event = load_event(event_path(given))
    return EventDay(event.name, event.date, event.timezone.key)


def positions(db: Path, before: datetime | None) -> tuple[int, float | None]:
    """How many positions would go, and the oldest one's time (read only)."""
    where, params = ("WHERE recorded_at < ?", (before.timestamp(),)) if before else ("", ())
    sql = f"SELECT COUNT(*), MIN(recorded_at) FROM fixes {where}"
    url = database_url(db)
    if url is not None:
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute(sql.replace("?", "%s"), params).fetchone()
    else:
        uri = f"file:{db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def confirmed() -> bool:
    if not sys.stdin.isatty():
        print("refugee-walk: not asked from a terminal; add --yes to delete.", file=sys.stderr)
        return False
    try:
        return input("Delete them? [y/N] ").strip().lower() in ("y", "yes", "j", "ja", "o", "oui")
    except EOFError:
        return False


def delete(db: Path, before: datetime | None, oldest: float | None) -> int:
    """Delete in small transactions (a running server's writer waits milliseconds)."""
    return delete_positions(db, before)
