"""A walker on a personal route attaches a route that counts and is then tracked along it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from routes.bundled import data_dir
from routes.gpx_reader import read_route_gpx
from routes.prepared import prepare_route
from tests.support import register_walker
from tracking.simulation import WalkerPlan, simulate

pytestmark = pytest.mark.e2e

GENT_20 = data_dir() / "gpx" / "gent-2024-20km.gpx"


def _attach(c, token: str, data: bytes, km: str):
    return c.post(
        "/api/me/route",
        files={"file": ("my-walk.gpx", data, "application/gpx+xml")},
        data={"distance_km": km},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_personal_route_is_validated_attached_and_followed(server):
    walker = register_walker(server, "Pat", "personal")
    event_walker = register_walker(server, "Eve", "20km")
    data = GENT_20.read_bytes()
    with server.client() as c:
        too_short = _attach(c, walker["token"], data, "40")
        assert too_short.status_code == 422
        assert (
            too_short.json()["report"]["valid"] is False and "count" in too_short.json()["detail"]
        )
        assert _attach(c, event_walker["token"], data, "20").status_code == 409
        attached = _attach(c, walker["token"], data, "20")
        assert attached.status_code == 201, attached.text
        assert attached.json()["report"]["valid"] is True

        route = prepare_route(read_route_gpx(data, "gent"), "personal")
        start = datetime.now(UTC) - timedelta(hours=3)
        fixes = simulate(
            route, WalkerPlan(1.4, start), interval_s=10, seed=3, until=start + timedelta(hours=1)
        )
        batch = [
            {
                "id": f"p{i}",
                "recorded_at": f.at.isoformat(),
                "lat": f.lat,
                "lon": f.lon,
                "accuracy_m": f.accuracy_m,
            }
            for i, f in enumerate(fixes)
        ]
        r = c.post(
            "/api/fixes",
            json={"fixes": batch},
            headers={"Authorization": f"Bearer {walker['token']}"},
        )
        assert r.json()["accepted"] == len(batch)
        me = c.get("/api/me", headers={"Authorization": f"Bearer {walker['token']}"}).json()
        assert me["route_length_m"] == pytest.approx(route.length_m, rel=1e-3)
        assert me["distance_along_m"] == pytest.approx(fixes[-1].true_along_m, abs=60)
        assert [ci["checkpoint_id"] for ci in me["checkins"]][:2] == [
            cp.id for cp in route.checkpoints[:2]
        ]


def test_personal_walker_without_a_route_gets_distance_walked(server):
    walker = register_walker(server, "Sam", "personal")
    now = time.time() - 3600
    # 60 fixes along a straight line, 50 m apart (1 per 40 s = 4.5 km/h), with 5 m jitter.
    fixes = [
        {
            "id": str(i),
            "recorded_at": now + 40 * i,
            "lat": 50.85 + i * 50 / 111_200 + (i % 2) * 4e-5,
            "lon": 4.35,
            "accuracy_m": 8,
        }
        for i in range(60)
    ]
    with server.client() as c:
        c.post(
            "/api/fixes",
            json={"fixes": fixes},
            headers={"Authorization": f"Bearer {walker['token']}"},
        ).raise_for_status()
        me = c.get("/api/me", headers={"Authorization": f"Bearer {walker['token']}"}).json()
    assert me["route_length_m"] is None
    assert me["distance_along_m"] == pytest.approx(59 * 50, rel=0.1)
