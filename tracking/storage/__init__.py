"""Storage behind a small interface (`base.Storage`); SQLite is the embedded default.

`open_storage(where)` picks the back end from the setting: a file path is SQLite (needs
nothing installed), a `postgresql://` URL is PostgreSQL (several processes on one event).
"""

from __future__ import annotations

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
