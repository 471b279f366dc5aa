"""One way to build a page: Jinja2 templates with autoescaping, hashed asset URLs, script JSON.

Templates live in `web/templates/`, the scripts and styles in `static/` (served at /static/).
An asset's URL carries a hash of its content, so a browser never runs an old script.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@cache
def asset_url(name: str) -> str:
    """/static/<name>?v=<content hash>."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


@cache
def folder_version(name: str) -> str:
    """A hash of every file in static/<name>/: ES modules import each other by relative paths,
    so the whole folder is served under a path that changes with any of them."""
    digest = hashlib.sha256()
    for path in sorted((STATIC_DIR / name).glob("*.js")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def script_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no tag can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset_url
    env.filters["script_json"] = lambda data: Markup(script_json(data))
    return env


def render(template: str, **context: Any) -> str:
    """The page `template` (a file in web/templates/) with `context`, every value escaped."""
    return environment().get_template(template).render(**context)
