"""The web guards in isolation: throttle buckets and middleware, CSP hashes, the byte cache,
the CPU gate, the completed OpenAPI schema, and settings refused at start."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from tracking.settings import Settings, SettingsError
from tracking.web.bytecache import ByteCache
from tracking.web.cpu import CpuGate
from tracking.web.security import content_security_policy, script_hashes, tile_origin
from tracking.web.throttle import Buckets

TOKEN = "o" * 24


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_buckets_allow_a_burst_then_refill_at_their_rate() -> None:
    clock = Clock()
    b = Buckets(burst=3, per_s=0.5, clock=clock)
    assert [b.take("a") for _ in range(3)] == [0, 0, 0]
    assert b.take("a") == pytest.approx(2.0)
    assert b.take("b") == 0  # per address
    clock.now = 2.0
    assert b.take("a") == 0


@pytest.fixture
def app(tmp_path: Path):
    from tracking.app import create_app

    settings = Settings(db_path=tmp_path / "t.sqlite3", organiser_token=TOKEN, auth_failure_burst=5)
    with TestClient(create_app(settings)) as client:
        yield client


def test_failed_authentication_is_throttled_but_a_known_token_is_not(app: TestClient) -> None:
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert app.get("/api/overview", headers=good).status_code == 200
    codes = [
        app.get("/api/overview", headers={"Authorization": f"Bearer x{i}"}).status_code
        for i in range(8)
    ]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    limited = app.get("/api/overview", headers={"Authorization": "Bearer y"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert isinstance(limited.json()["detail"], str)
    assert app.get("/api/overview", headers=good).status_code == 200  # known: never throttled


def test_openapi_documents_string_details_bodies_and_statuses(app: TestClient) -> None:
    spec = app.get("/openapi.json").json()
    assert spec["components"]["schemas"]["Error"]["properties"]["detail"]["type"] == "string"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    fixes = spec["paths"]["/api/fixes"]["post"]
    assert "application/json" in fixes["requestBody"]["content"]
    validate = spec["paths"]["/api/personal-routes/validate"]["post"]
    assert "multipart/form-data" in validate["requestBody"]["content"]
    for code in ("400", "401", "413", "422", "429"):
        assert fixes["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    gpx = spec["paths"]["/api/export/tracks.gpx"]["get"]["responses"]["200"]["content"]
    assert list(gpx) == ["application/gpx+xml"]
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_script_hashes_are_those_a_browser_computes() -> None:
    html = "<p><script>var a = 1;</script><script src='/x.js'></script></p>"
    digest = base64.b64encode(hashlib.sha256(b"var a = 1;").digest()).decode()
    assert script_hashes(html) == [f"'sha256-{digest}'"]
    csp = content_security_policy(
        html, "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "http://h:1"
    )
    assert f"script-src 'self' 'sha256-{digest}'" in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self' ws://h:1" in csp
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in csp


def test_a_page_may_allow_its_own_origin_to_frame_it() -> None:
    csp = content_security_policy("", "", page_policy="frame-ancestors 'self'")
    assert "frame-ancestors 'self'" in csp


def test_tile_subdomains_become_a_wildcard() -> None:
    assert (
        tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    )


def test_the_byte_cache_forgets_the_least_used_to_stay_within_its_bytes() -> None:
    cache = ByteCache(max_bytes=10)
    for key in "abc":
        cache.get_or_build(key, lambda k=key: k * 4)
    assert cache.size <= 10
    assert cache.get_or_build("c", lambda: "rebuilt") == "cccc"
    assert cache.get_or_build("a", lambda: "rebuilt") == "rebuilt"
    assert cache.get_or_build("huge", lambda: "x" * 50) == "x" * 50 and cache.size <= 10


def test_the_cpu_gate_answers_503_with_retry_after_when_every_slot_is_taken() -> None:
    gate = CpuGate(concurrency=1, wait_s=0.2)

    async def scenario() -> list[object]:
        slow = asyncio.create_task(gate.run(lambda: __import__("time").sleep(1.0)))
        await asyncio.sleep(0.05)
        results: list[object] = []
        try:
            await gate.run(lambda: "done")
        except HTTPException as exc:
            results.append((exc.status_code, (exc.headers or {}).get("Retry-After")))
        await slow
        results.append(await gate.run(lambda: "done"))
        return results

    assert asyncio.run(scenario()) == [(503, "1"), "done"]


def test_a_short_organiser_token_is_refused(tmp_path: Path) -> None:
    from tracking.app import organiser_token

    with pytest.raises(SettingsError, match="at least 20"):
        organiser_token(Settings(db_path=tmp_path / "x.sqlite3", organiser_token="short"))
    token, made = organiser_token(Settings(db_path=tmp_path / "x.sqlite3"))
    assert made and len(token) >= 20
    assert (tmp_path / "x.sqlite3.organiser-token").stat().st_mode & 0o777 == 0o600


def test_the_byte_cache_refuses_to_wait_for_ever_for_a_builder() -> None:
    import threading

    from tracking.web.bytecache import BusyError

    cache = ByteCache(max_bytes=100, builders=1, wait_s=0.1)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "slow"

    worker = threading.Thread(target=lambda: cache.get_or_build("a", slow))
    worker.start()
    started.wait(5)
    with pytest.raises(BusyError):
        cache.get_or_build("b", lambda: "b")
    release.set()
    worker.join()
    assert cache.get_or_build("b", lambda: "b") == "b"
