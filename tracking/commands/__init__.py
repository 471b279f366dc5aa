"""CLI subcommands, one module each; see `tracking.cli`."""
