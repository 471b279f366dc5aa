"""The app set-up page as a walker opens it on a phone: each app's link, QR and the values by
hand with the names the apps' own screens use, in Dutch, French and English; screenshots of
each app's section for the README (docs/img/apps-*.png)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support import Server, register_walker
from tracking.web.i18n import catalogue

pytestmark = pytest.mark.e2e

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_the_set_up_page_names_each_apps_settings_as_the_app_does(module_server: Server, lang):
    w = register_walker(module_server, f"Yonas {lang}", "20km")
    with module_server.client() as c:
        r = c.get(f"/w/{w['token']}/apps", params={"lang": lang})
    assert r.status_code == 200
    text = catalogue()[lang]["setup"]
    page = unquote(r.text.replace("&amp;", "&").replace("&#39;", "'"))
    for key in ("tr_id", "tr_accuracy", "tr_highest", "tr_interval", "tr_heartbeat", "tr_stop"):
        assert text[key] in page, key
    for key in ("ot_auth_ios", "ot_user_why", "ot_monitoring", "osmand_steps", "battery_android"):
        assert text[key] in page, key
    # OsmAnd's template carries the walker's id and says its units
    assert f"/ingest/osmand?id={w['token']}&units=si&lat={{0}}&lon={{1}}&timestamp={{2}}" in page
    # the Traccar Client link turns the heartbeat on, at "highest" accuracy
    assert "heartbeat=300" in page and "accuracy=highest" in page


@pytest.mark.browser
def test_each_apps_section_on_a_phone_screen(module_server: Server, browser):
    w = register_walker(module_server, "Amina", "40km", bib="52")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{module_server.url}/w/{w['token']}/apps?lang=en")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # no sideways scrolling
        IMG.mkdir(parents=True, exist_ok=True)
        for app in ("traccar", "owntracks", "osmand"):
            section = page.locator(f"#{app}")
            assert section.is_visible()
            section.screenshot(path=str(IMG / f"apps-{app}.png"))
        assert errors == []
    finally:
        context.close()
