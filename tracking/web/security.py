"""Security headers on every page: a Content-Security-Policy without inline scripts, nosniff.

`content_security_policy(html, ...)` builds the policy of one page: scripts from the app and,
for the inline `<script>` blocks that folium writes, their sha256 hashes (no
`'unsafe-inline'` for scripts); images from the app and the tile server only; connections to
the page's own origin (and its ws/wss twin); no framing unless the page allows its own origin.
`SecurityHeaders` is the middleware that applies it to every HTML answer and adds
`X-Content-Type-Options: nosniff` to every answer. A page may set its own policy: its
`style-src`, `frame-ancestors`, `frame-src` and `form-action` are kept, the rest is replaced.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
PAGE_MAY_SET = ("style-src", "frame-ancestors", "frame-src", "form-action")


def script_hashes(html: str) -> list[str]:
    """`'sha256-…'` of each inline script block, as the browser hashes its text."""
    return sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in INLINE_SCRIPT.findall(html)
        }
    )


def tile_origin(tile_url: str) -> str:
    """The origin of an XYZ tile template ('{s}' subdomains become a wildcard)."""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}" in tile_url:
        host = "*." + host.split(".", 1)[1] if host.startswith("a.") else host
    return f"{parts.scheme}://{host}"


def content_security_policy(
    html: str, tile_url: str, own_origin: str = "", page_policy: str = ""
) -> str:
    """The policy for this page (see the module doc)."""
    ws_origin = _ws_twin(own_origin)
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes(html)]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": " ".join(x for x in ("'self'", "data:", "blob:", tile_origin(tile_url)) if x),
        "font-src": "'self' data:",
        "connect-src": " ".join(x for x in ("'self'", ws_origin) if x),
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    for name, value in _parse(page_policy).items():
        if name in PAGE_MAY_SET:
            directives[name] = value
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def _parse(policy: str) -> dict[str, str]:
    out = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name.lower()] = value.strip()
    return out


def _ws_twin(origin: str) -> str:
    if origin.startswith("https://"):
        return "wss://" + origin[len("https://") :]
    if origin.startswith("http://"):
        return "ws://" + origin[len("http://") :]
    return ""


class SecurityHeaders:
    """Adds the page's CSP to HTML answers and nosniff to all (pure ASGI; buffers HTML only)."""

    def __init__(self, app: ASGIApp, tile_url: str) -> None:
        self.app = app
        self.tile_url = tile_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _origin(scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if not headers.get("content-type", "").startswith("text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            page_policy = headers.get("content-security-policy", "")
            html = body.decode("utf-8", "replace")
            policy = content_security_policy(html, self.tile_url, origin, page_policy)
            headers["Content-Security-Policy"] = policy
            headers["X-Frame-Options"] = (
                "DENY" if "frame-ancestors 'none'" in policy else ("SAMEORIGIN")
            )
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)


def _origin(scope: Scope) -> str:
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host or any(c in host for c in " ;,'\"\r\n"):
        return ""
    return f"{scope.get('scheme', 'http')}://{host}"
