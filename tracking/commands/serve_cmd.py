"""`refugee-walk serve`: the service under uvicorn, on SQLite and the bundled event by default."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path

from routes.errors import EventConfigError
from tracking.contact import placeholder_warning
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
    busy = port_problem(settings.host, settings.port)
    if busy:  # before anything else: no token is made, nothing is started
        print(f"refugee-walk: {busy}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except (EventConfigError, SettingsError) as exc:
        print(f"refugee-walk: {exc}", file=sys.stderr)
        return 2
    remember_secret(app.state.organiser_token)
    warning = placeholder_warning(app.state.event.organiser_phone, settings.event)
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
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


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, in one sentence; None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another refugee-walk, or another "
                    f"program); stop it or choose another port with --port."
                )
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}."
    return None
