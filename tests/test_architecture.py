"""Rules the code keeps, checked: the single writer, import boundaries, and the map of modules.

- No request handler runs in a worker thread: every endpoint is `async def`, so none can
  touch tracker state or the database connection from a thread. Handlers change state only
  by awaiting the engine; only the engine and storage touch the database.
- `routes/` imports neither `tracking` nor `maps`; only `tracking/web` imports FastAPI; the
  pure core imports neither settings nor storage back ends, and does no I/O.
- docs/architecture.md names every module.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute

from tracking.app import create_app
from tracking.settings import Settings

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("routes", "tracking", "maps")
PURE_CORE = (
    "tracking/fixes.py",
    "tracking/validation.py",
    "tracking/matching.py",
    "tracking/progress.py",
    "tracking/late.py",
    "tracking/checkins.py",
    "tracking/walker_state.py",
    "tracking/status.py",
    "tracking/predictions.py",
    "tracking/views.py",
    "tracking/protocols/__init__.py",
    "tracking/protocols/osmand.py",
    "tracking/protocols/owntracks.py",
    "tracking/protocols/walker_api.py",
)


def modules() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES for p in (PROJECT / pkg).rglob("*.py") if "__pycache__" not in p.parts
    )


def imports(path: Path) -> set[str]:
    """Modules imported at run time (imports under `if TYPE_CHECKING:` do not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(Settings(db_path=tmp_path_factory.mktemp("arch") / "a.sqlite3"))


def endpoints(routes: list) -> list:
    """Every route, inside included routers too (FastAPI keeps them as wrappers)."""
    found = []
    for r in routes:
        if isinstance(r, APIRoute | APIWebSocketRoute):
            found.append(r)
        inner = getattr(r, "original_router", None)
        if inner is not None:
            found += endpoints(inner.routes)
    return found


def test_every_endpoint_runs_on_the_event_loop_never_in_a_worker_thread(app) -> None:
    endpoints_ = endpoints(app.routes)
    assert len(endpoints_) > 25
    in_threads = [r.path for r in endpoints_ if not inspect.iscoroutinefunction(r.endpoint)]
    assert in_threads == [], f"sync handlers run in worker threads: {in_threads}"


def test_only_the_engine_and_storage_touch_the_database() -> None:
    # exports read history through a read-only connection of their own, off the engine
    allowed = {"tracking/engine.py", "tracking/commands/purge_cmd.py", "tracking/exports.py"}
    for path in modules():
        rel = path.relative_to(PROJECT).as_posix()
        if rel.startswith("tracking/storage/") or rel in allowed:
            continue
        assert "sqlite3" not in imports(path), rel
        source = path.read_text(encoding="utf-8")
        for call in ("store.write(", "._db", ".neighbours(", "walker_states("):
            assert call not in source or "storage" in rel, (rel, call)


def test_handlers_never_change_state_themselves() -> None:
    """Only the engine's methods change state: handlers never assign into tracker objects."""
    for path in (PROJECT / "tracking" / "web").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in (".progress.", ".checkins[", ".open_alerts[", ".record =", "registry.add"):
            for line in source.splitlines():
                if forbidden in line and "=" in line.split(forbidden)[-1][:4]:
                    pytest.fail(f"{path.name} changes state: {line.strip()}")


def test_import_boundaries() -> None:
    for path in modules():
        rel = path.relative_to(PROJECT).as_posix()
        found = imports(path)
        roots = {name.split(".")[0] for name in found}
        if rel.startswith("routes/"):
            assert not roots & {"tracking", "maps"}, rel
        if not rel.startswith("tracking/web/") and rel != "tracking/app.py":
            assert "fastapi" not in roots and "starlette" not in roots, rel
        if rel in PURE_CORE:
            bad = {
                n
                for n in found
                if n.startswith(("tracking.settings", "tracking.storage.sqlite", "tracking.engine"))
                or n.split(".")[0] in {"sqlite3", "httpx", "asyncio", "socket", "os"}
            }
            assert not bad, (rel, bad)


def test_the_architecture_map_names_every_module() -> None:
    doc = (PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        p.relative_to(PROJECT).as_posix()
        for p in modules()
        if p.name != "__init__.py" and p.name not in doc
    ]
    assert missing == [], f"docs/architecture.md does not name: {missing}"
