"""Shared fixtures for the route tests: the GPX corpus, its reference table, small GPX builders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = (PROJECT_ROOT / ".." / "shared" / "gpx-corpus").resolve()  # = tests.support.CORPUS
CORPUS_MISSING = (
    f"the GPX corpus is not at {CORPUS_DIR} (it lives beside the project checkout, "
    "in ../shared/gpx-corpus); corpus tests need it"
)

GPX11_NS = "http://www.topografix.com/GPX/1/1"


@dataclass(frozen=True)
class ReferenceRow:
    """One row of the corpus REFERENCE.md table; lengths are None where the cell is empty."""

    file: str
    parses: bool
    trk_m: float | None
    rte_m: float | None
    joined_m: float | None
    trkpt: int | None
    rtept: int | None
    wpt: int | None


def _number(cell: str) -> float | None:
    cell = cell.strip().replace(",", "")
    return float(cell) if re.fullmatch(r"-?\d+(\.\d+)?", cell) else None


def _count(cell: str) -> int | None:
    value = _number(cell)
    return None if value is None else int(value)


def parse_reference(text: str) -> dict[str, ReferenceRow]:
    """The REFERENCE.md table by file name, columns found by their header text."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = next(line for line in lines if line.startswith("| file |"))
    names = [c.strip() for c in header.strip("|").split("|")]

    def col(prefix: str) -> int:
        return next(i for i, n in enumerate(names) if n.startswith(prefix))

    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not cells[0].endswith(".gpx") or len(cells) != len(names):
            continue
        rows[cells[0]] = ReferenceRow(
            file=cells[0],
            parses=cells[col("parses")] == "yes",
            trk_m=_number(cells[col("geod trk m")]),
            rte_m=_number(cells[col("geod rte m")]),
            joined_m=_number(cells[col("geod trk if segments joined")]),
            trkpt=_count(cells[col("trkpt")]),
            rtept=_count(cells[col("rtept")]),
            wpt=_count(cells[col("wpt")]),
        )
    return rows


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "REFERENCE.md").is_file():
        pytest.skip(CORPUS_MISSING)
    return CORPUS_DIR


@pytest.fixture(scope="session")
def reference(corpus_dir: Path) -> dict[str, ReferenceRow]:
    return parse_reference((corpus_dir / "REFERENCE.md").read_text(encoding="utf-8"))


class GpxBuilder:
    """Small GPX documents written out in full, so each test shows the XML shape it checks."""

    @staticmethod
    def doc(
        body: str,
        *,
        version: str = "1.1",
        namespace: str | None = GPX11_NS,
        declaration: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
    ) -> bytes:
        """A small GPX document around `body` (track, route or waypoint elements)."""
        ns = f' xmlns="{namespace}"' if namespace else ""
        return (
            f'{declaration}<gpx version="{version}" creator="test"{ns}>\n{body}\n</gpx>\n'.encode()
        )

    @staticmethod
    def trk(*points: tuple[float, float], name: str = "") -> str:
        """A one-segment track of (lon, lat) points."""
        pts = "".join(f'<trkpt lat="{lat}" lon="{lon}"/>' for lon, lat in points)
        return f"<trk><name>{name}</name><trkseg>{pts}</trkseg></trk>"

    @staticmethod
    def trk_segments(*segments: list[tuple[float, float]]) -> str:
        segs = "".join(
            "<trkseg>"
            + "".join(f'<trkpt lat="{lat}" lon="{lon}"/>' for lon, lat in seg)
            + "</trkseg>"
            for seg in segments
        )
        return f"<trk>{segs}</trk>"

    @staticmethod
    def rte(*points: tuple[float, float]) -> str:
        pts = "".join(f'<rtept lat="{lat}" lon="{lon}"/>' for lon, lat in points)
        return f"<rte>{pts}</rte>"

    @staticmethod
    def wpt(lon: float, lat: float, name: str, type_: str = "") -> str:
        kind = f"<type>{type_}</type>" if type_ else ""
        return f'<wpt lat="{lat}" lon="{lon}"><name>{name}</name>{kind}</wpt>'


@pytest.fixture(scope="session")
def gpx() -> type[GpxBuilder]:
    """`gpx.doc(gpx.trk((lon, lat), ...))` and friends; see `GpxBuilder`."""
    return GpxBuilder


def _corpus_selections() -> dict[str, list[str]]:
    """Corpus file names for each parametrized argument, chosen by their REFERENCE.md row."""
    if not (CORPUS_DIR / "REFERENCE.md").is_file():
        return {}
    rows = parse_reference((CORPUS_DIR / "REFERENCE.md").read_text(encoding="utf-8"))
    names = sorted(p.name for p in CORPUS_DIR.glob("*.gpx"))
    return {
        "corpus_name": names,
        "readable_corpus_name": [n for n in names if n in rows and rows[n].parses],
        "multipart_corpus_name": [n for n in names if n in rows and rows[n].joined_m is not None],
        "waypoint_only_corpus_name": [
            n
            for n in names
            if n in rows
            and rows[n].parses
            and not rows[n].trkpt
            and not rows[n].rtept
            and rows[n].wpt
        ],
    }


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`corpus_name` and its narrower kin run a test once per matching corpus file."""
    selections = _corpus_selections()
    for arg in (
        "corpus_name",
        "readable_corpus_name",
        "multipart_corpus_name",
        "waypoint_only_corpus_name",
    ):
        if arg in metafunc.fixturenames:
            names = selections.get(arg)
            params = names or [pytest.param("", marks=pytest.mark.skip(reason=CORPUS_MISSING))]
            metafunc.parametrize(arg, params)
