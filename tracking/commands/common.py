"""Small helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import sys

from routes.bundled import event_path
from routes.errors import EventConfigError
from routes.event import Event, load_event


def add_event_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--event",
        default=None,
        help="bundled event name (antwerp-2023, gent-2024) or path to an event TOML file",
    )


def event_or_exit(name: str | None) -> Event:
    """Load the event, or print why not and exit 2."""
    try:
        return load_event(event_path(name))
    except EventConfigError as exc:
        print(f"refugee-walk: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
