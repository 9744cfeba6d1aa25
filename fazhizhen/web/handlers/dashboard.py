"""The bureau's dashboard: one static page (login first) that calls the metrics API with its token."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from fazhizhen.web.openapi import endpoint

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "dashboard" / "index.html"
# no inline script, everything from this origin: user text cannot become code
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@endpoint(
    "The bureau's dashboard page (Chinese); its figures need a bureau token",
    response={"type": "string"},
    content_type="text/html",
    db=False,
    tags=("dashboard",),
)
async def page(request: web.Request) -> web.FileResponse:
    """GET /dashboard: the page itself is public; every figure it shows needs a bureau token."""
    return web.FileResponse(PAGE, headers=HEADERS)


def setup(app: web.Application) -> None:
    """Routes of the page and its static files (ECharts under vendor/, copied there by `make`)."""
    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard/", page)
    app.router.add_static("/dashboard/static", STATIC, append_version=False)
