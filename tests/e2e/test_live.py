"""The public live page on a real server: totals equal the organisers' overview, counts only
(no name, token or position), live updates, a big-screen mode, and the frame-ancestors
setting. Screenshots go to docs/img/live*.png."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from routes.bundled import event_path
from routes.event import load_event
from tests.support import PROJECT, Server, register_walker

IMG = PROJECT / "docs" / "img"
NOT_ON_THE_WAY = ("registered", "finished", "dropped_out")


def poll(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def event():
    return load_event(event_path("antwerp-2023"))


def fix(srv: Server, token: str, route, index: int, n: int) -> None:
    with srv.client() as c:
        body = {
            "fixes": [
                {
                    "id": f"live-{n}",
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "lat": float(route.lats[index]),
                    "lon": float(route.lons[index]),
                    "accuracy_m": 5,
                }
            ]
        }
        r = c.post("/api/fixes", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def walk(module_server: Server, event) -> dict[str, Any]:
    """Eight walkers: some walking on both routes, one finished, the rest not started."""
    srv = module_server
    walkers = [
        register_walker(srv, f"Secret Name{i}", "20km" if i < 4 else "40km", bib=str(300 + i))
        for i in range(8)
    ]
    r20, r40 = event.routes["20km"].route, event.routes["40km"].route
    fix(srv, walkers[0]["token"], r20, 50, 0)
    fix(srv, walkers[1]["token"], r20, 300, 1)
    fix(srv, walkers[4]["token"], r40, 500, 2)
    with srv.client() as c:
        station = c.post(
            "/api/stations", json={"checkpoint_id": "finish-zomerfabriek"}, headers=srv.organiser
        ).json()
        done = c.post(
            "/api/station/checkins",
            json={"code": "302", "client_id": "a"},
            headers={"Authorization": f"Bearer {station['token']}"},
        )
        assert done.status_code == 201, done.text
    return {"walkers": walkers, "r20": r20, "r40": r40}


def matches_overview(srv: Server) -> tuple[dict, dict] | None:
    with srv.client() as c:
        live = c.get("/api/live").json()
        ov = c.get("/api/overview", headers=srv.organiser).json()
    same = (live["walkers"], live["finished"], live["total_km"]) == (
        ov["walkers"],
        ov["finished"],
        ov["total_km"],
    )
    return (live, ov) if same else None


def test_live_totals_match_the_overview_and_carry_no_one(module_server: Server, walk) -> None:
    live, ov = poll(lambda: matches_overview(module_server), 10, "the same totals")
    assert live["walkers"] == 8 and live["finished"] == 1
    for rid, r in ov["routes"].items():
        on_way = r["walkers"] - sum(r["statuses"][s] for s in NOT_ON_THE_WAY)
        assert live["routes"][rid]["on_the_way"] == on_way
        assert live["routes"][rid]["finished"] == r["finished"]
        assert sum(live["routes"][rid]["histogram"]["counts"]) == on_way
    assert live["on_the_way"] == 3
    assert {c["checkpoint_id"]: c["count"] for c in live["recent_checkins"]}[
        "finish-zomerfabriek"
    ] == 1
    text = json.dumps(live)
    for w in walk["walkers"]:
        assert w["token"] not in text and w["id"] not in text
    assert "Secret" not in text and '"lat"' not in text and '"lon"' not in text
    with module_server.client() as c:
        page = c.get("/live")
        assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
        assert "Secret" not in page.text and '"lat"' not in page.text
        assert not any(w["token"] in page.text for w in walk["walkers"])


def test_the_live_page_shows_the_totals_and_updates(module_server: Server, walk, browser) -> None:
    live, _ = poll(lambda: matches_overview(module_server), 10, "the same totals")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{module_server.url}/live")
        assert page.text_content("#on-the-way") == str(live["on_the_way"])
        assert page.text_content("#finished") == str(live["finished"])
        assert page.text_content("#km") == f"{live['total_km']:.1f}"
        assert len(page.query_selector_all("#routes .route")) == 2
        IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG / "live.png"), full_page=True)
        fix(module_server, walk["walkers"][5]["token"], walk["r40"], 400, 9)
        page.wait_for_function(
            f"() => document.querySelector('#on-the-way').textContent === '{live['on_the_way'] + 1}'",
            timeout=15_000,
        )
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{module_server.url}/live?big=1&lang=nl")
        assert page.get_attribute("body", "class") == "big"
        page.screenshot(path=str(IMG / "live-big.png"))
        assert errors == []
    finally:
        context.close()


def test_who_may_embed_the_live_page_is_a_setting(tmp_path) -> None:
    srv = Server(
        db=tmp_path / "w.sqlite3",
        env={"REFUGEE_WALK_LIVE_FRAME_ANCESTORS": "'self' https://www.refugeewalk.be"},
    ).start()
    try:
        with srv.client() as c:
            csp = c.get("/live").headers["content-security-policy"]
        assert "frame-ancestors 'self' https://www.refugeewalk.be" in csp
    finally:
        srv.stop()
