"""A station scans a walker's QR code with the camera: chromium's fake camera plays a
generated video of the label's QR code (`RW:<bib>`), the page decodes it (BarcodeDetector
where the browser has one; Linux chromium has not, so the vendored jsQR) and checks in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import segno

from tests.support import CHROMIUM, CHROMIUM_ARGS, PROJECT, Server, register_walker

IMG = PROJECT / "docs" / "img"


def qr_video(path: Path, text: str, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A Y4M video (4:2:0) of a QR code, black on white, in the middle of a grey frame."""
    matrix = np.array([list(row) for row in segno.make(text, error="m", micro=False).matrix])
    scale = 10
    code = np.where(np.kron(matrix, np.ones((scale, scale), dtype=int)) > 0, 16, 235)
    quiet = 4 * scale
    code = np.pad(code, quiet, constant_values=235)
    y = np.full((height, width), 128, dtype=np.uint8)
    top, left = (height - code.shape[0]) // 2, (width - code.shape[1]) // 2
    y[top : top + code.shape[0], left : left + code.shape[1]] = code
    chroma = np.full((height // 2) * (width // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + y.tobytes() + chroma + chroma)
    return path


def test_a_station_checks_in_a_walker_by_scanning_their_qr_code(tmp_path, server: Server) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    amal = register_walker(server, "Amal Haddad", "40km", bib="401")
    with server.client() as c:
        station = c.post(
            "/api/stations", json={"checkpoint_id": "lint"}, headers=server.organiser
        ).json()
    video = qr_video(tmp_path / "qr.y4m", "RW:401")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            context.grant_permissions(["camera"], origin=server.url)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(station["url"])
            page.click("#scan-btn")
            page.wait_for_selector("#answer.ok", timeout=20_000)
            assert "Amal Haddad (bib 401) checked in at Lint" in page.text_content("#answer")
            IMG.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(IMG / "station-scan.png"))
            decoder = page.evaluate("() => document.body.dataset.decoder")
            assert decoder in ("BarcodeDetector", "jsQR"), decoder  # jsQR on Linux chromium
            print(f"decoded with {decoder}")
            page.click("#scan-btn")  # stop the camera
            assert errors == []
        finally:
            browser.close()
    db = sqlite3.connect(server.db)
    rows = db.execute("SELECT checkpoint_id, source FROM checkins WHERE walker_id=?", (amal["id"],))
    assert rows.fetchall() == [("lint", "station")]
