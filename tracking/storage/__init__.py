"""Storage behind a small interface (`base.Storage`); SQLite is the embedded default.

`open_storage(where)` picks the back end from the setting: a file path is SQLite (needs
nothing installed), a `postgresql://` URL is PostgreSQL (several processes on one event).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tracking.storage.base import Storage

POSTGRES_SCHEMES = ("postgresql:", "postgres:")


def database_url(where: str | Path) -> str | None:
    """The PostgreSQL URL in `where`, or None for an SQLite file.

    A Path made of a URL has lost one slash ('postgresql:/u@h/db'); it is put back.
    """
    text = str(where)
    for scheme in POSTGRES_SCHEMES:
        if text.startswith(scheme):
            rest = text[len(scheme) :].lstrip("/")
            return f"postgresql://{rest}"
    return None


def open_storage(where: str | Path) -> Storage:
    url = database_url(where)
    if url is not None:
        from tracking.storage.postgres import PostgresStorage

        return PostgresStorage(url)
    from tracking.storage.sqlite import SqliteStorage

    return SqliteStorage(Path(where))


def delete_positions(where: str | Path, before: datetime | None) -> int:
    """Delete stored positions (all, or recorded before `before`), safely beside a running
    server: small transactions, so its writer waits milliseconds, not the whole purge."""
    url = database_url(where)
    if url is None:
        from tracking.storage.sqlite import delete_positions as sqlite_delete

        return sqlite_delete(Path(where), before)
    from tracking.storage.postgres import delete_positions as postgres_delete

    return postgres_delete(url, before)
