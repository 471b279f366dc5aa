"""`refugee-walk purge`: delete stored positions after the event (privacy: see README)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from routes.bundled import event_path
from routes.errors import EventConfigError
from routes.event import load_event
from tracking.settings import Settings
from tracking.storage import database_url, delete_positions


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "purge", help="delete stored positions older than the retention period (or all)"
    )
    parser.add_argument("--db", type=Path, default=None, help="SQLite file")
    parser.add_argument("--event", default=None, help="bundled event name or event TOML path")
    parser.add_argument("--all", action="store_true", help="delete every stored position now")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(db_path=args.db, event=args.event)
    if database_url(settings.db_path) is None and not settings.db_path.exists():
        print(f"refugee-walk: no database at {settings.db_path}", file=sys.stderr)
        return 2
    before = None
    if not args.all:
        try:
            event = load_event(event_path(settings.event))
        except EventConfigError as exc:
            print(f"refugee-walk: {exc}", file=sys.stderr)
            return 2
        cutoff = event.day_start + timedelta(days=1 + settings.retention_days)
        if datetime.now(UTC) < cutoff:
            print(
                f"Nothing to delete yet: positions are kept until {cutoff:%Y-%m-%d} "
                f"({settings.retention_days} days after the event). Use --all to delete now."
            )
            return 0
        before = datetime.now(UTC)
    deleted = delete_positions(settings.db_path, before)
    print(f"Deleted {deleted} stored positions from {settings.db_path}.")
    return 0
