"""Rules a test keeps: folium maps live in maps/, the web layer imports no folium, routes/
knows nothing of tracking or maps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import PROJECT


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((PROJECT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("tracking"), ids=lambda p: str(p.relative_to(PROJECT)))
def test_tracking_imports_no_folium(path: Path) -> None:
    assert not imports(path) & {"folium", "branca"}, "folium maps belong in maps/"


@pytest.mark.parametrize("path", modules("routes"), ids=lambda p: str(p.relative_to(PROJECT)))
def test_routes_knows_nothing_of_tracking_or_maps(path: Path) -> None:
    assert not imports(path) & {"tracking", "maps", "fastapi"}
