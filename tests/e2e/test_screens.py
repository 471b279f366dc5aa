"""Every page on every screen: a phone (390×844), a tablet upright (768×1024), a small laptop
(1024×768), in a real headless chromium against a real server, offline.

For /, /organiser, /w/{token} and /plan: no horizontal scrolling, the main controls inside the
screen (or one tab away on a phone), no console error and no failed request (the favicon
included). The screenshots go to docs/img/screen-<page>-<width>.png, for the README.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import PROJECT, Server, blank_png, register_walker

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DOCS_IMG = PROJECT / "docs" / "img"
SCREENS = {"phone": (390, 844), "tablet": (768, 1024), "laptop": (1024, 768)}
TILE_HOST = "tile.openstreetmap.org"
# The controls a person needs on each page, by CSS selector.
CONTROLS = {
    "landing": ["a[href='/organiser']", "a[href^='/plan']", ".langs a"],
    "organiser": ["#rw-search", "#rw-export summary", "#rw-signout", "#rw-alerts-empty"],
    "walker": ["#share-btn", "#checkin-btn", "#sos-top", ".langs a"],
    "plan": ["#file", "#download", "header .langs button", "input[name=target]"],
}


@pytest.fixture(scope="module")
def walker(module_server: Server) -> dict:
    return register_walker(module_server, "Amina Peeters", route_id="20km", bib="7")


class Screen:
    """A page at one viewport size that records console errors and failed requests."""

    def __init__(self, browser: Any, size: tuple[int, int]) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.context.new_page()
        self.width = size[0]
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"),
        )
        tile = blank_png()
        self.page.route(
            f"https://{TILE_HOST}/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=tile),
        )

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def overflow_px(self) -> int:
        return int(
            self.page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                " - window.innerWidth"
            )
        )

    def reachable(self, selector: str) -> bool:
        """Visible, and its box within the screen's width (scrolling down is fine)."""
        box = self.page.locator(selector).first.bounding_box()
        return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= self.width + 0.5

    def close(self) -> None:
        self.context.close()


def open_page(screen: Screen, srv: Server, name: str, walker: dict) -> None:
    page = screen.page
    if name == "organiser":
        page.goto(f"{srv.url}/organiser#token={srv.token}")
        page.wait_for_selector("body[data-connection=live]", timeout=15000)
    elif name == "walker":
        page.goto(f"{srv.url}/w/{walker['token']}?lang=en")
        page.wait_for_selector("#share-btn")
    elif name == "plan":
        page.goto(f"{srv.url}/plan?lang=en")
        page.wait_for_selector("#map.leaflet-container")
    else:
        page.goto(f"{srv.url}/?lang=en")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


@pytest.mark.parametrize("size", list(SCREENS))
@pytest.mark.parametrize("name", list(CONTROLS))
def test_every_page_fits_every_screen(
    browser: Any, module_server: Server, walker: dict, name: str, size: str
) -> None:
    screen = Screen(browser, SCREENS[size])
    try:
        open_page(screen, module_server, name, walker)
        assert screen.overflow_px() <= 0, f"{name} is {screen.overflow_px()} px too wide"
        hidden = [s for s in CONTROLS[name] if not screen.reachable(s)]
        assert not hidden, f"{name} at {size}: not reachable: {hidden}"
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        screen.page.screenshot(path=str(DOCS_IMG / f"screen-{name}-{SCREENS[size][0]}.png"))
        if name == "organiser":  # the bundled event's phone is a placeholder: organisers are told
            assert "placeholder +32 3 000 00 00" in screen.page.inner_text("#rw-phone-warning")
        if name == "organiser" and size == "phone":
            # the map is one tab away, and the list comes back the same way
            screen.page.click("#rw-tabs [data-tab=map]")
            assert screen.page.is_visible(".leaflet-control-zoom-in")
            assert screen.page.is_hidden("#rw-side")
            screen.page.screenshot(path=str(DOCS_IMG / "screen-organiser-390-map.png"))
            screen.page.click("#rw-tabs [data-tab=list]")
            assert screen.reachable("#rw-search")
            assert screen.overflow_px() <= 0
        assert not screen.problems, screen.problems
    finally:
        screen.close()


def test_the_favicon_is_served(module_server: Server) -> None:
    with module_server.client() as c:
        r = c.get("/favicon.ico")
    assert r.status_code == 200 and r.content.startswith(b"<svg")


@pytest.mark.parametrize(
    ("header", "query", "words"),
    [
        ("fr-BE,fr;q=0.9", "", "Tableau de bord des organisateurs"),
        ("nl-BE", "", "Dashboard voor organisatoren"),
        ("nl-BE", "?lang=en", "Organiser dashboard"),
    ],
)
def test_the_landing_page_speaks_the_three_languages(
    module_server: Server, header: str, query: str, words: str
) -> None:
    with module_server.client() as c:
        r = c.get(f"/{query}", headers={"Accept-Language": header})
    assert r.status_code == 200 and words in r.text
    assert "<script" not in r.text  # nothing inline
