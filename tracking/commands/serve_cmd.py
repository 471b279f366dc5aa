"""`refugee-walk serve`: the service under uvicorn, on SQLite and the bundled event by default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from routes.errors import EventConfigError
from tracking.settings import Settings, SettingsError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="start the tracking server")
    parser.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000)")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file (default ./refugee-walk.sqlite3), or postgresql://user@host:port/db",
    )
    parser.add_argument("--event", default=None, help="bundled event name or event TOML path")
    parser.add_argument(
        "--pubsub",
        default=None,
        help="redis://host:port/n: serve one event with other processes (with --db postgresql://)",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    parser.set_defaults(func=run)


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=args.host,
        port=args.port,
        db_path=args.db,
        event=args.event,
        pubsub_url=getattr(args, "pubsub", None),
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tracking.app import create_app
    from tracking.logs import remember_secret
    from tracking.server import uvicorn_options

    settings = settings_from(args)
    try:
        app = create_app(settings)
    except (EventConfigError, SettingsError) as exc:
        print(f"refugee-walk: {exc}", file=sys.stderr)
        return 2
    remember_secret(app.state.organiser_token)
    print(
        f"Refugee Walk on {settings.base_url}  (organiser dashboard: {settings.base_url}/organiser,"
        f" API docs: {settings.base_url}/docs, database: {settings.db_path})",
        file=sys.stderr,
    )
    try:
        uvicorn.run(app, **uvicorn_options(settings, args.log_level))
    except OSError as exc:
        print(
            f"refugee-walk: cannot listen on {settings.host}:{settings.port}: {exc}",
            file=sys.stderr,
        )
        return 2
    return 0
