"""Tracking: the path of a GPS fix (receive, validate, match, store, broadcast) and the service.

The pure core: `fixes`, `protocols/`, `validation`, `matching`, `checkins`, `progress`.
The edges: `storage/` (SQLite), `hub` (WebSocket fan-out), `web/` (FastAPI routers),
and the composition root `app.create_app(settings)` with the CLI in `cli`.
"""
