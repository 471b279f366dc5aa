"""Bib labels: the A4 PDF sheet of QR labels for every walker of the event (2,148 in 2023).

Measures `tracking.labels.labels_pdf` (what `GET /api/stations/labels.pdf` runs in a worker
thread): wall time, time per label, pages and size. Run: python -m benchmarks.bench_labels
"""

from __future__ import annotations

import argparse
import random
import time

from tracking.labels import COLS, ROWS, Label, labels_pdf

WALKERS = 2148
FIRST = ["Amal", "Jonas", "Zoë", "Mohammed", "Fatima", "Lotte", "Tesfay", "Nour", "Élodie"]
LAST = ["Haddad", "Peeters", "Janssens", "Ünal", "Gebremedhin", "Maes", "Dubois", "Karimi"]


def walkers(n: int) -> list[Label]:
    rng = random.Random(2023)
    return [
        Label(
            f"{rng.choice(FIRST)} {rng.choice(LAST)}", str(1000 + i), rng.choice(["20 km", "40 km"])
        )
        for i in range(n)
    ]


def run(quick: bool = False) -> str:
    sizes = [500] if quick else [500, WALKERS]
    rows = []
    for n in sizes:
        labels = walkers(n)
        t0 = time.perf_counter()
        pdf = labels_pdf(labels, "Refugee Walk 2023 – Antwerp")
        took = time.perf_counter() - t0
        pages = -(-n // (COLS * ROWS))
        rows.append(
            f"| {n:,} | {pages} | {took:.2f} s | {1000 * took / n:.2f} ms | {len(pdf) / 1e6:.2f} MB |"
        )
    return "\n".join(
        [
            "Bib label sheets (A4, 3 x 8 labels, QR `RW:<bib>` per walker)",
            "",
            "| walkers | pages | time | per label | PDF size |",
            "|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(run(parser.parse_args().quick))
