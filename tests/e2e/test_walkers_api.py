"""Organiser walker management against a real server: register, import, list, status, revoke, delete."""

from __future__ import annotations

import time

import pytest

from tests.support import register_walker

pytestmark = pytest.mark.e2e


def _fix(fid: str, lat: float, lon: float, t: float | None = None) -> dict:
    return {"id": fid, "recorded_at": t or time.time(), "lat": lat, "lon": lon, "accuracy_m": 8}


def test_register_returns_a_secret_link_and_requires_the_organiser(server):
    with server.client() as c:
        r = c.post("/api/walkers", json={"name": "Ann", "route_id": "40km"})
        assert r.status_code == 401 and "organiser token" in r.json()["detail"]
        r = c.post(
            "/api/walkers", json={"name": "Ann", "route_id": "99km"}, headers=server.organiser
        )
        assert r.status_code == 422 and "40km" in r.json()["detail"]
        r = c.post("/api/walkers", json={"route_id": "40km"}, headers=server.organiser)
        assert r.status_code == 422 and "name" in r.json()["detail"]
    made = register_walker(server, "Ann", "40km", bib="101", team="Team A", phone="+32 470")
    assert len(made["token"]) >= 30 and made["url"].endswith("/w/" + made["token"])


def test_csv_import_is_all_or_nothing_and_names_the_bad_row(server):
    rows = ["name;route;bib;team", "Ann Peeters;40km;1;A", "Bert;20 km;2;B", ";40km;3;C"]
    bad_rows = {
        "Carla;12km;4;C": "line 5, column route: unknown route '12km'",
        "Dirk;40km;1;D": "line 5, column bib: bib 1 is already registered",
        f"{'x' * 201};40km;5;E": "line 5, column name",
        "Eva;40km;" + "9" * 41 + ";E": "line 5, column bib",
    }
    with server.client() as c:
        for bad, words in bad_rows.items():
            text = "\n".join([*rows, bad]) + "\n"
            r = c.post("/api/walkers/import", content=text.encode(), headers=server.organiser)
            assert r.status_code == 422 and words in r.json()["detail"], r.text
            assert c.get("/api/walkers", headers=server.organiser).json() == []  # none created
        text = "\n".join(rows) + "\n"
        r = c.post("/api/walkers/import", content=text.encode(), headers=server.organiser)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["created"] == 2 and body["skipped"] == 1
        assert [row["result"] for row in body["rows"]] == ["created", "created", "skipped"]
        assert all(len(row["token"]) >= 30 for row in body["rows"][:2])
        r = c.post("/api/walkers/import", content=b"name\nAnn\n", headers=server.organiser)
        assert r.status_code == 400 and "route" in r.json()["detail"]  # a single column
        r = c.post("/api/walkers/import", content=b"foo,bar\n1,2\n", headers=server.organiser)
        assert r.status_code == 400 and "header" in r.json()["detail"]
        r = c.post(
            "/api/walkers/import",
            content="name,route\nZo\xeb,40km\n".encode("latin-1"),
            headers=server.organiser,
        )
        assert r.status_code == 400 and "UTF-8" in r.json()["detail"]


def test_list_filters_and_detail(server):
    a = register_walker(server, "Ann Peeters", "40km", bib="7")
    register_walker(server, "Bert", "20km")
    with server.client() as c:
        c.post(
            "/api/fixes",
            json={"fixes": [_fix("1", 51.2045, 4.4395)]},
            headers={"Authorization": f"Bearer {a['token']}"},
        ).raise_for_status()
        listed = c.get("/api/walkers", params={"route": "20km"}, headers=server.organiser).json()
        assert [w["name"] for w in listed] == ["Bert"]
        assert [
            w["name"]
            for w in c.get("/api/walkers", params={"q": "peet"}, headers=server.organiser).json()
        ] == ["Ann Peeters"]
        registered = c.get(
            "/api/walkers", params={"status": "registered"}, headers=server.organiser
        )
        assert [w["name"] for w in registered.json()] == ["Bert"]
        detail = c.get(f"/api/walkers/{a['id']}", headers=server.organiser).json()
        assert detail["last_fix"]["lat"] == pytest.approx(51.2045)
        assert detail["checkins"][0]["checkpoint_id"].startswith("start")
        assert c.get("/api/walkers/nobody", headers=server.organiser).status_code == 404


def test_status_override_revoke_and_delete(server):
    a = register_walker(server, "Ann", "40km")
    walker = {"Authorization": f"Bearer {a['token']}"}
    with server.client() as c:
        c.post("/api/fixes", json={"fixes": [_fix("1", 51.2045, 4.4395)]}, headers=walker)
        r = c.post(
            f"/api/walkers/{a['id']}/status",
            json={"status": "dropped_out"},
            headers=server.organiser,
        )
        assert r.json()["status"] == "dropped_out"
        r = c.post(
            f"/api/walkers/{a['id']}/status", json={"status": "walking"}, headers=server.organiser
        )
        assert r.json()["status"] != "dropped_out"
        new = c.post(f"/api/walkers/{a['id']}/revoke", headers=server.organiser).json()
        assert c.get("/api/me", headers=walker).status_code == 401
        fresh = {"Authorization": f"Bearer {new['token']}"}
        assert c.get("/api/me", headers=fresh).json()["name"] == "Ann"
        assert c.delete(f"/api/walkers/{a['id']}", headers=server.organiser).status_code == 204
        assert c.get(f"/api/walkers/{a['id']}", headers=server.organiser).status_code == 404
        assert c.get("/api/me", headers=fresh).status_code == 401


def test_routes_are_public_and_gpx_downloads(server):
    with server.client() as c:
        routes = c.get("/api/routes").json()
        assert {r["id"] for r in routes} == {"40km", "20km"}
        forty = next(r for r in routes if r["id"] == "40km")
        assert 39_600 <= forty["distance_m"] <= 40_400
        along = [cp["distance_along_m"] for cp in forty["checkpoints"]]
        assert (
            along == sorted(along)
            and along[0] < 1
            and along[-1] == pytest.approx(forty["distance_m"], abs=1)
        )
        gpx = c.get("/api/routes/20km.gpx")
        assert gpx.status_code == 200 and b"<trk>" in gpx.content and b"<wpt" in gpx.content
        assert c.get("/api/routes/5km.gpx").status_code == 404


def test_organiser_token_is_generated_once_and_kept(tmp_path):
    from tests.support import Server

    srv = Server(db=tmp_path / "w.sqlite3", env={"REFUGEE_WALK_ORGANISER_TOKEN": ""})
    srv.start()
    try:
        token_file = tmp_path / "w.sqlite3.organiser-token"
        token = token_file.read_text().strip()
        assert len(token) >= 30 and token in srv.log.read_text()
        with srv.client() as c:
            assert (
                c.get("/api/overview", headers={"Authorization": f"Bearer {token}"}).status_code
                == 200
            )
        srv.restart()
        assert token_file.read_text().strip() == token
        assert srv.log.read_text().count(token) == 1
    finally:
        srv.stop()
