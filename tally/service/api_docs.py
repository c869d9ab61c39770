"""``/api/docs``: the API's Swagger UI served from this machine, no CDN, no inline script.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script; a polling
station is often offline, and the service's Content-Security-Policy allows only same-origin
scripts. So the assets come from the ``fastapi-offline`` package's copy of Swagger UI, mounted at
``/api/docs-assets/``, and the page starts Swagger UI from a same-origin script.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_URL", "DOCS_URL", "mount_docs"]

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs-assets"
_STATIC = Path(fastapi_offline.__file__).parent / "static"

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title} – API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{docs}/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi!r},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
"""


def mount_docs(app: FastAPI, openapi_url: str) -> None:
    """Add ``/api/docs`` (page and start-up script) and its local assets to ``app``."""
    app.mount(ASSETS_URL, StaticFiles(directory=_STATIC), name="api-docs-assets")
    page = _PAGE.format(title=app.title, assets=ASSETS_URL, docs=DOCS_URL)
    init = _INIT.format(openapi=openapi_url)

    @app.get(DOCS_URL, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS_URL}/init.js", include_in_schema=False)
    async def api_docs_init() -> Response:
        return Response(init, media_type="text/javascript")
