"""The one catalogue: every key in Dutch, English and French, with the same holes."""

from __future__ import annotations

import re

import pytest

from routes.findings import templates
from tests.support import PROJECT
from tracking.web.i18n import LANGUAGES, catalogue

HOLE = re.compile(r"\{\w+(?::\d)?\}")
SECTIONS = ("page", "setup", "landing", "plan", "dashboard", "findings")


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


def test_the_dashboard_scripts_and_templates_use_only_keys_of_the_catalogue() -> None:
    folder = PROJECT / "tracking" / "static" / "organiser"
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.js")))
    used = set(re.findall(r'\bt\("(\w+)"\s*[,)]', script))
    used |= {f"confirm_{s}" for s in re.findall(r'statusButton\(v, "(\w+)"', script)} - {
        "confirm_walking"  # going back to walking asks nothing
    }
    used |= set(re.findall(r'"(pace_\w+)"', script))
    templates_dir = PROJECT / "tracking" / "web" / "templates"
    html = "".join(p.read_text() for p in templates_dir.glob("dashboard_*.html"))
    used |= set(re.findall(r"\bt\.(\w+)", html))
    keys = set(catalogue()["en"]["dashboard"])
    assert len(used) > 50 and used <= keys, used - keys


def test_every_status_and_alert_kind_has_a_label_in_the_dashboard_section() -> None:
    from tracking.alerts import ALERT_KINDS
    from tracking.status import STATUSES

    for lang in LANGUAGES:
        text = catalogue()[lang]["dashboard"]
        assert {f"status_{s}" for s in STATUSES} <= set(text), lang
        assert {f"alert_{k}" for k in ALERT_KINDS} <= set(text), lang


def test_the_dashboard_is_rendered_in_the_chosen_language(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tracking.app import create_app
    from tracking.settings import Settings

    settings = Settings(db_path=tmp_path / "t.sqlite3", organiser_token="t" * 32)
    with TestClient(create_app(settings)) as client:
        fr = client.get("/organiser?lang=fr")
        assert '<html lang="fr">' in fr.text
        assert "Connexion organisateur" in fr.text and "Not connected" not in fr.text
        assert '"lang": "fr"' in fr.text or '"lang":"fr"' in fr.text
        assert fr.cookies.get("rw_lang") == "fr"
        assert 'aria-current="true">FR' in client.get("/organiser").text  # the cookie
        assert "Aanmelden als organisator" in client.get("/organiser?lang=nl").text


@pytest.mark.parametrize("phone", ["+32 3 000 00 00", ""])
def test_the_dashboard_phone_warning_says_in_english_what_the_server_prints(phone: str) -> None:
    from tracking.contact import placeholder_warning
    from tracking.web.dashboard import phone_warning

    english = phone_warning(phone, "antwerp-2023", catalogue()["en"]["dashboard"])
    assert english == placeholder_warning(phone, "antwerp-2023")
    french = phone_warning(phone, "antwerp-2023", catalogue()["fr"]["dashboard"])
    assert french and "antwerp-2023" in french and phone in french and "organisateurs" in french
    assert phone_warning("+32 3 286 90 10", "x", catalogue()["nl"]["dashboard"]) is None
