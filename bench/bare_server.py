"""The anchor: the least an aiohttp + asyncpg service can do per question (parse JSON, one INSERT, reply).

python bench/bare_server.py DSN PORT
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

POOL = web.AppKey("pool", asyncpg.Pool)

CREATE = """CREATE TABLE IF NOT EXISTS bench_bare (
    id bigserial PRIMARY KEY, community_id bigint NOT NULL, content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""


async def create(request: web.Request) -> web.Response:
    body = await request.json()
    row = await request.app[POOL].fetchrow(
        "INSERT INTO bench_bare (community_id, content) VALUES ($1, $2) RETURNING id, created_at",
        int(body["community_id"]),
        str(body["content"]),
    )
    return web.Response(
        status=201,
        text=json.dumps({"id": row["id"], "created_at": row["created_at"].isoformat()}),
        content_type="application/json",
    )


def make_app(dsn: str) -> web.Application:
    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=20)
        assert pool is not None
        await pool.execute(CREATE)
        app[POOL] = pool
        yield
        await pool.close()

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post("/api/v1/questions", create)
    app.router.add_get("/readyz", lambda r: web.json_response({"status": "ok"}))
    return app


if __name__ == "__main__":
    web.run_app(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
