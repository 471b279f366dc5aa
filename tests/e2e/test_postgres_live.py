"""The server on PostgreSQL: `refugee-walk serve --db postgresql://...`, a real server process
against a real database; skipped, with the reason, where PostgreSQL does not answer."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from tests.e2e.test_fix_path import cohort, page_fix, register, send, walk
from tests.e2e.test_restart import kept
from tests.pg import fresh_postgres
from tests.support import Server, free_port

pytestmark = pytest.mark.e2e


def test_a_walk_on_postgresql_survives_kill_9(tmp_path):
    with fresh_postgres() as url:
        srv = Server(db=tmp_path / "unused.sqlite3", database=url).start()
        try:
            w = register(srv, cohort()[4])  # the walker page on the 20 km
            w.fixes = w.fixes[:600]
            final = walk(srv, w, chunk=60)
            assert final["distance_along_m"] > 5000 and final["checkins"]
            before = kept(final)
            srv.restart(hard=True)
            with srv.client() as c:
                after = c.get(f"/api/walkers/{w.id}", headers=srv.organiser).json()
            assert kept(after) == before
            assert not (tmp_path / "unused.sqlite3").exists()  # nothing went to SQLite
        finally:
            srv.stop()


class Proxy:
    """A TCP forwarder to PostgreSQL that the test can cut and restore (a network outage)."""

    def __init__(self, target_port: int = 5432) -> None:
        self.target = target_port
        self.port = free_port()
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.conns.clear()

    def restore(self) -> None:
        self.up.set()


def test_while_postgresql_is_away_phones_get_503_and_nothing_unstored_is_acknowledged(tmp_path):
    with fresh_postgres() as url:
        proxy = Proxy()
        via_proxy = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        srv = Server(db=tmp_path / "unused.sqlite3", database=via_proxy).start()
        try:
            w = register(srv, cohort()[4])
            bearer = {"Authorization": f"Bearer {w.token}"}
            with srv.client() as c:
                send(c, w, list(enumerate(w.fixes))[:30])
                proxy.cut()
                r = c.post(
                    "/api/fixes", json={"fixes": [page_fix(w, 30, w.fixes[30])]}, headers=bearer
                )
                assert r.status_code == 503 and r.headers["retry-after"]
                assert "send it again" in r.json()["detail"]
                proxy.restore()
                for _ in range(40):  # the phone resends until acknowledged
                    r = c.post(
                        "/api/fixes",
                        json={"fixes": [page_fix(w, k, w.fixes[k]) for k in range(30, 60)]},
                        headers=bearer,
                    )
                    if r.status_code == 200:
                        break
                    time.sleep(0.25)
                assert r.status_code == 200, r.text
                view = c.get(f"/api/walkers/{w.id}", headers=srv.organiser).json()
            import psycopg

            with psycopg.connect(url) as db:
                n = db.execute("SELECT COUNT(*) FROM fixes WHERE walker_id=%s", (w.id,)).fetchone()[
                    0
                ]
            assert n == 60  # every fix once: none lost, none twice
            assert view["distance_along_m"] > 0 and view["last_fix"] is not None
        finally:
            srv.stop()
            proxy.cut()
            proxy.server.close()
