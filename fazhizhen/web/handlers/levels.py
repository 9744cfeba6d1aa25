"""The A-D split by place against the 90% goal (the plain split is /metrics/levels in handlers/metrics.py)."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.levels import LevelsBreakdownQuery
from fazhizhen.models.responses import LevelsBreakdownOut
from fazhizhen.services import metrics
from fazhizhen.web.jsonio import parse_query, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint


@endpoint(
    "The A-D split by district, street or community against the 90% goal",
    roles=("bureau",),
    query=LevelsBreakdownQuery,
    response=LevelsBreakdownOut,
)
async def breakdown(request: web.Request) -> web.Response:
    """The A-D split per place from the rollups (`source=raw`: the raw tables)."""
    await principal(request, "bureau")
    query = parse_query(request, LevelsBreakdownQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await metrics.levels_breakdown(conn, request.app[SETTINGS], query))
