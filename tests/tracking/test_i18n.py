"""The one catalogue: every key in Dutch, English and French, with the same holes."""

from __future__ import annotations

import re

import pytest

from routes.findings import templates
from tests.support import PROJECT
from tracking.web.i18n import LANGUAGES, catalogue

HOLE = re.compile(r"\{\w+(?::\d)?\}")
SECTIONS = ("page", "setup", "landing", "plan", "findings")


@pytest.mark.parametrize("section", SECTIONS)
def test_every_key_exists_in_every_language_with_the_same_holes(section: str) -> None:
    cat = catalogue()
    assert set(cat) == set(LANGUAGES)
    keys = set(cat["en"][section])
    assert keys
    for lang in LANGUAGES:
        missing = keys - set(cat[lang][section])
        extra = set(cat[lang][section]) - keys
        assert not missing and not extra, (lang, section, missing, extra)
        for key in keys:
            text = cat[lang][section][key]
            assert text.strip(), (lang, section, key)
            assert sorted(HOLE.findall(text)) == sorted(HOLE.findall(cat["en"][section][key])), (
                lang,
                section,
                key,
            )


def test_every_refusal_and_finding_code_has_a_sentence() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (PROJECT / "routes").glob("*.py"))
    codes = set(re.findall(r'GpxReadError\(\s*\w+,\s*"(\w+)"', source))
    codes |= set(re.findall(r'GpxTooLargeError\(\s*\w+,\s*"(\w+)"', source))
    codes |= set(re.findall(r'finding\(\s*"(\w+)"', source))
    assert {"not_xml", "bad_coordinates", "too_short"} <= codes
    assert codes <= set(templates()["en"]), codes - set(templates()["en"])


def test_the_planner_script_uses_only_keys_of_the_catalogue() -> None:
    script = (PROJECT / "tracking" / "static" / "plan.js").read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("(\w+)"', script)) | set(re.findall(r'data-t="(\w+)"', script))
    template = (PROJECT / "tracking" / "web" / "templates" / "plan.html").read_text()
    used |= set(re.findall(r'data-t="(\w+)"', template))
    assert used and used <= set(catalogue()["en"]["plan"]), used - set(catalogue()["en"]["plan"])
