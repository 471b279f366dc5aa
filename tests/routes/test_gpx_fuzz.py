"""Fuzzing the GPX reader: random bytes and mutated real files give a `GpxReadError` or a
document, never another exception (and never a crash: the pre-scan bounds the tree work).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routes.errors import GpxReadError
from routes.gpx_reader import read_gpx, read_route_gpx

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "gpx-corpus"
SMALL = (
    sorted(p for p in CORPUS.glob("*.gpx") if p.stat().st_size < 40_000) if CORPUS.exists() else []
)
BASE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
    b'xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="51.2" lon="4.4"><name>S</name>'
    b"<type>start</type></wpt><trk><name>T</name><trkseg>"
    b'<trkpt lat="51.2045" lon="4.4395"><ele>7</ele><time>2023-10-08T08:00:00Z</time></trkpt>'
    b'<trkpt lat="51.21" lon="4.45"><ele>8</ele><time>2023-10-08T08:10:00+02:00</time></trkpt>'
    b"</trkseg></trk></gpx>"
)
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
PIECES = st.sampled_from(
    [
        b"<",
        b">",
        b"</trkpt>",
        b"<trkpt>",
        b'<trkpt lat="x" lon="1e999"/>',
        b'<trkpt lat="91" lon="0"/>',
        b"<time>0001-01-01T00:30:00+02:00</time>",
        b"<time>9999-12-31T23:30:00-02:00</time>",
        b"<time>not a time</time>",
        b"<ele>nan</ele>",
        b"<extensions>" + b"<a>" * 50 + b"</a>" * 50 + b"</extensions>",
        b"<!DOCTYPE x>",
        b"&amp;",
        b"&bogus;",
        b"\x00",
        b"\xff\xfe",
        b'<?xml version="1.0" encoding="latin-1"?>',
        b"]]>",
        b"<![CDATA[x]]>",
        "é".encode(),
    ]
)


def read_both(data: bytes) -> None:
    for reader in (read_gpx, read_route_gpx):
        with contextlib.suppress(GpxReadError):
            reader(data, "fuzz.gpx")


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_give_only_read_errors(data: bytes) -> None:
    read_both(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_a_gpx_head_give_only_read_errors(tail: bytes) -> None:
    read_both(BASE[:200] + tail)


@FUZZ
@given(st.data())
def test_mutated_gpx_gives_only_read_errors(data: st.DataObject) -> None:
    doc = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(doc)))
        action = data.draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        if action == "insert":
            doc[at:at] = data.draw(PIECES)
        elif action == "delete":
            del doc[at : at + data.draw(st.integers(1, 40))]
        elif action == "flip" and at < len(doc):
            doc[at] = data.draw(st.integers(0, 255))
        else:
            del doc[at:]
    read_both(bytes(doc))


@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.name)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_corpus_files_give_only_read_errors(path: Path, data: st.DataObject) -> None:
    doc = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(doc)))
        if data.draw(st.booleans()):
            doc[at:at] = data.draw(PIECES)
        else:
            del doc[at : at + data.draw(st.integers(1, 200))]
    read_both(bytes(doc))
