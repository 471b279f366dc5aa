"""One translation catalogue for every page: Dutch, English and French.

`static/i18n.json` holds the pages' words by language and section (`page`: the walker page and
its script; `setup`: the app set-up and unknown-link pages; `landing`; `plan`: the planner).
The sentences of the route check's findings and of unreadable files live in
`routes/findings.json` (the route model fills in the English ones itself) and are served here as
the `findings` section, so every page translates the server's codes from the same place.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from fastapi import Request

from routes.findings import templates as finding_templates

LANGUAGES = ("nl", "en", "fr")
LANG_COOKIE = "rw_lang"
CATALOGUE = Path(__file__).resolve().parents[1] / "static" / "i18n.json"

Catalogue = dict[str, dict[str, dict[str, str]]]


@cache
def catalogue() -> Catalogue:
    """{language: {section: {key: text}}}, the findings included."""
    loaded: Catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for lang in LANGUAGES:
        loaded[lang]["findings"] = finding_templates()[lang]
    return loaded


def sections(*names: str) -> dict[str, dict[str, dict[str, str]]]:
    """Some sections in every language, for a page that switches language by itself."""
    return {lang: {name: catalogue()[lang][name] for name in names} for lang in LANGUAGES}


def choose_language(query: str | None, cookie: str | None, accept_language: str) -> str:
    """?lang=, then the switch's cookie, then the browser's languages; Dutch for Belgium.

    A browser asking for none of the three gets Dutch when it is set to Belgium or the
    Netherlands (or says nothing), English otherwise.
    """
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    tags = _accepted(accept_language)
    for tag in tags:
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    if not tags or any(tag.endswith(("-be", "-nl")) for tag in tags):
        return "nl"
    return "en"


def _accepted(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first (q=0 dropped)."""
    weighted = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().lower().partition(";")
        match = re.search(r"q=([0-9.]+)", params)
        try:
            q = float(match[1]) if match else 1.0
        except ValueError:
            q = 0.0
        if tag and tag != "*" and q > 0:
            weighted.append((-q, i, tag))
    return [tag for _, _, tag in sorted(weighted)]


def language(request: Request) -> str:
    return choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language", ""),
    )


def language_links(lang: str, path: str) -> list[dict[str, str | bool]]:
    """The NL · EN · FR switch: one link per language, the current one marked."""
    return [
        {
            "code": code,
            "href": f"{path}?lang={code}",
            "name": catalogue()[code]["page"]["lang_name"],
            "current": code == lang,
        }
        for code in LANGUAGES
    ]
