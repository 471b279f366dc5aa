"""Beyond one process: the 20,000-walker load on SQLite, on PostgreSQL, and on PostgreSQL with
two processes joined through Redis (dashboards watching the second process).

Server CPU per fix (all processes together), the accepted rate and fix-to-dashboard p99, in
one run, so that the sizing in docs/deployment.md rests on figures measured side by side.
Needs PostgreSQL and Redis on 127.0.0.1 (the scenarios that need them are skipped otherwise).

Run: python -m benchmarks.bench_cluster [--quick]
"""

from __future__ import annotations

import argparse

from benchmarks.bench_live import LARGE, Scenario, run_scenario, table


def scenarios(quick: bool) -> list[Scenario]:
    window = (
        {"warmup_s": 5.0, "duration_s": 20.0} if quick else {"warmup_s": 10.0, "duration_s": 40.0}
    )
    base = {"walkers": 20_000, "interval_s": 10.0, "generators": 2, "env": LARGE, **window}
    return [
        Scenario("SQLite, 1 process", **base),  # type: ignore[arg-type]
        Scenario("PostgreSQL, 1 process", postgres=True, **base),  # type: ignore[arg-type]
        Scenario("PostgreSQL + Redis, 2 processes", processes=2, **base),  # type: ignore[arg-type]
    ]


def run(quick: bool = False) -> str:
    rows = []
    for s in scenarios(quick):
        try:
            rows.append(run_scenario(s))
        except Exception as exc:  # a service absent: say so, measure the rest
            rows.append(None)
            print(f"{s.name}: skipped ({exc})")
    done = [r for r in rows if r is not None]
    lines = [
        table(done),
        "",
        "| back end | processes | accepted fixes/s | CPU ms per fix | p99 to dashboard |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in done:
        lines.append(
            f"| {r['scenario']} | {r['processes']} | {r['accepted_per_s']:,.0f} of "
            f"{r['offered_per_s']:,.0f} | {10 * r['server_cpu_pct'] / max(r['accepted_per_s'], 1):.2f} | "
            f"{(r['p99_s'] or 0) * 1000:,.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s windows instead of 40 s")
    print(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
