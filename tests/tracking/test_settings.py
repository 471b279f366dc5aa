"""Every setting is documented in the README, and the environment reaches the settings."""

from pathlib import Path

from tracking.settings import Settings, documented_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_table_with_its_env_variable():
    text = README.read_text(encoding="utf-8")
    missing = [
        name
        for name, _, _ in documented_settings()
        if f"`{name}`" not in text or f"REFUGEE_WALK_{name.upper()}" not in text
    ]
    assert missing == []


def test_every_setting_has_a_help_text():
    assert all(help_text.strip() for _, _, help_text in documented_settings())


def test_environment_then_overrides():
    env = {
        "REFUGEE_WALK_PORT": "9001",
        "REFUGEE_WALK_MAX_SPEED_KMH": "12.5",
        "REFUGEE_WALK_DB_PATH": "/tmp/x.sqlite3",
    }
    s = Settings.from_env(env)
    assert (s.port, s.max_speed_kmh, str(s.db_path)) == (9001, 12.5, "/tmp/x.sqlite3")
    assert Settings.from_env(env, port=7000).port == 7000
    assert Settings.from_env({}, port=None).port == 8000
