"""The organisers' dashboard in French and Dutch, in a real headless chromium: the page, the
script's own words (KPIs, connection, alerts, the walker's detail) and the language switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.e2e.test_dashboard_browser import Dashboard, fix, post_fixes
from tests.support import Server, register_walker
from tracking.web.i18n import catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_the_dashboard_speaks_the_chosen_language(browser: Any, server: Server, lang: str) -> None:
    t = catalogue()[lang]["dashboard"]
    route = load_event(event_path("antwerp-2023")).routes["40km"].route
    walker = register_walker(server, "Amina Peeters", bib="101")
    now = datetime.now(UTC)
    post_fixes(server, walker, [fix(route, 900, now - timedelta(minutes=1))])
    lon, lat = route.point_at(910)
    with httpx.Client(base_url=server.url) as c:
        r = c.post(
            "/api/sos",
            json={"lat": lat, "lon": lon, "message": "help"},
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.status_code == 201

    d = Dashboard(browser, server)
    try:
        page = d.page
        page.goto(f"{server.url}/organiser?lang={lang}")
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("#rw-signin h1") == t["signin_title"]
        assert page.inner_text("#rw-conn") == t["conn_idle"]
        page.fill("#rw-token", "wrong")
        page.click("#rw-signin-form button[type=submit]")
        page.wait_for_selector("#rw-signin-error:not([hidden])")
        assert page.inner_text("#rw-signin-error") == t["err_token"]

        page.fill("#rw-token", server.token)
        page.click("#rw-signin-form button[type=submit]")
        page.wait_for_selector("body[data-connection=live]", timeout=15000)
        assert page.inner_text("#rw-conn") == t["conn_live"]
        kpis = page.inner_text("#rw-kpis").lower()
        assert t["kpi_walkers"].lower() in kpis and t["kpi_alerts"].lower() in kpis
        assert t["status_needs_help"] in page.inner_text("#rw-status")
        assert t["all_walkers"] in page.inner_text("#rw-status tfoot")
        assert t["th_point"] in page.inner_text("#rw-routes")
        assert page.inner_text("summary") == t["export"]
        assert page.get_attribute("#rw-search", "placeholder") == t["search_placeholder"]

        item = page.wait_for_selector("li.rw-alert[data-kind=sos]")
        assert t["alert_sos"] in item.inner_text()
        ack = "li.rw-alert[data-kind=sos] button[data-action=ack]"
        assert page.inner_text(ack) == t["acknowledge"]
        page.click(ack)
        assert page.inner_text(ack) == t["ack_confirm"]
        page.click(ack)
        page.wait_for_selector("li.rw-alert[data-kind=sos][data-state=acknowledged]")
        assert t["acknowledged"].split("{")[0].strip() in page.inner_text(
            "li.rw-alert[data-kind=sos] .rw-alert-state"
        )

        page.click("li.rw-alert[data-kind=sos] .rw-alert-show")
        page.wait_for_selector("#rw-detail h3")
        d.poll(
            "document.querySelector('#rw-detail .rw-facts') !== null"
            " && document.querySelector('#rw-detail').innerText",
            lambda text: bool(text) and t["f_progress"] in text and t["f_last"] in text,
        )
        detail = page.inner_text("#rw-detail").lower()  # headings are upper case by CSS
        assert t["checkins"].lower() in detail and t["dropped_out"].lower() in detail
        assert t["title"].split("{event}")[0] in page.title()

        # the switch: links with ?lang=, the current one marked; the choice is remembered
        current = page.get_attribute("#rw-langs a[aria-current=true]", "hreflang")
        assert current == lang
        page.goto(f"{server.url}/organiser")
        assert page.get_attribute("html", "lang") == lang
        page.click("#rw-langs a[hreflang=en]")
        page.wait_for_selector("body[data-connection=live]", timeout=15000)
        assert page.inner_text("#rw-conn") == "Live"
        # the browser logs the wrong token's 401 itself; nothing else may fail
        errors = [e for e in d.errors if "401 (Unauthorized)" not in e]
        assert errors == [], errors
    finally:
        d.close()
