"""Tokens never reach a log line: paths, query strings, credentials and known secrets."""

from __future__ import annotations

import io
import logging

import pytest

from tracking.logs import MASK, RedactSecrets, log_config, redact, remember_secret

TOKEN = "Xq3_9fKd-2LmZpR7sTuVwY01"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1:5 - "GET /w/{TOKEN} HTTP/1.1" 200',
        f'"GET /w/{TOKEN}/apps?lang=nl HTTP/1.1" 200',
        f'"GET /w/{TOKEN}/map HTTP/1.1" 200',
        f'"GET /ingest/osmand?lat=51.2&id={TOKEN}&lon=4.4 HTTP/1.1" 200',
        f'"GET /ingest/osmand?deviceid={TOKEN} HTTP/1.1" 200',
        f'"WebSocket /ws/live?token={TOKEN}" 403',
        f"Authorization: Bearer {TOKEN}",
        f"Authorization: basic {TOKEN}",
    ],
)
def test_tokens_in_paths_queries_and_credentials_are_masked(line: str) -> None:
    out = redact(line)
    assert TOKEN not in out
    assert MASK in out


def test_other_query_values_and_paths_are_kept() -> None:
    line = '"GET /api/walkers?route=40km&walker_id=abc HTTP/1.1" 200'
    assert redact(line) == line


def test_a_remembered_secret_is_masked_anywhere() -> None:
    remember_secret("organiser-secret-value-123")
    assert "organiser-secret-value-123" not in redact(
        "x organiser-secret-value-123 y", RedactSecrets.secrets
    )


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('%s - "%s %s"', "127.0.0.1", "GET", f"/w/{TOKEN}")
        try:
            raise ValueError(f"bad /ws/live?token={TOKEN}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert "/w/***" in stream.getvalue() and "token=***" in stream.getvalue()


def test_every_uvicorn_handler_gets_the_filter() -> None:
    config = log_config("info")
    assert all(h["filters"] == ["redact"] for h in config["handlers"].values())
    assert config["root"]["handlers"] == ["default"]
