"""Fixtures shared by every test folder: a real server process and the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, Server


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    """A fresh server on the bundled 2023 event, with its own database."""
    srv = Server(db=tmp_path / "walk.sqlite3").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory) -> Iterator[Server]:
    """One server shared by a test module (for read-mostly tests)."""
    srv = Server(db=tmp_path_factory.mktemp("srv") / "walk.sqlite3").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright; skipped where chromium is not installed.

    Module-scoped: Playwright's sync API keeps an event loop running while it is open, which
    would break `asyncio.run` in the WebSocket tests of other modules.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
