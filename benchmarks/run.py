"""Run every benchmark and print its tables, with ratios against baselines of the same run.

A benchmark is a module `benchmarks/bench_*.py` with a function `run(quick) -> str`.

Run: python -m benchmarks.run [--quick] [--only matching ingest ...]
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

import benchmarks


def names() -> list[str]:
    """The benchmark modules, without the `bench_` prefix: matching, ingest, ..."""
    found = pkgutil.iter_modules(benchmarks.__path__)
    return sorted(m.name.removeprefix("bench_") for m in found if m.name.startswith("bench_"))


def machine() -> str:
    """Cores, CPU model, Python and the load when the run started (others may share the cores)."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Machine: {os.cpu_count()} cores ({model or platform.machine()}), "
        f"Python {platform.python_version()}, {platform.system()}; load average {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller, shorter runs")
    parser.add_argument("--only", nargs="+", choices=names(), help="run only these")
    args = parser.parse_args()
    print(machine(), end="\n\n", flush=True)
    for name in args.only or names():
        module = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        text = module.run(quick=args.quick)
        print(f"## {name} ({time.perf_counter() - t0:.0f} s)\n\n{text}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
