"""The `refugee-walk` command: one subcommand per module in `tracking.commands`.

Each command module offers `register(subparsers)` which adds its parser and sets `func`;
`func(args)` returns the exit code. Errors a person can fix print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    describe(sub)
    return parser


def describe(sub: argparse._SubParsersAction) -> None:
    """`refugee-walk COMMAND --help` opens with what the command does (its one-line help)."""
    for action in sub._choices_actions:
        parser = sub.choices[action.dest]
        if parser.description is None and action.help:
            parser.description = action.help[0].upper() + action.help[1:] + "."


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`| head`): say nothing more, and do not fail at exit either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
