"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from aiohttp import web

from fazhizhen import observability as obs
from fazhizhen.db.pool import probe
from fazhizhen.keys import DB_POOL, DSN
from fazhizhen.models.responses import HealthOut, ReadyOut
from fazhizhen.services import ops
from fazhizhen.web.jsonio import respond
from fazhizhen.web.openapi import endpoint


@endpoint("Liveness: 200 while the process runs", response=HealthOut, db=False, tags=("service",))
async def healthz(request: web.Request) -> web.Response:
    return respond({"status": "ok"})


@endpoint(
    "Readiness: 200 when the database answers, 503 otherwise",
    response=ReadyOut,
    responses={503: ReadyOut},
    db=False,
    tags=("service",),
)
async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(3):
            failure = await probe(request.app[DSN], seconds=2)
    except TimeoutError:
        failure = "TimeoutError"
    if failure is not None:
        return respond({"status": "unavailable", "database": failure}, status=503)
    return respond({"status": "ok", "database": "ok"})


@endpoint(
    "Prometheus metrics (text exposition format)",
    description="Scrape every process; restrict access at the reverse proxy (docs/OPERATIONS.md).",
    response={"type": "string"},
    content_type="text/plain",
    db=False,
    tags=("service",),
)
async def metrics(request: web.Request) -> web.Response:
    pool = request.app[DB_POOL]
    obs.set_pool_usage(pool.get_size(), pool.get_idle_size(), pool.get_max_size())
    obs.set_database_state(await ops.snapshot(pool))
    body, content_type = obs.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})
