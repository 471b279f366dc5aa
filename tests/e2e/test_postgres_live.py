"""The server on PostgreSQL: `refugee-walk serve --db postgresql://...`, a real server process
against a real database; skipped, with the reason, where PostgreSQL does not answer."""

from __future__ import annotations

import pytest

from tests.e2e.test_fix_path import cohort, register, walk
from tests.e2e.test_restart import kept
from tests.pg import fresh_postgres
from tests.support import Server

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
