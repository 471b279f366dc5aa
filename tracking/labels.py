"""Bib labels for organisers to print: A4 sheets of 3 x 8 labels (70 x 37 mm), each with the
walker's name, bib, route and a QR code of `RW:<bib>` that stations scan.

A small PDF writer of our own (the QR codes come from segno's matrix as filled rectangles,
the text in the PDF's built-in Helvetica), so no PDF library is needed. Helvetica covers
Latin scripts (WinAnsi): other letters are shown without accents, or as `?`.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import segno

from tracking.stations import walker_code

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
COLS, ROWS = 3, 8
LABEL_W, LABEL_H = PAGE_W / COLS, PAGE_H / ROWS
QR_SIZE = 78.0
PAD = 12.0


@dataclass(frozen=True)
class Label:
    name: str
    bib: str
    route: str


def labels_pdf(labels: Sequence[Label], title: str = "") -> bytes:
    """One PDF with as many pages as the labels need (24 a page)."""
    per_page = COLS * ROWS
    pages = [_page(labels[i : i + per_page], title) for i in range(0, len(labels), per_page)] or [
        b""
    ]
    return _document(pages)


def _page(labels: Sequence[Label], title: str) -> bytes:
    out: list[str] = []
    for i, label in enumerate(labels):
        col, row = i % COLS, i // COLS
        x0 = col * LABEL_W
        y0 = PAGE_H - (row + 1) * LABEL_H
        out.append(_qr(walker_code(label.bib), x0 + PAD, y0 + (LABEL_H - QR_SIZE) / 2))
        tx = x0 + PAD + QR_SIZE + 8
        room = LABEL_W - (tx - x0) - 6
        out.append(_text(tx, y0 + LABEL_H - 30, "F2", 22, label.bib, room))
        out.append(_text(tx, y0 + LABEL_H - 50, "F2", 10, label.name, room))
        out.append(_text(tx, y0 + LABEL_H - 64, "F1", 9, label.route, room))
        if title:
            out.append(_text(tx, y0 + 14, "F1", 6.5, title, room))
    return "\n".join(out).encode("latin-1")


def _qr(content: str, x: float, y: float) -> str:
    """The QR code as filled rectangles, one per run of dark modules in a row."""
    matrix = segno.make(content, error="m", micro=False).matrix
    n = len(matrix)
    m = QR_SIZE / n
    rects = []
    for r, line in enumerate(matrix):
        top = y + QR_SIZE - (r + 1) * m
        c = 0
        while c < n:
            if line[c]:
                start = c
                while c < n and line[c]:
                    c += 1
                rects.append(f"{x + start * m:.2f} {top:.2f} {(c - start) * m:.2f} {m:.2f} re")
            else:
                c += 1
    return "0 g\n" + "\n".join(rects) + "\nf"


def _text(x: float, y: float, font: str, size: float, text: str, room: float) -> str:
    text = _fit(_latin(text), size, room)
    return f"BT /{font} {size} Tf {x:.2f} {y:.2f} Td ({_escape(text)}) Tj ET"


def _fit(text: str, size: float, room: float) -> str:
    """Cut to what fits (Helvetica is about 0.55 em a character on average)."""
    fits = max(1, int(room / (size * 0.55)))
    return text if len(text) <= fits else text[: fits - 1] + "…"


def _latin(text: str) -> str:
    """What Helvetica (WinAnsi) can show: accents kept where it has them."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def _escape(text: str) -> str:
    raw = text.encode("cp1252", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _document(pages: Iterable[bytes]) -> bytes:
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for content in pages:
        data = zlib.compress(content, 6)
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (PAGE_W, PAGE_H, len(objects))
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
