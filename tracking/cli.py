"""The `refugee-walk` command: one subcommand per module in `tracking.commands`.

Each command module offers `register(subparsers)` which adds its parser and sets `func`;
`func(args)` returns the exit code. Errors a person can fix print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = (
    "tracking.commands.routes_cmd",
    "tracking.commands.map_cmd",
    "tracking.commands.serve_cmd",
    "tracking.commands.validate_cmd",
    "tracking.commands.demo_cmd",
    "tracking.commands.simulate_cmd",
    "tracking.commands.purge_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refugee-walk",
        description="Route planning and live walker tracking for the Refugee Walk.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
