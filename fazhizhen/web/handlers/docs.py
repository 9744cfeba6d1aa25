"""The OpenAPI document and the Swagger UI page, with its assets served from this server (no CDN)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from fazhizhen.keys import OPENAPI
from fazhizhen.web.openapi import build_spec, endpoint

STATIC = Path(__file__).resolve().parent.parent / "static"
PACKAGE = "swagger-ui-dist"
# Where `npm ci` puts the package: vendored into the Python package (Docker image), or the checkout's.
ASSET_DIRS = (STATIC / "vendor" / PACKAGE, STATIC.parents[2] / "node_modules" / PACKAGE)
ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
TEXT = {"type": "string"}


async def store_spec(app: web.Application) -> None:
    """Build the document once at start-up, when every route is registered."""
    app[OPENAPI] = build_spec(app)


@endpoint("This OpenAPI 3.1 document", response={"type": "object"}, db=False, tags=("service",))
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


@endpoint("API documentation page (Swagger UI)", response=TEXT, content_type="text/html", db=False)
async def docs_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "docs" / "index.html", headers={"Content-Type": "text/html"})


def asset_path(name: str) -> Path | None:
    """The file behind a docs asset name, or None (unknown name, or npm assets not installed)."""
    if name == "docs-init.js":
        return STATIC / "docs" / name
    if name not in ASSETS:
        return None
    return next((d / name for d in ASSET_DIRS if (d / name).is_file()), None)


@endpoint(
    "A Swagger UI asset (installed by `npm ci`)",
    response={"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    params={"name": {"type": "string", "enum": [*ASSETS, "docs-init.js"]}},
    errors=(404,),
    db=False,
)
async def docs_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = asset_path(name)
    if path is None:
        raise web.HTTPNotFound()
    ctype = ASSETS.get(name, "application/javascript")
    return web.FileResponse(path, headers={"Content-Type": ctype, "Cache-Control": "public, max-age=86400"})
