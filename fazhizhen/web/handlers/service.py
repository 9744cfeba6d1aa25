"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from aiohttp import web

from fazhizhen.keys import DB_POOL
from fazhizhen.web.jsonio import respond


async def healthz(request: web.Request) -> web.Response:
    return respond({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(2):
            async with request.app[DB_POOL].acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception as exc:  # any failure to answer means not ready
        return respond({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return respond({"status": "ok", "database": "ok"})
