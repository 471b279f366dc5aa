"""No secret in any log line: walker and organiser tokens are replaced by `***` before output.

Tokens travel in paths (`/w/<token>`, `/w/<token>/apps`), query strings (`?id=`, `?token=`,
`?deviceid=`), `Authorization` values and, when a client still uses the old form, the
dashboard's WebSocket URL. `RedactSecrets` is a logging filter put on every handler the server
logs through (uvicorn's access and error handlers and the root handler): it rewrites the
message, its arguments (uvicorn's access formatter reads them one by one) and the traceback.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

MASK = "***"
SECRET_PARAMS = ("token", "id", "deviceid", "device_id", "password", "access_token", "key")

_PATTERNS = (
    # /w/<token>, /w/<token>/apps, /w/<token>/map
    (re.compile(r"(/w/)[^/?#\s\"']+"), rf"\g<1>{MASK}"),
    # ?token=…&id=… (also inside an encoded URL in a referrer)
    (
        re.compile(r"([?&;](?:" + "|".join(SECRET_PARAMS) + r")=)[^&#\s\"']*", re.IGNORECASE),
        rf"\g<1>{MASK}",
    ),
    # Authorization: Bearer … / Basic …
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<1> {MASK}"),
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every token in a path, query, credential or in `secrets` masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactSecrets(logging.Filter):
    """A handler filter that masks tokens in the message, its arguments and its traceback."""

    secrets: tuple[str, ...] = ()  # known secrets (the organiser token), set at start

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, RedactSecrets.secrets)
        return True

    @staticmethod
    def _clean(value: Any) -> Any:
        return redact(value, RedactSecrets.secrets) if isinstance(value, str) else value


def remember_secret(secret: str) -> None:
    """Mask this exact value too (the organiser token, whatever its form)."""
    if secret and secret not in RedactSecrets.secrets:
        RedactSecrets.secrets = (*RedactSecrets.secrets, secret)


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging configuration with `RedactSecrets` on every handler, root included."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "tracking.logs.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    return config
