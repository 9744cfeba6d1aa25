"""A resident's own data: export everything, or erase (anonymise) themselves."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL
from fazhizhen.services import privacy
from fazhizhen.web.jsonio import respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint


@endpoint("Everything stored about me (JSON download)", roles=("resident",), response={"type": "object"})
async def export_me(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    async with request.app[DB_POOL].acquire() as conn:
        data = await privacy.export_resident(conn, who.id)
    response = respond(data)
    response.headers["Content-Disposition"] = 'attachment; filename="fazhizhen-my-data.json"'
    return response


@endpoint("Anonymise me: my questions stay in statistics without content or identity", roles=("resident",), status=204)
async def delete_me(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    async with request.app[DB_POOL].acquire() as conn:
        await privacy.erase_resident(conn, who.id)
    return web.Response(status=204)
