"""The bureau's resolution-level metrics: the A-D split and its breakdown by place."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.levels import LevelsBreakdownQuery, LevelsQuery
from fazhizhen.services import levels as svc
from fazhizhen.web.jsonio import parse_query, respond
from fazhizhen.web.middleware import principal


async def levels(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    query = parse_query(request, LevelsQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.levels(conn, request.app[SETTINGS], query))


async def breakdown(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    query = parse_query(request, LevelsBreakdownQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.breakdown(conn, request.app[SETTINGS], query))
