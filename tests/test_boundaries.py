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


def test_the_dashboard_modules_import_only_what_the_others_export() -> None:
    import re

    folder = PROJECT / "tracking" / "static" / "organiser"
    exported = {
        p.name: set(re.findall(r"\w+|\$", m[1]))
        for p in folder.glob("*.js")
        if (m := re.search(r"^export \{([^}]*)\};", p.read_text(), re.M))
    }
    assert {"dom.js", "feed.js", "map.js", "sidebar.js"} <= set(exported)
    for path in folder.glob("*.js"):
        for names, source in re.findall(
            r'^import \{([^}]*)\} from "\./([\w.]+)";', path.read_text(), re.M
        ):
            missing = set(re.findall(r"\w+|\$", names)) - exported[source]
            assert not missing, (path.name, source, missing)
        assert "innerHTML" not in path.read_text()  # a person's text is never HTML
