"""/docs without the internet: Swagger UI 5 served by the app from the `fastapi-offline` package.

FastAPI's own /docs and /redoc load their scripts from a CDN, so they are blank on a laptop in a
field. `install(app)` replaces them with the same Swagger UI page pointing at /docs-assets/
(Swagger UI 5 reads OpenAPI 3.1, which FastAPI writes; only the package's files are used).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from tracking.web import openapi

ASSETS = "/docs-assets"
REPLACED = ("/docs", "/docs/oauth2-redirect", "/redoc")


def install(app: FastAPI) -> None:
    """Serve Swagger UI's files from the package and answer /docs with a page that uses them;
    complete the OpenAPI schema it shows (`tracking.web.openapi`)."""
    openapi.install(app)
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.router.routes[:] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path in REPLACED)
    ]
    app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")
    title = f"{app.title} — API"
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    app.add_api_route("/docs", docs, include_in_schema=False, response_class=HTMLResponse)
